"""What every page of ``noarkpack serve`` shares: the roots, the targets in them, the token, the state folder.

A *target* is something a person works on: a deposit project (``noarkpack.toml``), an extract, a SIP/AIP tar
(``{uuid}.tar`` with its ``{uuid}.xml``), a bag, or an NHA deposit.  Its id is the first 12 hex digits of the
SHA-256 of its resolved path: stable between runs of the server, and it says nothing of the path itself.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException

if TYPE_CHECKING:  # pragma: no cover
    from starlette.requests import Request
    from starlette.responses import HTMLResponse

KINDS = ("project", "extract", "sip", "bag", "nha-deposit")


@dataclass
class Target:
    id: str  #: the first 12 hex of sha256(resolved path)
    path: Path  #: resolved, inside a root
    kind: str  #: one of KINDS
    label: str  #: the folder/file name


def target_id(path: Path) -> str:
    return hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:12]


def classify(path: str | os.PathLike) -> str | None:
    """The kind of target ``path`` is (see :data:`KINDS`), or None.  Cheap: looks at names, opens nothing big."""
    p = Path(path)
    try:
        if p.is_symlink():
            return None
        if p.is_file():
            return "sip" if p.suffix.lower() == ".tar" else None
        if not p.is_dir():
            return None
        if (p / "noarkpack.toml").is_file():
            return "project"
        from ..nha.detect import is_nha_deposit
        from ..packaging.locate import is_bag

        if is_nha_deposit(p):
            return "nha-deposit"
        if is_bag(p):
            return "bag"
        from ..validation.source import find_extract_dir

        if find_extract_dir(p) is not None:
            return "extract"
    except OSError:
        return None
    return None


def bind(endpoint, ctx: WebContext):
    """``endpoint(ctx, request)`` as a Starlette endpoint ``(request)``; sync ones run in the thread pool (the
    request's language reaches them: the pool copies the context)."""
    if inspect.iscoroutinefunction(endpoint):
        async def run_async(request: "Request"):
            return await endpoint(ctx, request)

        run_async.__name__ = endpoint.__name__
        return run_async

    def run(request: "Request"):
        return endpoint(ctx, request)

    run.__name__ = endpoint.__name__
    return run


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


class WebContext:
    """The server's shared state; one per app (``request.app.state.ctx``)."""

    def __init__(self, roots: list[Path], *, token: str, state_dir: Path, reveal_allowed: bool = True) -> None:
        self.roots = [Path(r).resolve() for r in roots]
        self.token = token
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.reveal_allowed = reveal_allowed
        self.targets: dict[str, Target] = {}
        self._lock = threading.Lock()
        self._reveal_sessions: set[str] = set()
        self.templates = None  # set by app.create_app (a jinja2 Environment)
        self.runs = None  # the RunManager (runs.py), set by app.create_app
        self.closing = False  # the server is shutting down: event streams end (web.make_server)
        self.modules: set[str] = set()  # the modules whose routes are mounted (app.MODULES)
        self.scan()

    # -- targets --------------------------------------------------------------------------------------------

    def scan(self, budget: int = 2000) -> None:
        """Find the targets: each root itself, what lies directly in it, and one level further down (at most
        ``budget`` folders and files looked at, so a large root does not slow the start page)."""
        seen = 0
        for root in self.roots:
            kind = classify(root)
            if kind is not None:
                self._add(root, kind)
                if kind != "project":
                    continue
            for child in _children(root):
                seen += 1
                kind = classify(child)
                if kind is not None:
                    self._add(child, kind)
                elif child.is_dir() and seen < budget:
                    for grand in _children(child):
                        seen += 1
                        if seen > budget:
                            break
                        gkind = classify(grand)
                        if gkind is not None:
                            self._add(grand, gkind)
                if seen > budget * 2:
                    break

    def _add(self, path: Path, kind: str) -> Target:
        path = path.resolve()
        label = path.name or str(path)
        if kind == "extract":  # the extract's own folder, however it was reached (OUT, OUT/avleveringspakke)
            from ..validation.source import find_extract_dir

            found = find_extract_dir(path)
            if found is not None and not found.is_symlink() and self.within_roots(found.resolve()):
                path = found.resolve()
            if path.name in ("avleveringspakke", "content") and path.parent.name:
                label = f"{path.parent.name}/{path.name}"
            else:
                label = path.name or str(path)
        tid = target_id(path)
        with self._lock:
            t = self.targets.get(tid)
            if t is None:
                t = self.targets[tid] = Target(tid, path, kind, label)
            return t

    def within_roots(self, path: Path) -> bool:
        return any(_inside(path, r) for r in self.roots)

    def add_target(self, path: Path) -> Target:
        """``path`` (inside a root) as a target, e.g. an extract a run wrote; ValueError when it is none."""
        p = Path(path)
        if p.is_symlink():
            raise ValueError("a link is not a target")
        p = p.resolve()
        if not self.within_roots(p):
            raise ValueError("outside the roots")
        kind = classify(p)
        if kind is None:
            raise ValueError("not a target")
        return self._add(p, kind)

    def target(self, tid: str) -> Target:
        t = self.targets.get(tid)
        if t is None:
            raise HTTPException(404)
        return t

    def safe_path(self, target: Target, rel: str) -> Path:
        """``rel`` inside ``target.path`` (a folder); ``..``, an absolute path or a link anywhere on the way → 404."""
        if not rel or "\x00" in rel or rel.startswith(("/", "\\")) or ":" in rel.split("/", 1)[0]:
            raise HTTPException(404)
        parts = [x for x in rel.replace("\\", "/").split("/") if x not in ("", ".")]
        if not parts or any(x == ".." for x in parts):
            raise HTTPException(404)
        base = target.path if target.path.is_dir() else target.path.parent
        p = base
        for part in parts:
            p = p / part
            if p.is_symlink():
                raise HTTPException(404)
        resolved = p.resolve()
        if not _inside(resolved, base.resolve()) or not self.within_roots(resolved):
            raise HTTPException(404)
        return resolved

    # -- the session's reveal switch ------------------------------------------------------------------------

    def reveal(self, request: "Request") -> bool:
        """Whether this session asked to see names and fødselsnummer (default: no)."""
        sid = request.cookies.get("np_session")
        return bool(self.reveal_allowed and sid and sid in self._reveal_sessions)

    def set_reveal(self, sid: str, on: bool) -> None:
        with self._lock:
            if on and self.reveal_allowed:
                self._reveal_sessions.add(sid)
            else:
                self._reveal_sessions.discard(sid)

    # -- pages ----------------------------------------------------------------------------------------------

    def render(self, request: "Request", template: str, status_code: int = 200, **vars) -> "HTMLResponse":
        """``template`` (under templates/web/) with the base layout's variables."""
        from starlette.responses import HTMLResponse

        from ..locale import current

        page = self.templates.get_template(template)
        html = page.render(request=request, ctx=self, reveal=self.reveal(request), lang=current(),
                           token=self.token, csrf=request.cookies.get("np_session", ""), **vars)
        return HTMLResponse(html, status_code=status_code)


def _children(folder: Path, limit: int = 500) -> list[Path]:
    try:
        out = []
        for i, p in enumerate(sorted(folder.iterdir())):
            if i >= limit:
                break
            if not p.name.startswith(".") and not p.is_symlink():
                out.append(p)
        return out
    except OSError:
        return []
