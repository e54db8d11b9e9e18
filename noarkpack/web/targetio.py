"""Reading a target in place: the file a finding names, found where each check names it from, and a text file's
lines around one.

A finding names a file (``location.file``), sometimes a member inside it (an NHA finding about an XML inside a
package: ``file`` the tar, ``member`` the XML).  The file is relative to what was checked, so
:func:`open_in_target` looks for it where each check names it from:

* a folder target (an extract, a bag, an NHA deposit): the file in the folder, in the extract inside it, in a
  bag's ``data/``, then inside the SIP/AIP tar of a bag's ``data/`` (``dias-mets.xml``, ``content/arkivstruktur.xml``
  and the validation's ``arkivstruktur.xml`` of the SIP in the bag);
* a SIP/AIP tar: its description beside it (``{uuid}.xml``), else the member of the tar;
* ``member`` given: the tar ``file`` of the target's folder, and that XML member of it.

Tars are read in place (a member's data is a slice of the tar file; nothing is unpacked).  ``..``, absolute
paths and symbolic links anywhere on the way are refused (FileNotFoundError).  :func:`text_lines` gives a text
file's lines around a line, person numbers and names masked unless revealed.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterator

from .masking import mask_person_numbers

__all__ = ["clean_rel", "inner_tars", "Slice", "tar_members", "any_member", "open_in_target", "text_lines"]

#: a bag's data/ holds one package: at most this many tars are looked into
_MAX_INNER_TARS = 4


def clean_rel(rel: str | None) -> str | None:
    """``rel`` as a clean relative POSIX path, or None when it is empty, absolute or leaves its folder."""
    if not rel or "\x00" in rel or "\\" in rel or rel.startswith("/") or ":" in rel.split("/", 1)[0]:
        return None
    parts = [p for p in rel.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _in_folder(root: Path, clean: str, base: Path) -> Path | None:
    """The file ``clean`` below ``root`` when no part of the way is a link and it stays inside ``base``."""
    p = Path(root)
    for part in clean.split("/"):
        p = p / part
        if p.is_symlink():
            return None
    if not p.is_file():
        return None
    resolved = p.resolve()
    return resolved if resolved == base or base in resolved.parents else None


def _is_bag(folder: Path) -> bool:
    from ..packaging.locate import is_bag

    return is_bag(folder)


def inner_tars(folder: Path) -> list[Path]:
    """The SIP/AIP tars in a bag's ``data/`` (none for any other folder)."""
    data = Path(folder) / "data"
    if not _is_bag(folder) or data.is_symlink() or not data.is_dir():
        return []
    return sorted(p for p in data.glob("*.tar") if not p.is_symlink() and p.is_file())[:_MAX_INNER_TARS]


class Slice(io.RawIOBase):
    """``size`` bytes of a file from where it stands (a tar member's data, read in place)."""

    def __init__(self, fp: BinaryIO, size: int) -> None:
        self.fp, self.left = fp, size

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n is None or n < 0 else min(n, self.left)
        data = self.fp.read(n) if n else b""
        self.left -= len(data)
        return data

    def readinto(self, b) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def tar_members(path: Path, *, xml_only: bool = True) -> dict[str, tuple[int, int]]:
    """The regular members of an uncompressed tar (only its XML ones unless ``xml_only`` is False): name ->
    (offset of the data, size); one pass over the headers with seeks, remembered while the tar stays the same."""
    st = Path(path).stat()
    return _members(str(path), st.st_size, st.st_mtime_ns, xml_only)


@functools.lru_cache(maxsize=32)
def _members(path: str, size: int, mtime_ns: int, xml_only: bool) -> dict[str, tuple[int, int]]:
    import tarfile

    out = {}
    with tarfile.open(path, "r:") as tar:
        for m in tar:
            if m.isfile() and m.sparse is None and (not xml_only or m.name.lower().endswith(".xml")):
                name = str(PurePosixPath(m.name.lstrip("/")))
                out[name[2:] if name.startswith("./") else name] = (m.offset_data, m.size)
            tar.members.clear()
    return out


def any_member(tar: Path, clean: str) -> tuple[int, int] | None:
    """(offset, size) of the regular member ``clean`` of ``tar``, or ``{package folder}/{clean}`` (a document a
    finding names): the headers walked with seeks up to it, nothing kept but the answer (a SIP may hold millions
    of documents: :func:`tar_members` of every member would hold them all)."""
    st = Path(tar).stat()
    return _any_member(str(tar), st.st_size, st.st_mtime_ns, clean)


@functools.lru_cache(maxsize=256)
def _any_member(path: str, size: int, mtime_ns: int, clean: str) -> tuple[int, int] | None:
    import tarfile

    want = {clean}
    with tarfile.open(path, "r:") as tar:
        for m in tar:
            name = str(PurePosixPath(m.name.lstrip("/")))
            name = name[2:] if name.startswith("./") else name
            if len(want) == 1:
                want.add(name.split("/", 1)[0] + "/" + clean)
            if name in want and m.isfile() and m.sparse is None:
                return m.offset_data, m.size
            tar.members.clear()
    return None


