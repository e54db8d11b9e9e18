"""NHA pages (issue 21, points 3 and 4): an epj package's EPJ as a tree (:mod:`.nhaepj` reads it), its documents
in the page, and the place of an NHA finding.

A document file opens in the page (:func:`document_page`) with the package's SHA-256 checked against the
epjpakkeliste's sjekksum (the list's checksum covers every byte of the package, the document's too) and the
document's own SHA-256 shown.  :func:`find` takes an NHA finding's journal, package and member to its page.
"""

from __future__ import annotations

import hashlib
import mimetypes
import tarfile
from pathlib import PurePosixPath
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, StreamingResponse
from starlette.routing import Route

from ..locale import tr
from .browsecore import (
    TEXT_LIMIT,
    VIEWABLE,
    ascii_name,
    browse_target,
    index_of,
    package_info,
    pakke_of,
    progress_page,
)
from .browseview import view_node
from .context import WebContext, bind
from .index import Build
from .masking import MASK, mask_person_numbers
from .nhaepj import EpjNode, EpjTree, anchor, epj_tree, member_anchor, sak_anchor
from .targetio import Slice, tar_members

__all__ = ["routes", "package_links", "journal_links"]


# --------------------------------------------------------------------------- the pages

def _tree_of(path) -> EpjTree:
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    tree = _TREES.get(key)
    if tree is None:
        tree = epj_tree(path, tar_members(path))
        if len(_TREES) >= 16:
            _TREES.pop(next(iter(_TREES)))
        _TREES[key] = tree
    return tree


_TREES: dict[tuple, EpjTree] = {}


def epj_page(ctx: WebContext, request: Request):
    """``/t/{tid}/nha/{node}/epj``: the EPJ of an epj package as a tree."""
    t, ix, node, path = pakke_of(ctx, request)
    if node.get("pakketype") != "epj":  # a dok package holds document files only: its list of files
        return RedirectResponse(f"/t/{t.id}/browse/{node.id}", status_code=303)
    reveal = ctx.reveal(request)
    try:
        tree = _tree_of(path)
    except (OSError, EOFError, tarfile.TarError) as e:
        raise HTTPException(422, detail=tr("The file cannot be read: {reason}", reason=type(e).__name__)) from None
    def doc_url(el: EpjNode) -> str | None:
        if not el.document:
            return None
        pkg = node if el.document["package"] == node.get("filReferanse") else \
            ix.by_key(el.document["package"], "pakke", "filReferanse")
        if pkg is None:
            return None
        return f"/t/{t.id}/nha/{pkg.id}/doc?" + urlencode({"m": el.document["member"]})

    check = package_info(ctx, t, ix, node)["check"]
    return ctx.render(request, "nha_epj.html.j2", target=t, pakke=view_node(node, reveal),
                      crumbs=[view_node(a, reveal) for a in ix.ancestors(node)] + [view_node(node, reveal)],
                      tree=tree, shown=lambda n: tree.shown(n, reveal), title=lambda d: tree.title(d, reveal),
                      doc_url=doc_url, anchor=anchor, sak_anchor=sak_anchor, tar=node.get("filReferanse"),
                      check=check)


def _file_member(path, member: str | None) -> tuple[str, int, int]:
    """(name, offset, size) of the regular member ``member`` of the package ``path``; 404 when there is none."""
    if not member:
        raise HTTPException(404)
    found = tar_members(path, xml_only=False).get(member)
    if found is None:
        raise HTTPException(404)
    return member, found[0], found[1]


