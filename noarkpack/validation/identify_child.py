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

An uncompressed tar (``validate`` or ``verify`` of a SIP) goes the same way
(:func:`identify_members_in_child`): the parent lists each member with its data offset and size, the
child copies the members' bytes from those offsets into its temporary folder (no tar parsing), a batch
at a time, and returns a PUID/label per member, which the parent's :class:`~.source.TarSource` keeps.
A compressed tar has no usable offsets: its members are identified in the parent, in batches.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import threading
from array import array
from pathlib import Path, PurePosixPath

#: files per Siegfried call
BATCH = 500


def identify_in_child(root: Path, list_file: Path, workdir: Path) -> bool:
    """Identify the files named in ``list_file`` (paths under ``root``, each ending in NUL) in a child;
    True when its results are in this process's memory."""
    from ..documents import absorb_identifications

    known = _run_child({"root": str(root), "list": str(list_file)}, workdir)
    if known is None:
        return False
    absorb_identifications(known)
    return True


def identify_members_in_child(tar: Path, list_file: Path, workdir: Path) -> tuple[list, array] | None:
    """Identify a tar's members in a child, which reads each one's bytes at its offset in the tar.

    ``list_file`` holds ``name NUL offset:size NUL`` per member (:func:`member_record`).  Returns
    ``(results, index)``: ``results[index[i]]`` is the ``(PUID, label)`` of the i-th member, or
    ``index[i] == NONE`` when it was not identified (its batch failed, or it is not a plain file);
    None when the child could not run.
    """
    got = _run_child({"tar": str(tar), "list": str(list_file)}, workdir)
    if not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[1], array)):
        return None
    return got


#: ``index`` value of a member the child did not identify
NONE = 0xFFFFFFFF


def tabulate(idents) -> tuple[list[tuple[str, str]], array]:
    """Identifications as ``(results, index)``: the distinct ``(PUID, label)`` pairs, and for each item
    the position of its pair (``NONE`` for an item that is None)."""
    results: list[tuple[str, str]] = []
    seen: dict[tuple[str, str], int] = {}
    index = array("I")
    for ident in idents:
        if ident is None:
            index.append(NONE)
            continue
        result = (ident.puid, ident.details or ident.name)
        i = seen.setdefault(result, len(results))
        if i == len(results):
            results.append(result)
        index.append(i)
    return results, index


def member_record(name: str, offset: int | None, size: int) -> bytes:
    """One tar member in the list for :func:`identify_members_in_child` (offset None: not a plain file)."""
    return os.fsencode(name) + b"\0" + (f"{offset}:{size}" if offset is not None else "-").encode() + b"\0"


def iter_members(list_file: Path):
    """``(name, offset, size)`` of each :func:`member_record` in ``list_file`` (offset None: not a plain file)."""
    it = iter_listed(list_file)
    for name in it:
        where = next(it, "-")
        if where == "-":
            yield name, None, 0
        else:
            offset, size = where.split(":")
            yield name, int(offset), int(size)


def _run_child(args: dict, workdir: Path):
    """Run ``python -m noarkpack.validation.identify_child`` on ``args``; what it pickled, or None."""
    from ..fsutil import kill_child, start_child

    result = workdir / "np01-identified.pickle"
    args = {**args, "result": str(result), "workdir": str(workdir)}
    try:
        proc = start_child("noarkpack.validation.identify_child", json.dumps(args))
    except OSError:
        return None
    try:
        proc.wait()  # its stdin stays open meanwhile: when it closes (this process ended), the child stops
    except BaseException:
        kill_child(proc)
        raise
    finally:
        for f in (proc.stdin, proc.stdout):
            f.close()
    if proc.returncode != 0 or not result.is_file():
        return None
    try:
        with open(result, "rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
        return None
    finally:
        result.unlink(missing_ok=True)


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
    def watch_parent() -> None:
        sys.stdin.buffer.read()  # EOF: the parent is done waiting, or gone
        os._exit(3)

    threading.Thread(target=watch_parent, daemon=True).start()
    result = _identify_members(args) if "tar" in args else _identify_files(args)
    tmp = Path(args["result"] + ".part")
    with open(tmp, "wb") as fh:
        pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, args["result"])


def _identify_files(args: dict):
    from ..documents import identify_many, shared_identifications
    from ..errors import NoarkpackError

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
    return shared_identifications()


def _identify_members(args: dict) -> tuple[list, array]:
    """Each member copied out of the tar (by offset: no tar parsing here), identified a batch at a time."""
    from ..documents import identify_many
    from ..errors import NoarkpackError

    workdir = Path(args["workdir"])
    idents: list = []  # per member: its Identification, or None (the content pass identifies it alone)
    batch: list[tuple[int, Path]] = []  # (position in idents, copy)
    copies = 0

    def flush() -> None:
        try:
            found = identify_many([path for _i, path in batch], workers=os.cpu_count() or 1)
        except (NoarkpackError, OSError):
            found = None  # the content pass identifies these one at a time and reports what goes wrong
        for n, (i, path) in enumerate(batch):
            path.unlink(missing_ok=True)
            if found is not None:
                idents[i] = found[n]
        batch.clear()

    fd = os.open(args["tar"], os.O_RDONLY)
    try:
        for name, offset, size in iter_members(Path(args["list"])):
            idents.append(None)
            if offset is None:
                continue
            copies += 1
            # a new name for every copy: identify() knows files by path, size, times and inode
            dst = workdir / f"np01-{copies:08d}{PurePosixPath(name).suffix}"
            with open(dst, "wb") as out:
                left, at = size, offset
                while left:
                    data = os.pread(fd, min(left, 1 << 20), at)
                    if not data:
                        raise OSError(f"{args['tar']}: ends inside {name}")
                    out.write(data)
                    left -= len(data)
                    at += len(data)
            batch.append((len(idents) - 1, dst))
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
    finally:
        os.close(fd)
    return tabulate(idents)


if __name__ == "__main__":
    # os._exit: no interpreter teardown while the watcher thread blocks in read() and Siegfried's Go
    # runtime is loaded (that can abort).
    try:
        _child(json.loads(sys.argv[1]))
    except Exception:  # noqa: BLE001 - the parent identifies the files itself
        os._exit(1)
    os._exit(0)