def _member_in_tar(tar: Path, clean: str) -> tuple[int, int] | None:
    """(offset, size) of the XML member ``clean`` of ``tar``: by its full name, else the shallowest member whose
    name ends with it (``{uuid}/content/arkivstruktur.xml`` for ``arkivstruktur.xml``), administrative_metadata/
    last."""
    members = tar_members(tar)
    found = members.get(clean)
    if found is None:
        inside = sorted(("administrative_metadata/" in n, n.count("/"), n) for n in members
                        if n.endswith("/" + clean))
        found = members[inside[0][2]] if inside else None
    return found


@contextlib.contextmanager
def _slice_of(tar: Path, where: tuple[int, int]) -> Iterator[BinaryIO]:
    with open(tar, "rb") as fp:
        fp.seek(where[0])
        yield Slice(fp, where[1])


@contextlib.contextmanager
def open_in_target(target_path: Path, rel: str, member: str | None = None, *,
                   any_file: bool = False) -> Iterator[BinaryIO]:
    """The file ``rel`` of a target (see the module's doc), or the XML ``member`` of the tar ``rel``, opened for
    reading in place; FileNotFoundError when there is none (or the path leaves the target).  Inside a tar only
    XML members are looked for unless ``any_file`` (a document file a finding names)."""
    clean = clean_rel(rel)
    if clean is None:
        raise FileNotFoundError(rel)
    target_path = Path(target_path)
    folder = target_path if target_path.is_dir() else target_path.parent
    base = folder.resolve()
    if member is not None:
        inner = clean_rel(member)
        if inner is None or not clean.lower().endswith(".tar"):
            raise FileNotFoundError(member)
        roots = [folder, folder / "data"] if target_path.is_dir() else []
        tar = next((p for r in roots if (p := _in_folder(r, clean, base)) is not None), None)
        if tar is None and not target_path.is_dir() and target_path.name == clean:
            tar = target_path
        where = tar_members(tar).get(inner) if tar is not None else None
        if where is None:
            raise FileNotFoundError(member)
        with _slice_of(tar, where) as fp:
            yield fp
        return
    if target_path.is_dir():
        from ..validation.source import find_extract_dir

        roots = [r for r in (find_extract_dir(target_path), target_path) if r is not None]
        if _is_bag(target_path):
            roots.append(target_path / "data")
        for root in roots:
            p = _in_folder(root, clean, base)
            if p is not None:
                with open(p, "rb") as fp:
                    yield fp
                return
        tars = inner_tars(target_path)
    else:
        if clean == target_path.stem + ".xml":  # the SIP's submission description, beside the tar
            p = _in_folder(folder, clean, base)
            if p is not None:
                with open(p, "rb") as fp:
                    yield fp
                return
        tars = [target_path]
    if clean.lower().endswith(".xml") or any_file:
        for tar in tars:
            where = _member_in_tar(tar, clean) if clean.lower().endswith(".xml") else any_member(tar, clean)
            if where is not None:
                with _slice_of(tar, where) as fp:
                    yield fp
                return
    raise FileNotFoundError(rel)


# -- a text file's lines ---------------------------------------------------------------------------------------

#: a tag file's label whose value names a person (bag-info Contact-Name, …): masked unless revealed
_PERSON_LABEL = re.compile(r"(name|navn|contact|kontakt|e-?mail|e-?post|phone|telefon)", re.I)
_LABEL = re.compile(r"^(\s*[^:\s][^:]*:\s*)(.+)$")
TEXT_BEFORE, TEXT_AFTER = 10, 20


def text_lines(stream: BinaryIO, line: int, *, reveal: bool = False) -> tuple[list[tuple[int, str]], bool]:
    """The lines ``line - 10`` … ``line + 20`` of a text file, read as a stream up to there; (lines, masked).
    Person numbers, and the values of a ``Label: value`` line whose label names a person, are masked unless
    ``reveal``.  ValueError when the file is not text (a NUL byte)."""
    lo, hi = max(1, line - TEXT_BEFORE), line + TEXT_AFTER
    out: list[tuple[int, str]] = []
    masked = False
    number = 0
    pending = b""
    while number < hi:
        chunk = stream.read(1 << 16)
        if b"\x00" in chunk:
            raise ValueError("not a text file")
        parts = (pending + chunk).split(b"\n")
        pending = parts.pop() if chunk else b""
        if not chunk and parts == [b""]:  # the file ends with its last line's newline
            parts = []
        for part in parts:
            number += 1
            if lo <= number <= hi:
                text = part.decode("utf-8", "replace").rstrip("\r")
                if not reveal:
                    m = _LABEL.match(text)
                    if m and _PERSON_LABEL.search(m.group(1)):
                        text, masked = m.group(1) + "*****", True
                    shown = mask_person_numbers(text, "***********")
                    masked = masked or shown != text
                    text = shown
                out.append((number, text))
        if not chunk:
            break
    return out, masked
