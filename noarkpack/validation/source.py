"""Where the extract's bytes come from: a folder, or a tar read without unpacking.

The tests never touch the file system directly; they ask an
:class:`ExtractSource` for a file by its path relative to the extract root
(``arkivstruktur.xml``, ``DOKUMENT/2019/1.pdf``).  :class:`DirSource` reads a
folder; :class:`TarSource` reads members of an uncompressed tar in place (a
SIP/AIP ``{uuid}.tar``), so a packaging step can validate tar content
without extracting it.  Another reader (e.g. a tar member stream being
written) only has to implement the same few methods.

:func:`open_source` finds the extract root in any of the accepted PATH forms.
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import tempfile
import unicodedata
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterable, Iterator

from ..errors import NoarkpackError
from ..locale import tr
from .identify_child import NONE, tabulate

ADDML_NAMES = ("arkivuttrekk.xml", "addml.xml")
#: document folder names Arkade accepts (ArkadeConstants.DocumentDirectoryNames)
DOCUMENT_DIRS = ("dokumenter", "DOKUMENTER", "dokument", "DOKUMENT")


class ValidationError(NoarkpackError):
    """Validation cannot run at all (the path is missing or holds no extract)."""


def norm_ref(ref: str) -> str:
    """A document reference as a lookup key: '/' separators, NFC, no leading './'."""
    ref = unicodedata.normalize("NFC", ref.strip().replace("\\", "/"))
    while ref.startswith("./"):
        ref = ref[2:]
    return ref


class ExtractSource:
    """Read access to one extract; paths are relative to its root, '/'-separated."""

    name: str = ""

    def exists(self, rel: str) -> bool:
        raise NotImplementedError

    def open(self, rel: str) -> BinaryIO:
        """A binary stream of the file (raises FileNotFoundError)."""
        raise NotImplementedError

    def size(self, rel: str) -> int | None:
        raise NotImplementedError

    def document_dir(self) -> str | None:
        """The name of the documents folder, or None."""
        for d in DOCUMENT_DIRS:
            if self.is_dir(d):
                return d
        return None

    def is_dir(self, rel: str) -> bool:
        raise NotImplementedError

    def iter_files(self, folder: str) -> Iterator[tuple[str, int]]:
        """(relative path, size) of every file under ``folder``, recursively."""
        raise NotImplementedError

    def local_copy(self, names: list[str]) -> Path:
        """A folder where the named (small) files can be read by path (schemas)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class DirSource(ExtractSource):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.name = str(root)

    def _p(self, rel: str) -> Path:
        return self.root / rel

    def exists(self, rel: str) -> bool:
        try:
            return self._p(rel).is_file()
        except OSError:  # a reference the file system cannot even look up (a name over 255 bytes)
            return False

    def is_dir(self, rel: str) -> bool:
        try:
            return self._p(rel).is_dir()
        except OSError:
            return False

    def open(self, rel: str) -> BinaryIO:
        return open(self._p(rel), "rb")

    def size(self, rel: str) -> int | None:
        try:
            return self._p(rel).stat().st_size
        except OSError:
            return None

    def iter_files(self, folder: str) -> Iterator[tuple[str, int]]:
        base = self._p(folder)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            rel_dir = Path(dirpath).relative_to(self.root).as_posix()
            for fn in sorted(filenames):
                try:
                    size = os.stat(os.path.join(dirpath, fn)).st_size
                except OSError:
                    size = -1
                yield f"{rel_dir}/{fn}", size

    def local_copy(self, names: list[str]) -> Path:
        return self.root


