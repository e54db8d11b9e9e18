"""What the browse pages share with the pages beside them (:mod:`.nhabrowse`, :mod:`.fileplaces`): a target's
index (built on first open, in the background, with a progress page), the request's node number, what a page
shows in itself, an NHA package's file and its sjekksum verified once per server.
"""

from __future__ import annotations

import hashlib
import re
import threading

from starlette.exceptions import HTTPException
from starlette.requests import Request

from ..locale import tr
from .context import Target, WebContext
from .index import Build, ExtractIndex, IndexError_, IndexManager, Node

__all__ = ["TEXT_LIMIT", "VIEWABLE", "managers", "browse_target", "index_of", "progress_page", "ready", "NotReady",
           "as_int", "verify_sum", "ascii_name", "package_path", "package_info", "pakke_of"]

TEXT_LIMIT = 1 << 20  #: text documents shown in the page up to this size


#: what a person opens in the page (the rest is offered as a download)
VIEWABLE = {"application/pdf": "pdf", "image/png": "image", "image/jpeg": "image", "image/gif": "image",
            "image/webp": "image", "text/plain": "text", "text/csv": "text"}


def managers(ctx: WebContext) -> IndexManager:
    m = getattr(ctx, "_browse_indexes", None)
    if m is None:
        with _LOCK:
            m = getattr(ctx, "_browse_indexes", None)
            if m is None:
                m = IndexManager(ctx.state_dir)
                ctx._browse_indexes = m
    return m


_LOCK = threading.Lock()


def browse_target(ctx: WebContext, request: Request) -> Target:
    t = ctx.target(request.path_params["tid"])
    if t.kind not in ("extract", "sip", "nha-deposit"):
        raise HTTPException(404)
    return t


def index_of(ctx: WebContext, t: Target) -> ExtractIndex | Build:
    try:
        return managers(ctx).get(t.path)
    except (IndexError_, OSError):
        raise HTTPException(404) from None


def progress_page(ctx: WebContext, request: Request, t: Target, b: Build):
    pct = int(100 * b.done / b.total) if b.total else None
    return ctx.render(request, "browse_progress.html.j2", status_code=202 if not b.error else 500, target=t, build=b,
                      percent=pct)


def ready(ctx: WebContext, request: Request) -> tuple[Target, ExtractIndex]:
    t = browse_target(ctx, request)
    ix = index_of(ctx, t)
    if isinstance(ix, Build):
        raise NotReady(t)
    return t, ix


class NotReady(Exception):
    def __init__(self, t: Target) -> None:
        self.target = t


def as_int(value, default: int = 0) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return default


_VERIFIED: dict[tuple[str, int], dict] = {}


def verify_sum(key, opener, recorded: str | None, algorithm: str, where: str) -> dict:
    if key in _VERIFIED:
        return _VERIFIED[key]
    recorded = (recorded or "").strip().lower()
    name = {"sha256": "sha256", "sha512": "sha512", "sha1": "sha1", "md5": "md5"}.get(
        algorithm.replace("-", "").lower())
    f, size = opener()
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
        state, text = "none", tr("{where} is empty; {algorithm} of the file: {actual}", where=where,
                                 algorithm=h.name.upper(), actual=actual)
    elif name is None:
        state, text = "unknown", tr("the sjekksumAlgoritme {algorithm} is not one this page can compute",
                                    algorithm=algorithm)
    elif actual == recorded:
        state, text = "ok", tr("{algorithm} matches {where}", algorithm=h.name.upper(), where=where)
    else:
        state, text = "mismatch", tr("{algorithm} of the file is {actual}, {where} says {recorded}",
                                     algorithm=h.name.upper(), actual=actual, recorded=recorded, where=where)
    res = {"state": state, "text": text, "size": size}
    _VERIFIED[key] = res
    return res


def ascii_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100] or "document"


def package_path(ctx: WebContext, t: Target, node: Node):
    ref = node.get("filReferanse") or ""
    if not ref or "/" in ref or "\\" in ref:
        raise HTTPException(404)
    path = ctx.safe_path(t, ref)
    if not path.is_file():
        raise HTTPException(404)
    return path


_MEMBERS: dict[tuple[str, int, int], list] = {}


def pakke_of(ctx: WebContext, request: Request):
    """(target, index, the pakke node, the package's tar path) of a page about one NHA package
    (``/t/{tid}/…/{node}/…``); 404 unless the index is ready and the node is a pakke."""
    try:
        t, ix = ready(ctx, request)
    except NotReady:
        raise HTTPException(404) from None
    node = ix.node(as_int(request.path_params["node"]))
    if node is None or node.kind != "pakke":
        raise HTTPException(404)
    return t, ix, node, package_path(ctx, t, node)


def package_info(ctx: WebContext, t: Target, ix: ExtractIndex, node: Node) -> dict:
    """An NHA package's members (its headers read with seeks) and its sjekksum verified (once per server)."""
    import tarfile

    try:
        path = package_path(ctx, t, node)
    except HTTPException:
        return {"members": [], "check": {"state": "missing", "text": tr("the file is not in the extract: {ref}",
                                                                         ref=node.get("filReferanse") or "")}}
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    members = _MEMBERS.get(key)
    if members is None:
        members = []
        try:
            with tarfile.open(path, "r:") as tar:
                for m in tar:
                    if m.isreg():
                        members.append((m.name, m.size))
                    tar.members.clear()
        except (tarfile.TarError, OSError):
            pass
        _MEMBERS[key] = members
    check = verify_sum(("pkg", str(path), st.st_mtime_ns), lambda: (open(path, "rb"), st.st_size),
                    node.get("sjekksum"), "SHA256", "epjpakkeliste/pakke/sjekksum")
    return {"members": [{"name": n, "size": s, "index": i} for i, (n, s) in enumerate(members)], "check": check}
