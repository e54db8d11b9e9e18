"""Ghostscript in batches: one process converts a batch of plain PDFs to PDF/A-2b, each document in a Ghostscript
instance of its own, through Ghostscript's C API (libgs, the library the ``gs`` command is built on).

One ``gs`` process per document pays a process start, the dynamic loading of libgs and Python's wait for it each
time: 58 ms a small PDF here, against 44 ms through the API in one process (docs/performance.md, "Ghostscript in
batches").  One Ghostscript *instance* over many inputs, its pdfwrite device pointed at the next
output between them (``setpagedevice``), would save more, but Ghostscript 10.00.0 segfaults on the second input when
the inputs are PDFs LibreOffice exported; a fresh instance per document has no such state to trip on.

    python -m noarkpack.conversion.gsbatch OUTDIR SRC...

writes ``OUTDIR/d00000.pdf``, ``d00001.pdf``, … in order, each under a temporary name first and renamed when
Ghostscript has finished it, so a file under its final name is whole.  A document Ghostscript fails on gets no
output; the pool (:mod:`noarkpack.conversion.pool`) then converts it alone with the ``gs`` command, which gives
the reason.  Ghostscript's messages go to this process's stdout and stderr, which the pool discards.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import lru_cache

#: Ghostscript's arguments for plain PDF → PDF/A-2b, as ``tools.ghostscript_pdfa`` gives them to ``gs``
GS_PDFA = ("-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-dPDFA=2", "-dPDFACompatibilityPolicy=1",
           "-sColorConversionStrategy=RGB", "-sDEVICE=pdfwrite")
#: gsapi_init_with_args's code for a run that ended by quit (-dBATCH): not an error
_QUIT = -101


@lru_cache(maxsize=1)
def libgs_name() -> str | None:
    """The file name of Ghostscript's library when this machine has one that loads (else None: one ``gs`` per
    document)."""
    name = ctypes.util.find_library("gs")
    if name is None:
        return None
    try:
        ctypes.CDLL(name)
    except OSError:
        return None
    return name


def convert_one(lib, src: bytes, out: bytes) -> bool:
    """One plain PDF → PDF/A-2b in a new Ghostscript instance; True when Ghostscript reported no error."""
    inst = ctypes.c_void_p()
    if lib.gsapi_new_instance(ctypes.byref(inst), None) != 0:
        return False
    try:
        args = [b"gs", *(a.encode() for a in GS_PDFA), b"-sOutputFile=" + out, src]
        argv = (ctypes.c_char_p * len(args))(*args)
        code = lib.gsapi_init_with_args(inst, len(args), argv)
        code2 = lib.gsapi_exit(inst)
    finally:
        lib.gsapi_delete_instance(inst)
    return code in (0, _QUIT) and code2 in (0, _QUIT)


def main(argv: list[str]) -> int:
    out, srcs = argv[1], argv[2:]
    name = libgs_name()
    if name is None:
        return 2
    lib = ctypes.CDLL(name)
    for i, src in enumerate(srcs):
        final = os.path.join(out, f"d{i:05d}.pdf")
        part = os.path.join(out, f".d{i:05d}.part")
        ok = convert_one(lib, os.fsencode(src), os.fsencode(part))
        if ok and os.path.isfile(part) and os.path.getsize(part) > 0:
            os.replace(part, final)
        elif os.path.exists(part):
            os.unlink(part)  # no output: the pool converts it alone with gs, which says why
    return 0


if __name__ == "__main__":
    # os._exit, as the other helper processes: nothing to flush (the pool discards the output), and no interpreter
    # teardown with libgs loaded
    os._exit(main(sys.argv))
