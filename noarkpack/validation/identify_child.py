"""NP.01: an extract folder's documents identified in a child process, not in the validating one.

Siegfried (pygfried) brings a Go heap of ~150-180 MB, and the Go runtime keeps it for the life of the
process.  Validate identifies every document before its pass over arkivstruktur.xml; done in the
validating process, that heap stayed resident through the pass, beside the split pass's child
(:mod:`noarkpack.validation.parallel`).  So the documents are identified here, in a short-lived child:

* the parent writes the documents' paths to a file as it lists the folder (NUL-separated: nothing of
  the listing is held in memory), then starts ``python -m noarkpack.validation.identify_child``;
* the child identifies them in batches with Siegfried's own workers (both cores) and pickles what it
  learnt (:func:`noarkpack.documents.shared_identifications`, ~26 bytes per file) to a result file;
* the parent adds that to its own memory (:func:`noarkpack.documents.absorb_identifications`): the
  content pass's NP.01 look-ups find every file there and never load Siegfried.

If the child cannot start, fails or is killed, :func:`identify_in_child` returns False and the parent
identifies the files itself, as before: the report is the same either way.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import threading
from pathlib import Path

#: files per Siegfried call
BATCH = 500


def identify_in_child(root: Path, list_file: Path, workdir: Path) -> bool:
    """Identify the files named in ``list_file`` (paths under ``root``, each ending in NUL) in a child;
    True when its results are in this process's memory."""
    from ..documents import absorb_identifications
    from ..fsutil import kill_child, start_child

    result = workdir / "np01-identified.pickle"
    args = {"root": str(root), "list": str(list_file), "result": str(result)}
    try:
        proc = start_child("noarkpack.validation.identify_child", json.dumps(args))
    except OSError:
        return False
    try:
        proc.wait()  # its stdin stays open meanwhile: when it closes (this process ended), the child stops
    except BaseException:
        kill_child(proc)
        raise
    finally:
        for f in (proc.stdin, proc.stdout):
            f.close()
    if proc.returncode != 0 or not result.is_file():
        return False
    try:
        with open(result, "rb") as fh:
            known = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        return False
    finally:
        result.unlink(missing_ok=True)
    absorb_identifications(known)
    return True


def iter_listed(list_file: Path):
    """The relative paths written to ``list_file`` (each ends in NUL), one at a time."""
    with open(list_file, "rb") as fh:
        rest = b""
        while True:
            chunk = fh.read(1 << 16)
            if not chunk:
                break
            *names, rest = (rest + chunk).split(b"\0")
            for name in names:
                yield os.fsdecode(name)


def _child(args: dict) -> None:
    from ..documents import identify_many, shared_identifications
    from ..errors import NoarkpackError

    def watch_parent() -> None:
        sys.stdin.buffer.read()  # EOF: the parent is done waiting, or gone
        os._exit(3)

    threading.Thread(target=watch_parent, daemon=True).start()
    root = Path(args["root"])
    batch: list[Path] = []

    def flush() -> None:
        try:
            identify_many(batch, workers=os.cpu_count() or 1)
        except (NoarkpackError, OSError):
            pass  # the content pass identifies these one at a time and reports what goes wrong
        batch.clear()

    for rel in iter_listed(Path(args["list"])):
        batch.append(root / rel)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    tmp = Path(args["result"] + ".part")
    with open(tmp, "wb") as fh:
        pickle.dump(shared_identifications(), fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, args["result"])


if __name__ == "__main__":
    # os._exit: no interpreter teardown while the watcher thread blocks in read() and Siegfried's Go
    # runtime is loaded (that can abort).
    try:
        _child(json.loads(sys.argv[1]))
    except Exception:  # noqa: BLE001 - the parent identifies the files itself
        os._exit(1)
    os._exit(0)
