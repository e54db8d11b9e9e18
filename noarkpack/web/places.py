"""The links a finding offers, and a text file's lines around a finding's line.

:func:`finding_links` gives a finding row's links: the export row (analysis), the XML element around the line,
the line of a text file (a bag's manifest or tag file), the node of the archive by systemID (for a bag, in the
SIP inside it), and for an NHA deposit the journal, the package, the EPJ document or the document file it is
about (:mod:`.nhabrowse` resolves those when followed), and for a finding that names only a file, that file's
place (:mod:`.fileplaces` decides when followed).  :func:`lines_page` shows a text file's lines around a
line, person numbers and names masked unless revealed.  The files are read in place (:mod:`.targetio`).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlencode

from ..locale import N_, tr
from .fileplaces import file_link
from .targetio import clean_rel, open_in_target, text_lines
from .xmlcontext import _back, _line

__all__ = ["finding_links", "line_of", "lines_page", "routes"]


def lines_page(ctx, request):
    """``/t/{tid}/lines?file=<rel>&line=N``: the lines of a text file of the target around line N (a bag's
    manifest or tag file a finding names)."""
    from starlette.exceptions import HTTPException

    target = ctx.target(request.path_params["tid"])
    rel = request.query_params.get("file") or ""
    line = _line(request)
    if rel.lower().endswith((".tar", ".xml")):
        raise HTTPException(404)
    reveal = ctx.reveal(request)
    try:
        with open_in_target(target.path, rel) as fp:
            lines, masked = text_lines(fp, line, reveal=reveal)
    except (FileNotFoundError, IsADirectoryError, PermissionError, ValueError):
        raise HTTPException(404) from None
    return ctx.render(request, "lines.html.j2", target=target, file=rel, line=line, lines=lines, masked=masked,
                      back=_back(request, target.id))


# -- the links of a finding ------------------------------------------------------------------------------------

LABELS = {"row": N_("Show the row"), "xml": N_("Show the XML element"), "line": N_("Show the line"),
          "node": N_("Open in the archive"), "nha": N_("Open in the deposit"), "file": N_("Show the file")}


def _link(kind: str, url: str, css: str) -> dict:
    return {"url": url, "label": tr(LABELS[kind]), "class": css}


@functools.lru_cache(maxsize=1)
def _line_in_message() -> re.Pattern:
    """The line of a schema error that carries it only in its message (verify's PK.15 on dias-premis.xml or
    log.xml: "line 12: …", written by packaging.xsd in the run's language): the pattern of that message in every
    language."""
    from ..locale import LANGUAGES, language

    heads = []
    for lang in LANGUAGES:
        with language(lang):
            head = str(tr("line {line}: {message}", line="\x00", message="")).split("\x00")[0]
        heads.append(re.escape(head))
    return re.compile(r"(?:^|: )(?:" + "|".join(sorted(set(heads))) + r")(\d+): ")


def line_of(row: dict) -> int | None:
    """A finding's line: its location's, else the one its message names (see :func:`_line_in_message`)."""
    if row.get("line"):
        return row["line"]
    m = _line_in_message().search(row.get("message") or "")
    return int(m.group(1)) if m else None


def finding_links(row: dict, *, store_kind: str, target, place, browse_place, browse: bool) -> list[dict]:
    """The links of one finding row (see the module's doc): ``[{url, label, class}]``, the place first.

    ``target`` is the target the report belongs to, ``place`` the one its files are relative to, ``browse_place``
    the one whose archive its systemIDs name (a bag's SIP), ``browse`` whether the browse pages are mounted."""
    out: list[dict] = []
    file, line = row.get("file"), row.get("line")
    loc = row.get("location") or {}
    if not line and file and store_kind != "analysis" and file.lower().endswith(".xml"):
        line = line_of(row)
    if store_kind == "analysis":
        ok = (file and line and target is not None and target.kind == "project"
              and clean_rel(file) is not None and (target.path / file).is_file())
        if ok:
            out.append(_link("row", f"/t/{target.id}/row?" + urlencode({"file": file, "line": line}), "place-link"))
        return out
    if place is None:
        return out
    member = loc.get("member")
    if file and line and member and str(member).lower().endswith(".xml"):
        out.append(_link("xml", f"/t/{place.id}/xml?" + urlencode({"file": file, "member": member, "line": line})
                         + "#hit", "place-link"))
    elif file and line and not member:
        if file.lower().endswith(".xml"):
            out.append(_link("xml", f"/t/{place.id}/xml?" + urlencode({"file": file, "line": line}) + "#hit",
                             "place-link"))
        elif not file.lower().endswith(".tar") and place.path.is_dir():
            out.append(_link("line", f"/t/{place.id}/lines?" + urlencode({"file": file, "line": line}) + "#hit",
                             "place-link"))
    elif file and not line and not member and not row.get("systemID"):
        url = file_link(file, row.get("test"), place)
        if url is not None:
            out.append(_link("file", url, "place-link"))
    if not browse:
        return out
    if place.kind == "nha-deposit":
        query = {k: v for k, v in (("journal", loc.get("journal")), ("file", file if file and file.endswith(".tar")
                                                                      else None), ("member", member)) if v}
        if query:
            out.append(_link("nha", f"/t/{place.id}/nha/find?" + urlencode(query), "tree-link"))
    elif row.get("systemID") and browse_place is not None and browse_place.kind in ("extract", "sip"):
        out.append(_link("node", f"/t/{browse_place.id}/browse?" + urlencode({"systemID": row["systemID"]}),
                         "tree-link"))
    return out


def routes(ctx) -> list:
    from starlette.routing import Route

    from . import fileplaces
    from .context import bind

    return [Route("/t/{tid}/lines", bind(lines_page, ctx), name="lines"), *fileplaces.routes(ctx)]