class TarSource(ExtractSource):
    """An uncompressed (or compressed, slower) tar; ``prefix`` is the extract root inside it.

    Members are indexed once (name → TarInfo); reading a member seeks to its
    data in the tar, nothing is unpacked to disk except schemas (small files)
    in :meth:`local_copy`.
    """

    def __init__(self, path: Path, prefix: str, tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo]) -> None:
        self.path = path
        self.prefix = prefix
        self.tar = tar
        self.members = members
        self.name = f"{path}!{prefix}" if prefix else str(path)
        self._tmp: Path | None = None
        self._identified = None  # identify_batch(): IdSet of document paths -> index into _results
        self._results: list[tuple[str, str]] = []  # distinct (PUID, label) pairs
        self._result_pos: dict[tuple[str, str], int] = {}
        self._copies = 0
        self._dirs = set()
        for n in members:
            parts = n.split("/")
            for i in range(1, len(parts)):
                self._dirs.add("/".join(parts[:i]))

    def _m(self, rel: str):
        return self.members.get(self.prefix + rel)

    @staticmethod
    def _isfile(m) -> bool:
        return type(m) is tuple or m.isfile()

    @staticmethod
    def _size(m) -> int:
        return m[1] if type(m) is tuple else m.size

    def exists(self, rel: str) -> bool:
        m = self._m(rel)
        return m is not None and self._isfile(m)

    def is_dir(self, rel: str) -> bool:
        return (self.prefix + rel) in self._dirs

    def open(self, rel: str) -> BinaryIO:
        m = self._m(rel)
        if m is None or not self._isfile(m):
            raise FileNotFoundError(rel)
        if type(m) is tuple:  # a plain regular file, indexed compactly: (offset of its data, size)
            ti = tarfile.TarInfo(self.prefix + rel)
            ti.offset_data, ti.size = m
            m = ti
        f = self.tar.extractfile(m)
        if f is None:
            raise FileNotFoundError(rel)
        return f

    def size(self, rel: str) -> int | None:
        m = self._m(rel)
        return self._size(m) if m is not None else None

    def iter_files(self, folder: str) -> Iterator[tuple[str, int]]:
        start = self.prefix + folder.rstrip("/") + "/"
        for name in sorted(self.members):
            m = self.members[name]
            if name.startswith(start) and self._isfile(m):
                yield name[len(self.prefix):], self._size(m)

    def local_copy(self, names: list[str]) -> Path:
        if self._tmp is None:
            self._tmp = Path(tempfile.mkdtemp(prefix="noarkpack-validate-"))
        for n in names:
            dst = self._tmp / n
            if dst.exists() or not self.exists(n) or "/" in n:
                continue
            with self.open(n) as src, open(dst, "wb") as out:
                shutil.copyfileobj(src, out)
        return self._tmp

    def identify_batch(self, rels: list[str], workdir: Path) -> None:
        """NP.01 for many documents at once, with Siegfried's workers on every core.

        Siegfried reads files by path: the members are copied into ``workdir`` (under a number, with
        their own suffix, which some signatures use), identified together and removed.  What it says
        is kept per document (a few bytes each) for :func:`identify_document`; a batch that fails is
        skipped, and the content pass then identifies those documents one at a time as before.
        """
        from ..documents import identify_many

        paths: list[Path] = []
        try:
            for rel in rels:
                # a name never used before in this process: identify() knows files by path, size,
                # times and inode, and a reused name could meet its predecessor's inode and times
                self._copies += 1
                dst = workdir / f"np01-{self._copies:08d}{Path(rel).suffix}"
                with self.open(rel) as src, open(dst, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                paths.append(dst)
            idents = identify_many(paths)
        except Exception:  # noqa: BLE001 - reported per document by the content pass
            return
        finally:
            for path in paths:
                path.unlink(missing_ok=True)
        self.adopt_identified(rels, *tabulate(idents))

    @property
    def seekable_members(self) -> bool:
        """Whether a plain member's bytes lie at its data offset in the file (an uncompressed tar)."""
        return isinstance(self.tar.fileobj, io.BufferedReader)

    def data_offset(self, rel: str) -> int | None:
        """Where the bytes of the plain file ``rel`` start in the tar, or None (not a plain file)."""
        m = self._m(rel)
        return m[0] if type(m) is tuple else None

    def adopt_identified(self, rels: Iterable[str], results: list[tuple[str, str]], index) -> None:
        """Keep what a batch (or a child process: :func:`.identify_child.identify_members_in_child`) found:
        ``results[index[i]]`` for the i-th of ``rels``; an index of ``NONE``: not identified."""
        from ..idset import IdSet

        if self._identified is None:
            self._identified = IdSet()
        here = []  # position in self._results of each of `results` (each distinct pair kept once)
        for result in results:
            i = self._result_pos.setdefault(result, len(self._results))
            if i == len(self._results):
                self._results.append(result)
            here.append(i)
        for rel, i in zip(rels, index):
            if i != NONE:
                self._identified.add(norm_ref(rel), here[i])

    def identified(self, rel: str) -> tuple[str, str] | None:
        """What :meth:`identify_batch` found for the document ``rel`` (normalised), if anything."""
        if self._identified is None:
            return None
        i = self._identified.get_line(rel)
        return self._results[i] if i is not None else None

    def close(self) -> None:
        self.tar.close()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)


