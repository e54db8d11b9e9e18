"""``noarkpack serve``: the archivist's workbench in the browser (issue 21).

A face over the library, like the CLI: pages that run the stages, show their progress and findings, and browse
extracts.  Starlette (small, plain routing, streaming responses for server-sent events) on uvicorn, bound to the
loopback only, every request behind a token (:mod:`.security`).  Nothing here prints: the CLI shows the address.
"""

from __future__ import annotations

from .app import create_app

__all__ = ["create_app"]
