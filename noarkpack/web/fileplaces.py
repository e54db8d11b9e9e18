"""The place of a finding that names a file but no line, member or systemID (verify's PK.10 "in the package but
not listed in dias-mets.xml", PK.11 "listed in the ADDML but missing" / "SHA-256 … the ADDML records …", PK.13,
PK.16, PK.19; validate's N5.01, N5.02, N5.10, N5.16, N5.28, N5.33, N5.61 …).

``/t/{tid}/file?file=<rel>&test=<code>`` (the link :func:`file_link` gives) decides when it is followed:

* a finding about the ADDML's record of a file (PK.11, N5.02), or a file that is missing: the entry that lists it
  — the ADDML's ``<property name="file">`` of the dataObject whose ``name`` is that file, with its checksum
  (``content/arkivuttrekk.xml``, then ``administrative_metadata/``, then an extract's ``arkivuttrekk.xml`` or
  ``addml.xml``), else dias-mets.xml's ``<file>`` around the ``<FLocat xlink:href>`` — shown whole as the XML
  element with its ancestors;
* an XML file: its XML page at the top (the root element, read as a stream up to there);
* any other file of the extract (a document): the document view of the dokumentobjekt whose referanseDokumentfil
  names it (:meth:`.index.ExtractIndex.by_document_file`; for a bag, in the SIP inside it), its checksum verified
  on open as always; when no dokumentobjekt names it, ``/t/{tid}/file/view``: the file itself (PDF, image, its
  first lines for text, else a download) with its SHA-256.

Everything is read in place (a folder, a SIP/AIP tar, the tar in a bag's data/): nothing is unpacked.
"""

from __future__ import annotations

import hashlib
import mimetypes
from pathlib import PurePosixPath
from urllib.parse import urlencode
from xml.parsers import expat

from .browsecore import VIEWABLE, ascii_name, index_of, progress_page
from .index import Build
from .targetio import clean_rel, inner_tars, open_in_target, text_lines
from .xmlcontext import _back

__all__ = ["file_link", "listing_line", "browse_place_of", "routes"]

#: findings about the ADDML's record of a file (its checksum, its presence): their place is the ADDML's line
RECORD_TESTS = frozenset(("PK.11", "N5.02"))
#: where a file is listed, in the order looked at: the ADDML (a SIP's two places, an extract's names), the METS
LISTINGS = ("content/arkivuttrekk.xml", "administrative_metadata/arkivuttrekk.xml",
            "administrative_metadata/addml.xml", "arkivuttrekk.xml", "addml.xml", "dias-mets.xml")
#: the targets whose findings get the link.  Not an NHA deposit: its findings with a file and no line or member
#: name a tar (they have the deposit's own link, :mod:`.nhabrowse`), the deposit folder's stray entries (NHA.01:
#: nothing to show) or a list refused for its DOCTYPE (NHA.02/03: not to be parsed)
_KINDS = ("extract", "sip", "bag", "project")


def file_link(file: str, test: str | None, place) -> str | None:
    """The link of a finding that names only ``file`` (relative to ``place``), or None when there is nothing to
    show (a folder, the tar itself, a path that leaves the target)."""
    if place is None or place.kind not in _KINDS or file.endswith("/") or clean_rel(file) is None:
        return None
    if file.lower().endswith(".tar"):
        return None  # the package itself: nothing to show
    query = {"file": file}
    if test:
        query["test"] = test
    return f"/t/{place.id}/file?" + urlencode(query)


def _names(clean: str) -> set[str]:
    """The ways a listing may name the file: as given, and below content/ (the ADDML names the SIP's content)."""
    out = {clean}
    if clean.startswith("content/"):
        out.add(clean[len("content/"):])
    return out


def _is_entry(local: str, attrs: dict) -> bool:
    """A listing's record of one file (its name, checksum, size together): the ADDML's ``<property name="file">``
    of a dataObject, the METS's ``<file>``."""
    return local == "file" or (local == "property" and attrs.get("name") == "file")


def _listed_at(fp, names: set[str]) -> int | None:
    """The line of the record of an XML listing that names one of ``names`` (:func:`_is_entry` around the element
    whose text, or whose href attribute, is that name, else that element), read as a stream, stopping there.  The
    XML page shows that element whole: the file's name with the checksum and size recorded for it, and the
    dataObject among its ancestors."""
    from ..packaging.inventory import normalise_reference

    p = expat.ParserCreate(namespace_separator=" ")
    found: list[int] = []
    stack: list[list] = []  # [a record?, line, text parts]

    def entry(line: int) -> int:
        return next((e[1] for e in reversed(stack) if e[0]), line)

    def start(name, attrs):
        line = p.CurrentLineNumber
        for k, v in attrs.items():
            if not found and k.rsplit(" ", 1)[-1] == "href" and normalise_reference(v.removeprefix("file:")) in names:
                found.append(entry(line))
        stack.append([_is_entry(name.rsplit(" ", 1)[-1], attrs), line, []])

    def end(name):
        _, line, text = stack.pop()
        if not found and text and normalise_reference("".join(text)) in names:
            found.append(entry(line))

    def chars(data):
        if stack:
            stack[-1][2].append(data)

    p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = start, end, chars
    while not found:
        chunk = fp.read(1 << 16)
        try:
            p.Parse(chunk, not chunk)
        except expat.ExpatError:
            return None
        if not chunk:
            break
    return found[0] if found else None


def listing_line(target_path, clean: str) -> tuple[str, int] | None:
    """(the listing, the line) where the ADDML, else dias-mets.xml, lists the file ``clean``; None when nothing
    lists it."""
    names = _names(clean)
    for listing in LISTINGS:
        try:
            with open_in_target(target_path, listing) as fp:
                line = _listed_at(fp, names)
        except (FileNotFoundError, IsADirectoryError, PermissionError):
            continue
        if line is not None:
            return listing, line
    return None


