"""Browse an extract (a folder, or a SIP/AIP tar read in place): arkiv → arkivdel → klasse (the patients) → mappe
(journals) → registrering → dokumentbeskrivelse → dokumentobjekt, each node's metadata with its skjerming, and
the documents in the page with their checksum verified on open.

The pages read the :mod:`.index` (built on first open, in the background, with a progress page).  Names and
fødselsnummer are masked unless the session's reveal switch is on: the patient's klasseID and tittel, the
journal's tittel (its offentligTittel is shown instead), every element whose name says it holds a name or a
person number, and every value that holds a valid fødselsnummer, D- or H-nummer.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from starlette.routing import Route

from ..locale import tr
from .browsecore import (
    TEXT_LIMIT,
    VIEWABLE,
    NotReady,
    as_int,
    ascii_name,
    browse_target,
    index_of,
    managers,
    package_info,
    pakke_of,
    progress_page,
    ready,
    verify_sum,
)
from .browseview import COUNTED, KIND_LABELS, is_identifying, metadata_rows, view_node  # noqa: F401
from .context import Target, WebContext, bind
from .index import Build, ExtractIndex, IndexError_, Node

PAGE = 100
_PDF_PUIDS = {"fmt/14", "fmt/15", "fmt/16", "fmt/17", "fmt/18", "fmt/19", "fmt/20", "fmt/95", "fmt/276", "fmt/354",
              "fmt/476", "fmt/477", "fmt/478", "fmt/479", "fmt/480", "fmt/481", "fmt/1910", "fmt/1911", "fmt/1912"}


# --------------------------------------------------------------------------- pages

def browse_home(ctx: WebContext, request: Request):
    """The top of the tree; with ``?systemID=`` (or ``sid``) or ``?line=`` the node they name (a finding's link)."""
    t = browse_target(ctx, request)
    ix = index_of(ctx, t)
    if isinstance(ix, Build):
        return progress_page(ctx, request, t, ix)
    q = request.query_params
    if q.get("systemID") or q.get("sid") or q.get("line"):
        return _found(t, ix, q.get("systemID") or q.get("sid"), q.get("line"))
    reveal = ctx.reveal(request)
    roots = [{"node": view_node(r, reveal), "children": [view_node(c, reveal) for c in ix.children(r.id, 0, PAGE)]}
             for r in ix.roots()]
    counts = [(tr(KIND_LABELS[k]), n) for k in COUNTED if (n := ix.count(k))]
    return ctx.render(request, "browse.html.j2", target=t, roots=roots, counts=counts, info=ix.info)


def browse_status(ctx: WebContext, request: Request):
    t = browse_target(ctx, request)
    ix = index_of(ctx, t)
    if isinstance(ix, Build):
        return JSONResponse({"ready": False, "done": ix.done, "total": ix.total, "error": ix.error})
    return JSONResponse({"ready": True, "nodes": ix.info.get("nodes")})


def browse_retry(ctx: WebContext, request: Request):
    t = browse_target(ctx, request)
    try:
        managers(ctx).retry(t.path)
    except (IndexError_, OSError):
        raise HTTPException(404) from None
    return RedirectResponse(f"/t/{t.id}/browse", status_code=303)


def browse_node(ctx: WebContext, request: Request):
    try:
        t, ix = ready(ctx, request)
    except NotReady as e:
        return RedirectResponse(f"/t/{e.target.id}/browse", status_code=303)
    node = ix.node(as_int(request.path_params["node"]))
    if node is None:
        raise HTTPException(404)
    reveal = ctx.reveal(request)
    page = as_int(request.query_params.get("page"), 1) or 1
    pages = max(1, -(-node.nchildren // PAGE))
    page = min(page, pages)
    children = [view_node(c, reveal) for c in ix.children(node.id, (page - 1) * PAGE, PAGE)]
    extra = {}
    if node.kind == "pasientjournal":  # NHA: the packages the journal is in (lagringsenhet), its EPJ sak in them
        from .nhabrowse import journal_links

        extra["packages"] = [{**view_node(p, reveal), **journal_links(t, node, p)} for v in node.all("lagringsenhet")
                             if (p := ix.by_key(v, "pakke", "filReferanse")) is not None]
    elif node.kind == "pakke":
        from .nhabrowse import package_links

        extra.update(package_info(ctx, t, ix, node), **package_links(t, node))
    nha = ix.source.nha
    extra["xml_file"] = "arkivstruktur.xml" if nha is None else nha[0 if node.kind in ("avlxml", "pasientjournal")
                                                                    else 1].name
    return ctx.render(request, "browse_node.html.j2", target=t, node=view_node(node, reveal), **extra,
                      crumbs=[view_node(a, reveal) for a in ix.ancestors(node)], meta=metadata_rows(node, reveal),
                      skjerming=node.skjerming, children=children, page=page, pages=pages,
                      screened_fields=node.all("skjerming/skjermingMetadata"))


def browse_find(ctx: WebContext, request: Request):
    """``?sid=<systemID>`` or ``?line=<n>`` → the node (a finding's link)."""
    try:
        t, ix = ready(ctx, request)
    except NotReady as e:
        return RedirectResponse(f"/t/{e.target.id}/browse", status_code=303)
    q = request.query_params
    return _found(t, ix, q.get("systemID") or q.get("sid"), q.get("line"))


def _found(t: Target, ix: ExtractIndex, sid: str | None, line: str | None):
    node = ix.by_system_id(sid) if sid else ix.at_line(as_int(line)) if line else None
    if node is None:
        raise HTTPException(404)
    where = "doc" if node.kind == "dokumentobjekt" else "browse"
    return RedirectResponse(f"/t/{t.id}/{where}/{node.id}", status_code=303)


# --------------------------------------------------------------------------- documents

def _document(ctx: WebContext, request: Request) -> tuple[Target, ExtractIndex, Node]:
    t, ix = ready(ctx, request)
    node = ix.node(as_int(request.path_params["node"]))
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


def verify_checksum(ctx: WebContext, t: Target, ix: ExtractIndex, node: Node) -> dict:
    """The document's checksum, computed now (once per server), against dokumentobjekt/sjekksum."""
    def opener():
        f, size, _ = _open_document(ctx, t, ix, node)
        return f, size

    return verify_sum((str(ix.path), node.id), opener, node.get("sjekksum"), node.get("sjekksumAlgoritme") or "SHA256",
                   "dokumentobjekt/sjekksum")


def document_page(ctx: WebContext, request: Request):
    try:
        t, ix, node = _document(ctx, request)
    except NotReady as e:
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
    except NotReady:
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
    headers = {"content-security-policy": csp, "content-disposition": f'{disposition}; filename="{ascii_name(name)}"',
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


# --------------------------------------------------------------------------- NHA packages


def package_member(ctx: WebContext, request: Request):
    """One member of an NHA package, read in place.  Its XML (pasientinfo, the EPJ's metadata) holds names and
    fødselsnummer: shown only while the session reveals them; the document files are shown like an extract's."""
    import tarfile

    t, ix, node, path = pakke_of(ctx, request)
    want = as_int(request.query_params.get("i"), -1)
    with tarfile.open(path, "r:") as tar:
        regular = [m for m in tar.getmembers() if m.isreg()]
        if not 0 <= want < len(regular):
            raise HTTPException(404)
        m = regular[want]
        data = tar.extractfile(m).read()
    media = mimetypes.guess_type(m.name)[0] or "application/octet-stream"
    if media in ("application/xml", "text/xml"):
        if not ctx.reveal(request):
            raise HTTPException(403, detail=tr("This file holds names and fødselsnummer: turn on the switch that "
                                               "shows them first."))
        media = "text/plain"
    inline = media in VIEWABLE
    csp = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    if media != "application/pdf":
        csp += "; sandbox"
    headers = {"content-security-policy": csp, "cache-control": "private, no-store",
               "content-disposition": f'{"inline" if inline else "attachment"}; filename="{ascii_name(m.name)}"'}
    from starlette.responses import Response

    return Response(data, media_type=media + ("; charset=utf-8" if media.startswith("text/") else ""),
                    headers=headers)


def routes(ctx: WebContext) -> list:
    return [
        Route("/t/{tid}/browse", bind(browse_home, ctx), name="browse"),
        Route("/t/{tid}/browse/status", bind(browse_status, ctx), name="browse_status"),
        Route("/t/{tid}/browse/retry", bind(browse_retry, ctx), methods=["POST"], name="browse_retry"),
        Route("/t/{tid}/browse/find", bind(browse_find, ctx), name="browse_find"),
        Route("/t/{tid}/browse/{node:int}", bind(browse_node, ctx), name="browse_node"),
        Route("/t/{tid}/doc/{node:int}", bind(document_page, ctx), name="document"),
        Route("/t/{tid}/doc/{node:int}/file", bind(document_file, ctx), name="document_file"),
        Route("/t/{tid}/nha/{node:int}/member", bind(package_member, ctx), name="package_member"),
        *_nha_routes(ctx),
    ]


def _nha_routes(ctx: WebContext) -> list:
    """An NHA package's EPJ tree, its documents, an NHA finding's place (:mod:`.nhabrowse`)."""
    from . import nhabrowse

    return nhabrowse.routes(ctx)


__all__ = ["routes", "is_identifying", "view_node", "metadata_rows", "verify_checksum"]
