"""The one progress callback every long-running library call takes.

``progress(stage, done, total)``: ``stage`` names what is being done ("import", "extract",
"validate", "hash", "tar", "verify", …; a file name while one file is read), ``done`` how many
units of that stage are done so far, ``total`` how many there are in all, or ``None`` while that is
not known.  The unit is the stage's own (rows, journals, documents, bytes) and stays the same
within a stage, so ``done / total`` is a fraction and an ETA can be reckoned from it.

The library calls it and never prints; the CLI (``cli.progress_printer``) and the web face show it.
A callback must be cheap and must not raise: an exception from it stops the work it was called from.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, stage: str, done: int, total: int | None = None, /) -> None: ...


__all__ = ["Progress"]