def _root_dir(path: Path) -> Path | None:
    """The folder holding arkivuttrekk.xml (or arkivstruktur.xml) for a folder PATH."""
    candidates = [path, path / "avleveringspakke", path / "content"]
    # a SIP/AIP folder unpacked: {uuid}/content/
    try:
        subdirs = [p for p in path.iterdir() if p.is_dir()]
    except OSError:
        subdirs = []
    if len(subdirs) == 1:
        candidates += [subdirs[0], subdirs[0] / "content"]
    for c in candidates:
        if any((c / n).is_file() for n in ADDML_NAMES):
            return c
    for c in candidates:
        if (c / "arkivstruktur.xml").is_file():
            return c
    return None


def find_extract_dir(path: str | os.PathLike) -> Path | None:
    """The folder of the extract in the folder PATH (itself, its avleveringspakke/, content/, or one level
    down), or None: what :func:`open_source` looks for, without opening anything."""
    p = Path(path)
    return _root_dir(p) if p.is_dir() else None


_PLAIN = (tarfile.REGTYPE, tarfile.AREGTYPE)


def _open_tar(path: Path) -> TarSource:
    try:
        tar = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError) as exc:
        raise ValidationError(tr("cannot read the tar file: {error}", error=str(exc)), file=path) from exc
    # name → (offset of the data, size) for a plain regular file (~1 KB less than its TarInfo), else the TarInfo
    members: dict[str, tarfile.TarInfo | tuple[int, int]] = {}
    for m in tar:  # one sequential read of the headers
        name = str(PurePosixPath(m.name.lstrip("/")))
        if name.startswith("./"):
            name = name[2:]
        members[name] = (m.offset_data, m.size) if m.type in _PLAIN and m.sparse is None else m
        tar.members.clear()  # tarfile would otherwise keep every TarInfo until the end
    tar.members = []  # the index above is all we keep
    best = None
    for name in members:
        base = name.rsplit("/", 1)[-1]
        if base in ADDML_NAMES or base == "arkivstruktur.xml":
            prefix = name[: len(name) - len(base)]
            if "administrative_metadata/" in prefix:
                continue
            rank = (0 if base in ADDML_NAMES else 1, prefix.count("/"))
            if best is None or rank < best[0]:
                best = (rank, prefix)
    if best is None:
        tar.close()
        raise ValidationError(tr("the tar holds no Noark 5 extract (no arkivuttrekk.xml or arkivstruktur.xml)"),
                              file=path)
    return TarSource(path, best[1], tar, members)


def open_source(path: str | os.PathLike) -> ExtractSource:
    """Find the extract in PATH: a folder, its avleveringspakke/ or content/, or a tar."""
    p = Path(path)
    if not p.exists():
        raise ValidationError(tr("no such file or folder"), file=p)
    if p.is_file():
        if tarfile.is_tarfile(p):
            return _open_tar(p)
        if p.name in ADDML_NAMES or p.name == "arkivstruktur.xml":
            return DirSource(p.parent)
        raise ValidationError(tr("not an extract folder, a tar file or arkivuttrekk.xml"), file=p)
    root = _root_dir(p)
    if root is None:
        raise ValidationError(
            tr("no Noark 5 extract here: no arkivuttrekk.xml (or arkivstruktur.xml) in the folder, "
               "its avleveringspakke/ or its content/"), file=p)
    return DirSource(root)


def identify_document(source: ExtractSource, rel: str):
    """NP.01: what Siegfried says of one document of ``source``, as (PUID, label).

    A tar source's member comes from :meth:`TarSource.identify_batch` when the listing identified it,
    else from a temporary copy.
    """
    from ..documents import identify

    root = getattr(source, "root", None)
    if root is not None:
        ident = identify(Path(root) / rel)
    else:  # a tar: what a batch found (TarSource.identify_batch), else a temporary copy
        known = source.identified(rel) if isinstance(source, TarSource) else None
        if known is not None:
            return known
        with tempfile.NamedTemporaryFile(suffix=Path(rel).suffix) as tmp:
            with source.open(rel) as src:
                shutil.copyfileobj(src, tmp)
            tmp.flush()
            ident = identify(Path(tmp.name))
    return ident.puid, ident.details or ident.name


__all__ = ["ExtractSource", "DirSource", "TarSource", "ValidationError", "open_source", "norm_ref",
           "identify_document", "find_extract_dir", "DOCUMENT_DIRS", "ADDML_NAMES"]