def _exists(target_path, clean: str) -> bool:
    try:
        with open_in_target(target_path, clean, any_file=True):
            return True
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return False


def browse_place_of(ctx, place):
    """The target whose archive a report's systemIDs name: the place itself, or the SIP inside a bag (made a
    target when first asked for)."""
    if place is None or place.kind != "bag":
        return place
    for tar in inner_tars(place.path):
        try:
            return ctx.add_target(tar)
        except ValueError:
            continue
    return None


def _document_node(ctx, request, place, clean: str):
    """A redirect to the document view of the dokumentobjekt that names ``clean``, the browse progress page while
    the index is built, or None (no browsing, no such dokumentobjekt)."""
    from starlette.responses import RedirectResponse

    if "browse" not in ctx.modules:
        return None
    bt = browse_place_of(ctx, place)
    if bt is None or bt.kind not in ("extract", "sip"):
        return None
    try:
        ix = index_of(ctx, bt)
    except Exception:  # noqa: BLE001 - no index (HTTP 404, a broken source): the file itself is shown
        return None
    if isinstance(ix, Build):
        return progress_page(ctx, request, bt, ix)  # it reloads this URL when the index is ready
    node = ix.by_document_file(_names(clean))
    return RedirectResponse(f"/t/{bt.id}/doc/{node.id}", status_code=303) if node is not None else None


def file_place(ctx, request):
    """``/t/{tid}/file?file=<rel>&test=<code>``: to the place of a finding that names only a file (module doc)."""
    from starlette.exceptions import HTTPException
    from starlette.responses import RedirectResponse

    target = ctx.target(request.path_params["tid"])
    clean = clean_rel(request.query_params.get("file") or "")
    if clean is None:
        raise HTTPException(404)
    test = request.query_params.get("test") or ""
    exists = _exists(target.path, clean)
    if test in RECORD_TESTS or not exists:
        hit = listing_line(target.path, clean)
        if hit is not None:
            return RedirectResponse(f"/t/{target.id}/xml?" + urlencode({"file": hit[0], "line": hit[1]}) + "#hit",
                                    status_code=303)
        if not exists:
            raise HTTPException(404)
    if clean.lower().endswith(".xml"):
        return RedirectResponse(f"/t/{target.id}/xml?" + urlencode({"file": clean, "line": 1}) + "#hit",
                                status_code=303)
    found = _document_node(ctx, request, target, clean)
    if found is not None:
        return found
    return RedirectResponse(f"/t/{target.id}/file/view?" + urlencode({"file": clean}), status_code=303)


def _media_type(clean: str) -> str:
    return mimetypes.guess_type(clean)[0] or "application/octet-stream"


def file_view(ctx, request):
    """``/t/{tid}/file/view?file=<rel>``: a file no dokumentobjekt names, in the page (as the document view shows
    a document), with its SHA-256; text files by their first lines, masked unless revealed."""
    from starlette.exceptions import HTTPException

    target = ctx.target(request.path_params["tid"])
    clean = clean_rel(request.query_params.get("file") or "")
    if clean is None:
        raise HTTPException(404)
    media = _media_type(clean)
    view = VIEWABLE.get(media, "download")
    lines, masked = [], False
    h, size = hashlib.sha256(), 0
    try:
        with open_in_target(target.path, clean, any_file=True) as fp:
            while chunk := fp.read(1 << 20):
                h.update(chunk)
                size += len(chunk)
        if view == "text" or clean.lower().endswith((".xsd", ".txt", ".csv", ".md")):
            with open_in_target(target.path, clean, any_file=True) as fp:
                try:
                    lines, masked = text_lines(fp, 1, reveal=ctx.reveal(request))
                    view = "text"
                except ValueError:  # not text after all
                    pass
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise HTTPException(404) from None
    return ctx.render(request, "file.html.j2", target=target, file=clean, name=PurePosixPath(clean).name,
                      media=media, view=view, lines=lines, masked=masked, sha256=h.hexdigest(), size=size,
                      file_url=f"/t/{target.id}/file/raw?" + urlencode({"file": clean}), back=_back(request, target.id))


def file_raw(ctx, request):
    """``/t/{tid}/file/raw?file=<rel>``: the bytes of that file, read in place, under the document view's
    Content-Security-Policy (framed by our page only; sandboxed unless a PDF)."""
    from starlette.exceptions import HTTPException
    from starlette.responses import StreamingResponse

    target = ctx.target(request.path_params["tid"])
    clean = clean_rel(request.query_params.get("file") or "")
    if clean is None or not _exists(target.path, clean):
        raise HTTPException(404)
    media = _media_type(clean)
    csp = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    if media != "application/pdf":
        csp += "; sandbox"
    disposition = "inline" if media in VIEWABLE else "attachment"
    headers = {"content-security-policy": csp, "cache-control": "private, no-store",
               "content-disposition": f'{disposition}; filename="{ascii_name(PurePosixPath(clean).name)}"'}
    if media.startswith("text/"):
        media += "; charset=utf-8"

    def chunks():
        with open_in_target(target.path, clean, any_file=True) as fp:
            while data := fp.read(1 << 16):
                yield data

    return StreamingResponse(chunks(), media_type=media, headers=headers)


def routes(ctx) -> list:
    from starlette.routing import Route

    from .context import bind

    return [Route("/t/{tid}/file", bind(file_place, ctx), name="file_place"),
            Route("/t/{tid}/file/view", bind(file_view, ctx), name="file_view"),
            Route("/t/{tid}/file/raw", bind(file_raw, ctx), name="file_raw")]