def _media(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


_DOC_SUMS: dict[tuple, str] = {}


def document_page(ctx: WebContext, request: Request):
    """``/t/{tid}/nha/{node}/doc?m=<member>``: a document file of a package, in the page, the package's checksum
    checked against the epjpakkeliste and the file's SHA-256 shown."""
    t, ix, node, path = pakke_of(ctx, request)
    name, offset, size = _file_member(path, request.query_params.get("m"))
    media = _media(name)
    if media in ("application/xml", "text/xml"):  # the EPJ's XML: its place in the tree
        return RedirectResponse(f"/t/{t.id}/nha/{node.id}/epj#{anchor(name)}", status_code=303)
    reveal = ctx.reveal(request)
    check = package_info(ctx, t, ix, node)["check"]
    check = {**check, "text": tr("the package {name}, which holds the file: {result}",
                                 name=node.get("filReferanse") or "", result=check["text"])}
    st = path.stat()
    key = (str(path), st.st_mtime_ns, name)
    digest = _DOC_SUMS.get(key)
    with open(path, "rb") as fp:
        fp.seek(offset)
        data = Slice(fp, size)
        if digest is None:
            h = hashlib.sha256()
            while chunk := data.read(1 << 20):
                h.update(chunk)
            if len(_DOC_SUMS) >= 4096:
                _DOC_SUMS.pop(next(iter(_DOC_SUMS)))
            digest = _DOC_SUMS[key] = h.hexdigest()
            fp.seek(offset)
            data = Slice(fp, size)
        view = VIEWABLE.get(media, "download")
        text = data.read(TEXT_LIMIT).decode("utf-8", "replace") if view == "text" else None
    if text is not None and not reveal:
        text = mask_person_numbers(text, MASK)
    # what the EPJ says of the file: the data element that points to it and its EPJ dokument
    meta, entry = [], None
    tree = None
    if node.get("pakketype") == "epj":
        try:
            tree = _tree_of(path)
        except (OSError, EOFError, tarfile.TarError):
            tree = None
    if tree is not None:
        for _sak, docs in tree.saker:
            for d in [x for x in docs if x is not None] + tree.unreferenced:
                for el in _walk(d):
                    if el.document and el.document["member"] == name:
                        entry, meta = d, tree.shown(el, reveal)
                        break
    pseudo = {"id": node.id, "kind": "file", "type": "file", "kind_label": tr("document file"), "ident": None,
              "ident_masked": False, "title": PurePosixPath(name).name, "title_masked": False}
    return ctx.render(request, "document.html.j2", target=t, node=pseudo,
                      crumbs=[view_node(a, reveal) for a in ix.ancestors(node)] + [view_node(node, reveal)],
                      meta=meta, check=check, view=view, media=media, text=text,
                      file_url=f"/t/{t.id}/nha/{node.id}/file?" + urlencode({"m": name}),
                      own_sum=tr("SHA-256 of the file: {digest} ({size} bytes)", digest=digest, size=size),
                      entry_url=f"/t/{t.id}/nha/{node.id}/epj#{anchor(entry.member)}" if entry is not None else None,
                      entry_title=tree.title(entry, reveal) if entry is not None else None)


def _walk(node: EpjNode):
    yield node
    for c in node.children:
        yield from _walk(c)


def document_file(ctx: WebContext, request: Request):
    """``/t/{tid}/nha/{node}/file?m=<member>``: the bytes of a document file of a package, read in place."""
    t, ix, node, path = pakke_of(ctx, request)
    name, offset, size = _file_member(path, request.query_params.get("m"))
    media = _media(name)
    if media in ("application/xml", "text/xml"):
        if not ctx.reveal(request):
            raise HTTPException(403, detail=tr("This file holds names and fødselsnummer: turn on the switch that "
                                               "shows them first."))
        media = "text/plain"
    csp = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    if media != "application/pdf":
        csp += "; sandbox"
    headers = {"content-security-policy": csp, "cache-control": "private, no-store", "content-length": str(size),
               "content-disposition": f'{"inline" if media in VIEWABLE else "attachment"}; '
                                      f'filename="{ascii_name(PurePosixPath(name).name)}"'}

    def chunks():
        with open(path, "rb") as fp:
            fp.seek(offset)
            data = Slice(fp, size)
            while chunk := data.read(1 << 16):
                yield chunk

    return StreamingResponse(chunks(), media_type=media + ("; charset=utf-8" if media.startswith("text/") else ""),
                             headers=headers)


def find(ctx: WebContext, request: Request):
    """``/t/{tid}/nha/find?journal=&file=&member=``: an NHA finding's place: the document file, the EPJ dokument
    in its package's tree, the package, or the journal."""
    t = browse_target(ctx, request)
    ix = index_of(ctx, t)
    if isinstance(ix, Build):  # the index is being built: its progress, here (the page reloads this address)
        return progress_page(ctx, request, t, ix)
    q = request.query_params
    file, member, journal = q.get("file"), q.get("member"), q.get("journal")
    if file and file.endswith(".tar"):
        pkg = ix.by_key(file, "pakke", "filReferanse")
        if pkg is not None:
            if member and member.lower().endswith(".xml") and pkg.get("pakketype") == "epj":
                return RedirectResponse(f"/t/{t.id}/nha/{pkg.id}/epj#{member_anchor(member)}", status_code=303)
            if member and not member.endswith("/"):
                return RedirectResponse(f"/t/{t.id}/nha/{pkg.id}/doc?" + urlencode({"m": member}), status_code=303)
            return RedirectResponse(f"/t/{t.id}/browse/{pkg.id}", status_code=303)
    if journal:
        j = ix.by_key(journal, "pasientjournal", "journalidentifikator")
        if j is not None:
            return RedirectResponse(f"/t/{t.id}/browse/{j.id}", status_code=303)
    raise HTTPException(404)


def package_links(t, pakke) -> dict:
    """For the browse page of a pakke: its EPJ as a tree (an epj package)."""
    if pakke.get("pakketype") == "epj":
        return {"epj_url": f"/t/{t.id}/nha/{pakke.id}/epj"}
    return {}


def journal_links(t, journal, pakke) -> dict:
    """For a pasientjournal's list of packages: the journal's EPJ sak in the tree of an epj package."""
    ident = journal.get("journalidentifikator")
    if pakke.get("pakketype") == "epj" and ident:
        return {"epj_url": f"/t/{t.id}/nha/{pakke.id}/epj#{sak_anchor(ident)}"}
    return {}


def routes(ctx: WebContext) -> list:
    return [
        Route("/t/{tid}/nha/find", bind(find, ctx), name="nha_find"),
        Route("/t/{tid}/nha/{node:int}/epj", bind(epj_page, ctx), name="nha_epj"),
        Route("/t/{tid}/nha/{node:int}/doc", bind(document_page, ctx), name="nha_document"),
        Route("/t/{tid}/nha/{node:int}/file", bind(document_file, ctx), name="nha_file"),
    ]

