"""Small file-system and process helpers: crash-safe output, helper processes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable


def fsync_dir(folder: str | os.PathLike) -> None:
    """Make a rename in ``folder`` durable (POSIX; a no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def fsync_file(path: str | os.PathLike) -> None:
    """Flush one file's data to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one of another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_text_atomic(path: str | os.PathLike, text: str | Iterable[str]) -> None:
    """Write ``text`` (UTF-8; a string, or its pieces) under a temporary name and rename it into place
    when complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            if isinstance(text, str):
                f.write(text)
            else:
                for piece in text:
                    f.write(piece)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def human_size(n: float) -> str:
    """A byte count as people read it: 512 B, 1.5 KB, 3.2 GB."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def start_child(module: str, *args: str, new_session: bool = True):
    """Start ``python -m module args`` as a helper process of this one (the prepass, the split
    validation pass): it imports this very noarkpack, wherever it was imported from (an installed
    package, a source checkout on sys.path); its stdin and stdout are pipes, its stderr is dropped,
    and it runs in its own process group, so the caller can stop it with whatever it started
    (``new_session=False``: in the caller's group, stopped with the caller's).
    """
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-m", module, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=child_env(), start_new_session=new_session)


def child_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a ``python -m noarkpack…`` helper (``base``: os.environ): it imports this very
    noarkpack, wherever it was imported from, and speaks the caller's language (a --lang, or a web request's),
    not the environment's."""
    from .locale import current

    base = dict(os.environ if base is None else base)
    here = str(Path(__file__).resolve().parents[1])
    return {**base, "PYTHONPATH": os.pathsep.join(x for x in (here, base.get("PYTHONPATH")) if x),
            "NOARKPACK_LANG": current()}


def kill_child(proc, *, group: bool = True) -> None:
    """Stop a helper from :func:`start_child` now, with whatever it started (its process group; ``group=False``:
    the process alone, one started in the caller's group), and reap it."""
    import signal

    try:
        if not group:
            raise AttributeError
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        proc.kill()  # no process groups here (or it is gone already)
    proc.wait()


def sync_filesystem(folder: str | os.PathLike) -> None:
    """Flush every written file of the file system that holds ``folder`` to the disk, in one call: Linux's
    syncfs(2) (one flush for thousands of files instead of an fsync each), else a whole sync(2)."""
    try:
        import ctypes

        syncfs = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):  # not Linux (or no C library to ask)
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if syncfs(fd) != 0:
            os.sync()
    finally:
        os.close(fd)
