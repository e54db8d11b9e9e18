"""Browse an extract (a folder, or a SIP/AIP tar read in place): arkiv → arkivdel → klasse (the patients) → mappe
(journals) → registrering → dokumentbeskrivelse → dokumentobjekt, each node's metadata with its skjerming, and
the documents in the page with their checksum verified on open.

The pages read the :mod:`.index` (built on first open, in the background, with a progress page).  Names and
fødselsnummer are masked unless the session's reveal switch is on: the patient's klasseID and tittel, the
journal's tittel (its offentligTittel is shown instead), every element whose name says it holds a name or a
person number, and every value that holds a valid fødselsnummer, D- or H-nummer.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import threading
from pathlib import PurePosixPath

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from starlette.routing import Route

from ..locale import N_, tr
from ..sources.keys import holds_person_number
from .context import Target, WebContext, bind
from .index import Build, ExtractIndex, IndexError_, IndexManager, Node

PAGE = 100
TEXT_LIMIT = 1 << 20  #: text documents shown in the page up to this size

#: (node kind, path) whose value identifies the patient
IDENTIFYING_PATHS = {("klasse", "klasseID"), ("klasse", "tittel"), ("mappe", "tittel")}
_NAMEISH = re.compile(r"(navn|name|f(o|ø)dselsn|fnr|personn|f(o|ø)dselsdato|adresse|telefon|e-?post|forfatter|"
                      r"ansvarlig|saksbehandler|partID)", re.I)
_NOT_IDENTIFYING = {"arkivskaperNavn", "partRolle", "korrespondanseparttype", "journalenhet"}

KIND_LABELS = {"arkiv": N_("arkiv"), "arkivdel": N_("arkivdel"), "klassifikasjonssystem": N_("klassifikasjonssystem"),
               "klasse": N_("klasse"), "mappe": N_("mappe"), "registrering": N_("registrering"),
               "dokumentbeskrivelse": N_("dokumentbeskrivelse"), "dokumentobjekt": N_("dokumentobjekt")}
#: what a person opens in the page (the rest is offered as a download)
VIEWABLE = {"application/pdf": "pdf", "image/png": "image", "image/jpeg": "image", "image/gif": "image",
            "image/webp": "image", "text/plain": "text", "text/csv": "text"}
_PDF_PUIDS = {"fmt/14", "fmt/15", "fmt/16", "fmt/17", "fmt/18", "fmt/19", "fmt/20", "fmt/95", "fmt/276", "fmt/354",
              "fmt/476", "fmt/477", "fmt/478", "fmt/479", "fmt/480", "fmt/481", "fmt/1910", "fmt/1911", "fmt/1912"}


def is_identifying(kind: str, path: str, value: str) -> bool:
    """Is this metadata value a name or a person number (masked unless the session reveals)?"""
    if (kind, path) in IDENTIFYING_PATHS:
        return True
    leaf = path.rpartition("/")[2]
    if leaf in _NOT_IDENTIFYING:
        return False
    if _NAMEISH.search(leaf):
        return True
    return holds_person_number(value)


def _managers(ctx: WebContext) -> IndexManager:
    m = getattr(ctx, "_browse_indexes", None)
    if m is None:
        with _LOCK:
            m = getattr(ctx, "_browse_indexes", None)
            if m is None:
                m = IndexManager(ctx.state_dir)
                ctx._browse_indexes = m
    return m


_LOCK = threading.Lock()


def _target(ctx: WebContext, request: Request) -> Target:
    t = ctx.target(request.path_params["tid"])
    if t.kind not in ("extract", "sip"):
        raise HTTPException(404)
    return t


def _index(ctx: WebContext, t: Target) -> ExtractIndex | Build:
    try:
        return _managers(ctx).get(t.path)
    except (IndexError_, OSError):
        raise HTTPException(404) from None


# --------------------------------------------------------------------------- what a node shows

def view_node(node: Node, reveal: bool) -> dict:
    """What a list or a heading shows of ``node``: its number, its title (or the offentligTittel when the title
    is masked), whether it is screened."""
    title = node.get("tittel")
    masked = False
    if title is not None and not reveal and is_identifying(node.kind, "tittel", title):
        masked = True
        title = node.get("offentligTittel")
    ident = node.ident
    ident_masked = bool(ident) and not reveal and is_identifying(node.kind, _ident_path(node.kind), ident)
    if node.kind == "dokumentobjekt":
        ref = node.get("referanseDokumentfil")
        title = PurePosixPath(ref).name if ref else node.get("format")
    return {"id": node.id, "kind": node.kind, "type": node.type, "kind_label": tr(KIND_LABELS.get(node.kind, node.kind)),
            "ident": None if ident_masked else ident, "ident_masked": ident_masked, "title": title,
            "title_masked": masked, "screened": bool(node.skjerming), "nchildren": node.nchildren,
            "date": node.get("journaldato") or node.get("opprettetDato"), "line": node.line}


def _ident_path(kind: str) -> str:
    return {"klasse": "klasseID", "mappe": "mappeID", "registrering": "registreringsID",
            "dokumentbeskrivelse": "dokumentnummer", "dokumentobjekt": "versjonsnummer"}.get(kind, "")


def metadata_rows(node: Node, reveal: bool) -> list[dict]:
    rows = []
    for path, value in node.meta:
        if path.startswith("skjerming/"):
            continue
        masked = not reveal and is_identifying(node.kind, path, value)
        rows.append({"path": path, "value": None if masked else value, "masked": masked})
    return rows


# --------------------------------------------------------------------------- pages

def browse_home(ctx: WebContext, request: Request):
    """The top of the tree; with ``?systemID=`` (or ``sid``) or ``?line=`` the node they name (a finding's link)."""
    t = _target(ctx, request)
    ix = _index(ctx, t)
    if isinstance(ix, Build):
        return _progress_page(ctx, request, t, ix)
    q = request.query_params
    if q.get("systemID") or q.get("sid") or q.get("line"):
        return _found(t, ix, q.get("systemID") or q.get("sid"), q.get("line"))
    reveal = ctx.reveal(request)
    roots = [{"node": view_node(r, reveal), "children": [view_node(c, reveal) for c in ix.children(r.id, 0, PAGE)]}
             for r in ix.roots()]
    counts = {k: ix.count(k) for k in ("klasse", "mappe", "registrering", "dokumentobjekt")}
    return ctx.render(request, "browse.html.j2", target=t, roots=roots, counts=counts, info=ix.info)


def _progress_page(ctx: WebContext, request: Request, t: Target, b: Build):
    pct = int(100 * b.done / b.total) if b.total else None
    return ctx.render(request, "browse_progress.html.j2", status_code=202 if not b.error else 500, target=t, build=b,
                      percent=pct)


def browse_status(ctx: WebContext, request: Request):
    t = _target(ctx, request)
    ix = _index(ctx, t)
    if isinstance(ix, Build):
        return JSONResponse({"ready": False, "done": ix.done, "total": ix.total, "error": ix.error})
    return JSONResponse({"ready": True, "nodes": ix.info.get("nodes")})


def browse_retry(ctx: WebContext, request: Request):
    t = _target(ctx, request)
    try:
        _managers(ctx).retry(t.path)
    except (IndexError_, OSError):
        raise HTTPException(404) from None
    return RedirectResponse(f"/t/{t.id}/browse", status_code=303)


def _ready(ctx: WebContext, request: Request) -> tuple[Target, ExtractIndex]:
    t = _target(ctx, request)
    ix = _index(ctx, t)
    if isinstance(ix, Build):
        raise _NotReady(t)
    return t, ix


class _NotReady(Exception):
    def __init__(self, t: Target) -> None:
        self.target = t


def _int(value, default: int = 0) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


def browse_node(ctx: WebContext, request: Request):
    try:
        t, ix = _ready(ctx, request)
    except _NotReady as e:
        return RedirectResponse(f"/t/{e.target.id}/browse", status_code=303)
    node = ix.node(_int(request.path_params["node"]))
    if node is None:
        raise HTTPException(404)
    reveal = ctx.reveal(request)
    page = _int(request.query_params.get("page"), 1) or 1
    pages = max(1, -(-node.nchildren // PAGE))
    page = min(page, pages)
    children = [view_node(c, reveal) for c in ix.children(node.id, (page - 1) * PAGE, PAGE)]
    return ctx.render(request, "browse_node.html.j2", target=t, node=view_node(node, reveal),
                      crumbs=[view_node(a, reveal) for a in ix.ancestors(node)], meta=metadata_rows(node, reveal),
                      skjerming=node.skjerming, children=children, page=page, pages=pages,
                      screened_fields=node.all("skjerming/skjermingMetadata"))


def browse_find(ctx: WebContext, request: Request):
    """``?sid=<systemID>`` or ``?line=<n>`` → the node (a finding's link)."""
    try:
        t, ix = _ready(ctx, request)
    except _NotReady as e:
        return RedirectResponse(f"/t/{e.target.id}/browse", status_code=303)
    q = request.query_params
    return _found(t, ix, q.get("systemID") or q.get("sid"), q.get("line"))


def _found(t: Target, ix: ExtractIndex, sid: str | None, line: str | None):
    node = ix.by_system_id(sid) if sid else ix.at_line(_int(line)) if line else None
    if node is None:
        raise HTTPException(404)
    where = "doc" if node.kind == "dokumentobjekt" else "browse"
    return RedirectResponse(f"/t/{t.id}/{where}/{node.id}", status_code=303)


# --------------------------------------------------------------------------- documents

def _document(ctx: WebContext, request: Request) -> tuple[Target, ExtractIndex, Node]:
    t, ix = _ready(ctx, request)
    node = ix.node(_int(request.path_params["node"]))
    if node is None or node.kind not in ("dokumentobjekt", "dokumentbeskrivelse"):
        raise HTTPException(404)
    return t, ix, node


def _media_type(node: Node) -> str:
    ref = node.get("referanseDokumentfil") or ""
    mt = mimetypes.guess_type(ref)[0]
    if mt is None and (node.get("format") or "") in _PDF_PUIDS:
        mt = "application/pdf"
    return mt or "application/octet-stream"


def _open_document(ctx: WebContext, t: Target, ix: ExtractIndex, node: Node):
    """(a readable binary file positioned at the document, its size, the path for a FileResponse or None)."""
    ref = node.get("referanseDokumentfil")
    if not ref:
        raise HTTPException(404)
    src = ix.source
    if src.tar is not None:
        parts = [x for x in ref.replace("\\", "/").split("/") if x not in ("", ".")]
        if not parts or ".." in parts:
            raise HTTPException(404)
        where = ix.member("content/" + "/".join(parts))
        if where is None:
            raise HTTPException(404)
        f = open(src.tar, "rb")
        f.seek(where[0])
        return _Limited(f, where[1]), where[1], None
    try:
        rel = (src.base / ref).relative_to(t.path).as_posix() if src.base != t.path else ref
    except ValueError:
        raise HTTPException(404) from None
    path = ctx.safe_path(t, rel)
    if not path.is_file():
        raise HTTPException(404)
    return open(path, "rb"), path.stat().st_size, path


class _Limited:
    """The ``size`` bytes of a tar member, read from the tar's file."""

    def __init__(self, f, size: int) -> None:
        self.f, self.left = f, size

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.f.close()

    def __enter__(self) -> "_Limited":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_VERIFIED: dict[tuple[str, int], dict] = {}


def verify_checksum(ctx: WebContext, t: Target, ix: ExtractIndex, node: Node) -> dict:
    """The document's checksum, computed now (once per server), against dokumentobjekt/sjekksum."""
    key = (str(ix.path), node.id)
    if key in _VERIFIED:
        return _VERIFIED[key]
    recorded = (node.get("sjekksum") or "").strip().lower()
    algorithm = (node.get("sjekksumAlgoritme") or "SHA256").replace("-", "").lower()
    name = {"sha256": "sha256", "sha512": "sha512", "sha1": "sha1", "md5": "md5"}.get(algorithm)
    f, size, _ = _open_document(ctx, t, ix, node)
    try:
        h = hashlib.new(name or "sha256")
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
    finally:
        f.close()
    actual = h.hexdigest()
    if not recorded:
        state, text = "none", tr("dokumentobjekt has no sjekksum; {algorithm} of the file: {actual}",
                                 algorithm=h.name.upper(), actual=actual)
    elif name is None:
        state, text = "unknown", tr("the sjekksumAlgoritme {algorithm} is not one this page can compute",
                                    algorithm=node.get("sjekksumAlgoritme"))
    elif actual == recorded:
        state, text = "ok", tr("{algorithm} matches dokumentobjekt/sjekksum", algorithm=h.name.upper())
    else:
        state, text = "mismatch", tr("{algorithm} of the file is {actual}, dokumentobjekt/sjekksum says {recorded}",
                                     algorithm=h.name.upper(), actual=actual, recorded=recorded)
    res = {"state": state, "text": text, "size": size}
    _VERIFIED[key] = res
    return res


def document_page(ctx: WebContext, request: Request):
    try:
        t, ix, node = _document(ctx, request)
    except _NotReady as e:
        return RedirectResponse(f"/t/{e.target.id}/browse", status_code=303)
    if node.kind == "dokumentbeskrivelse":
        first = next((c for c in ix.children(node.id, 0, PAGE) if c.kind == "dokumentobjekt"), None)
        if first is None:
            return RedirectResponse(f"/t/{t.id}/browse/{node.id}", status_code=303)
        return RedirectResponse(f"/t/{t.id}/doc/{first.id}", status_code=303)
    reveal = ctx.reveal(request)
    media = _media_type(node)
    view = VIEWABLE.get(media, "download")
    text = None
    try:
        check = verify_checksum(ctx, t, ix, node)
    except HTTPException:
        check = {"state": "missing", "text": tr("the file is not in the extract: {ref}",
                                                ref=node.get("referanseDokumentfil") or ""), "size": None}
        view = "missing"
    if view == "text":
        f, size, _ = _open_document(ctx, t, ix, node)
        with f:
            raw = f.read(TEXT_LIMIT)
        text = raw.decode("utf-8", "replace")
        if size > TEXT_LIMIT:
            text += "\n…"
    return ctx.render(request, "document.html.j2", target=t, node=view_node(node, reveal),
                      crumbs=[view_node(a, reveal) for a in ix.ancestors(node)], meta=metadata_rows(node, reveal),
                      check=check, view=view, media=media, text=text)


def document_file(ctx: WebContext, request: Request):
    try:
        t, ix, node = _document(ctx, request)
    except _NotReady:
        raise HTTPException(404) from None
    if node.kind != "dokumentobjekt":
        raise HTTPException(404)
    media = _media_type(node)
    inline = media in VIEWABLE
    name = PurePosixPath(node.get("referanseDokumentfil") or "document").name
    disposition = "inline" if inline else "attachment"
    # framed by the document page only; a text or an image cannot run anything (sandbox); a PDF needs the
    # browser's viewer, which a sandbox blocks
    csp = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    if media != "application/pdf":
        csp += "; sandbox"
    headers = {"content-security-policy": csp, "content-disposition": f'{disposition}; filename="{_ascii(name)}"',
               "cache-control": "private, no-store"}
    if media.startswith("text/"):
        media += "; charset=utf-8"
    f, size, path = _open_document(ctx, t, ix, node)
    if path is not None:
        f.close()
        return FileResponse(path, media_type=media, headers=headers)

    def chunks():
        try:
            while True:
                data = f.read(1 << 16)
                if not data:
                    break
                yield data
        finally:
            f.close()

    headers["content-length"] = str(size)
    return StreamingResponse(chunks(), media_type=media, headers=headers)


def _ascii(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100] or "document"


def routes(ctx: WebContext) -> list:
    return [
        Route("/t/{tid}/browse", bind(browse_home, ctx), name="browse"),
        Route("/t/{tid}/browse/status", bind(browse_status, ctx), name="browse_status"),
        Route("/t/{tid}/browse/retry", bind(browse_retry, ctx), methods=["POST"], name="browse_retry"),
        Route("/t/{tid}/browse/find", bind(browse_find, ctx), name="browse_find"),
        Route("/t/{tid}/browse/{node:int}", bind(browse_node, ctx), name="browse_node"),
        Route("/t/{tid}/doc/{node:int}", bind(document_page, ctx), name="document"),
        Route("/t/{tid}/doc/{node:int}/file", bind(document_file, ctx), name="document_file"),
    ]


__all__ = ["routes", "is_identifying", "view_node", "metadata_rows", "verify_checksum"]
