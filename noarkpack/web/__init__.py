"""``noarkpack serve``: the archivist's workbench in the browser (issue 21).

A face over the library, like the CLI: pages that run the stages, show their progress and findings, and browse
extracts.  Starlette (small, plain routing, streaming responses for server-sent events) on uvicorn, bound to the
loopback only, every request behind a token (:mod:`.security`).  Nothing here prints: the CLI shows the address.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from .app import create_app
from .security import new_token

__all__ = ["create_app", "make_server", "serve", "default_state_dir", "LOOPBACK"]

#: the only address the server listens on
LOOPBACK = "127.0.0.1"


def default_state_dir() -> Path:
    """Where runs, findings and index caches are kept: ``$XDG_CACHE_HOME/noarkpack/serve`` (else ~/.cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "noarkpack" / "serve"


def _server_class():
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server that tells the open event streams to end when it shuts down (else it waits for them
        and then cancels them with an error in its log)."""

        def __init__(self, config, ctx) -> None:
            super().__init__(config)
            self.ctx = ctx

        async def shutdown(self, sockets=None) -> None:
            self.ctx.closing = True
            await super().shutdown(sockets)

    return Server


def _Server(config, ctx):
    return _server_class()(config, ctx)


def make_server(roots: list[Path], *, port: int = 0, token: str | None = None, state_dir: Path | None = None,
                reveal_allowed: bool = True):
    """The server, its listening socket (127.0.0.1, ``port`` or a free one) and the address to open (with the
    token).  ``server.run(sockets=[sock])`` serves until ``server.should_exit`` (or Ctrl-C)."""
    import uvicorn

    token = token or new_token()
    app = create_app(roots, token=token, state_dir=state_dir or default_state_dir(), reveal_allowed=reveal_allowed)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((LOOPBACK, port))
        sock.listen(128)  # connections wait in the backlog until the server takes them
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    # no access log: addresses may carry a search; nothing identifying goes to the server's log
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", server_header=False,
                            date_header=False, timeout_graceful_shutdown=2)
    server = _Server(config, app.state.ctx)
    url = f"http://{LOOPBACK}:{sock.getsockname()[1]}/?token={token}"
    return server, sock, url


def serve(roots: list[Path], *, port: int = 0, token: str | None = None, state_dir: Path | None = None,
          on_ready=None) -> None:
    """Serve ``roots`` on 127.0.0.1 until interrupted; ``on_ready(url)`` is called once the socket listens."""
    server, sock, url = make_server(roots, port=port, token=token, state_dir=state_dir)
    try:
        if on_ready is not None:
            on_ready(url)
        server.run(sockets=[sock])
    finally:
        sock.close()
