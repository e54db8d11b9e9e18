"""The extract's files and the checksums already recorded for them.

Checksums are computed once, where the bytes are first read, and carried forward:

* the XML/XSD files of the extract: from an :class:`~noarkpack.noark5.writer.ExtractResult`
  when the caller has one, else from the ADDML (``arkivuttrekk.xml``: every
  ``property[@name='file']`` with its ``checksum``);
* the documents: from ``arkivstruktur.xml`` (``dokumentobjekt/referanseDokumentfil`` +
  ``sjekksum`` when ``sjekksumAlgoritme`` is SHA-256), streamed with iterparse.

Only files with no recorded SHA-256 are hashed, each once.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from array import array
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Iterator

from lxml import etree

from ..locale import tr
from .errors import PackagingError

ADDML_NAMES = ("arkivuttrekk.xml", "addml.xml")
#: the longest path component and the longest member path we accept (portable limits)
MAX_COMPONENT = 255
MAX_PATH = 4096


def safe_parser(**kw) -> etree.XMLParser:
    """An XML parser with entity resolution and network access off."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True, **kw)


def local(tag) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def normalise_algorithm(name: str | None) -> str | None:
    """"SHA256", "SHA-256", "sha256" → "sha256" (None for unknown)."""
    if not name:
        return None
    n = name.strip().lower().replace("-", "").replace("_", "")
    return {"sha256": "sha256", "sha1": "sha1", "md5": "md5", "sha384": "sha384", "sha512": "sha512",
            "sha224": "sha224"}.get(n)


def normalise_reference(ref: str) -> str:
    """A referanseDokumentfil as a relative POSIX path in NFC (``\\`` becomes ``/``)."""
    ref = unicodedata.normalize("NFC", ref.strip().replace("\\", "/"))
    while ref.startswith("./"):
        ref = ref[2:]
    return ref


class ExtractFiles:
    """The extract's files in columns: ~160 bytes per file (an extract may hold millions).

    Iterating gives an :class:`ExtractFileInfo` view per file, made on the fly; its ``sha256`` is
    stored back as 32 raw bytes.
    """

    def __init__(self) -> None:
        self.rels: list[str] = []  # POSIX paths relative to the extract root, in path-component order
        self.sizes = array("q")
        self.mtimes = array("d")
        self._sha = bytearray()  # 32 bytes per file
        self._has = bytearray()  # 1: _sha holds the file's SHA-256

    def append(self, rel: str, size: int, mtime: float) -> None:
        self.rels.append(rel)
        self.sizes.append(size)
        self.mtimes.append(mtime)
        self._sha.extend(bytes(32))
        self._has.append(0)

    def __len__(self) -> int:
        return len(self.rels)

    def __iter__(self) -> Iterator[ExtractFileInfo]:
        return (ExtractFileInfo(self, i) for i in range(len(self.rels)))

    def get_sha256(self, i: int) -> str | None:
        return self._sha[32 * i:32 * i + 32].hex() if self._has[i] else None

    def set_sha256(self, i: int, value: str | None) -> bool:
        """Store a hex SHA-256; False (nothing stored) when ``value`` is not one."""
        if value is None:
            self._has[i] = 0
            return True
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            return False
        if len(raw) != 32:
            return False
        self._sha[32 * i:32 * i + 32] = raw
        self._has[i] = 1
        return True


class ExtractFileInfo:
    """A view of one file of :class:`ExtractFiles` (rel, size, mtime, sha256)."""

    __slots__ = ("_files", "_i")

    def __init__(self, files: ExtractFiles, i: int) -> None:
        self._files, self._i = files, i

    @property
    def rel(self) -> str:
        return self._files.rels[self._i]

    @property
    def size(self) -> int:
        return self._files.sizes[self._i]

    @property
    def mtime(self) -> float:
        return self._files.mtimes[self._i]

    @property
    def sha256(self) -> str | None:
        return self._files.get_sha256(self._i)

    @sha256.setter
    def sha256(self, value: str | None) -> None:
        if not self._files.set_sha256(self._i, value):
            raise ValueError(f"not a SHA-256: {value!r}")


def find_extract_root(path: str | os.PathLike) -> Path:
    """EXTRACT: the ``avleveringspakke`` folder itself, or a folder holding one."""
    p = Path(path)
    if not p.is_dir():
        raise PackagingError(tr("the extract folder does not exist"), file=p)
    if (p / "avleveringspakke").is_dir():
        return p / "avleveringspakke"
    if any((p / n).is_file() for n in ADDML_NAMES):
        return p
    raise PackagingError(tr("not a Noark 5 extract: no arkivuttrekk.xml (or addml.xml)"), file=p,
                         hint=tr("give the avleveringspakke folder written by `noarkpack extract`"))


def addml_name(root: Path) -> str:
    for n in ADDML_NAMES:
        if (root / n).is_file():
            return n
    raise PackagingError(tr("the extract has no arkivuttrekk.xml (or addml.xml)"), file=root)


def walk_extract(root: Path) -> ExtractFiles:
    """Every regular file under ``root``, in sorted order; links and special files are refused.

    The order is by path component (a folder's files come before a name that merely starts with
    the folder's name), which is the order of the package's tar.  Names that collide when case and
    Unicode normalisation are folded are checked per folder (only siblings can collide).
    """
    out = ExtractFiles()

    def visit(folder: Path, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as e:
            raise PackagingError(tr("cannot read the folder: {error}", error=e.strerror), file=folder) from None
        folded: dict[str, str] = {}
        for e in entries:
            rel = f"{prefix}{e.name}"
            if e.name.startswith(".avleveringspakke.") or e.name in (".", ".."):
                continue
            st = e.stat(follow_symlinks=False)
            if stat.S_ISLNK(st.st_mode):
                raise PackagingError(tr("the extract contains a symbolic link; packages hold regular files only"),
                                     file=e.path, hint=tr("replace the link by the file it points to"))
            if len(e.name.encode("utf-8")) > MAX_COMPONENT or len(rel.encode("utf-8")) > MAX_PATH - 200:
                raise PackagingError(tr("a file name in the extract is too long to package portably"), file=e.path)
            if any(c in e.name for c in "\\\r\n\x00"):
                raise PackagingError(tr("a file name contains a backslash or a line break"), file=e.path,
                                     hint=tr("rename the file; such names break on other platforms"))
            key = unicodedata.normalize("NFC", e.name).casefold()
            if key in folded:
                raise PackagingError(
                    tr("two files differ only in letter case or Unicode normalisation: {first} and {second}",
                       first=repr(prefix + folded[key]), second=repr(rel)), file=root,
                    hint=tr("they would overwrite each other when unpacked on Windows or macOS"))
            folded[key] = e.name
            if stat.S_ISDIR(st.st_mode):
                visit(Path(e.path), rel + "/")
            elif stat.S_ISREG(st.st_mode):
                out.append(rel, st.st_size, st.st_mtime)
            else:
                raise PackagingError(tr("the extract contains a device, socket or pipe"), file=e.path)

    visit(root, "")
    return out


def addml_checksums(addml: Path | bytes) -> dict[str, tuple[str, str]]:
    """name → (algorithm, hex) for every file the ADDML lists with a checksum."""
    try:
        if isinstance(addml, (bytes, bytearray)):
            tree = etree.fromstring(bytes(addml), safe_parser())
        else:
            tree = etree.parse(str(addml), safe_parser()).getroot()
    except (etree.XMLSyntaxError, OSError) as e:
        raise PackagingError(tr("the ADDML cannot be read: {error}", error=str(e)), file=str(addml)[:200]) from None
    return addml_checksums_from_tree(tree)


def addml_checksums_from_tree(tree) -> dict[str, tuple[str, str]]:
    out: dict[str, tuple[str, str]] = {}
    for prop in tree.iter("{*}property"):
        if prop.get("name") != "file":
            continue
        name = algo = value = None
        props = prop.find("{*}properties")
        if props is None:
            continue
        for sub in props.findall("{*}property"):
            n = sub.get("name")
            if n == "name":
                name = (sub.findtext("{*}value") or "").strip()
            elif n == "checksum":
                for c in sub.iterfind("{*}properties/{*}property"):
                    if c.get("name") == "algorithm":
                        algo = (c.findtext("{*}value") or "").strip()
                    elif c.get("name") == "value":
                        value = (c.findtext("{*}value") or "").strip().lower()
        if name and value:
            out.setdefault(name, (algo or "", value))
    return out


@dataclass(slots=True)
class DocumentRef:
    ref: str  # normalised relative path
    algorithm: str | None
    checksum: str | None
    size: int | None
    systemID: str | None
    line: int | None
    format: str | None = None  #: dokumentobjekt/format (M701): the PUID the extraction identified
    details: str | None = None  #: dokumentobjekt/formatDetaljer (M702)


#: the elements whose end an ``observe`` callback of :func:`iter_document_refs` is shown (before they are cleared)
OBSERVED = frozenset(("registrering", "konvertering", "tittel"))


def iter_document_refs(source, observe=None) -> Iterator[DocumentRef]:
    """Stream ``dokumentobjekt`` references out of arkivstruktur.xml (a path or a binary stream).

    ``observe(name, element)``, when given, is called at the end of each element named in :data:`OBSERVED`,
    so that another reader of the same file (the extract's description) needs no pass of its own.
    """
    ctx = etree.iterparse(source, events=("end",), resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=True, remove_comments=True)
    for _, el in ctx:
        name = local(el.tag)
        if observe is not None and name in OBSERVED:
            observe(name, el)
        if name == "dokumentobjekt":
            vals = {local(c.tag): (c.text or "").strip() for c in el}
            ref = vals.get("referanseDokumentfil")
            if ref:
                size = vals.get("filstoerrelse")
                yield DocumentRef(
                    ref=normalise_reference(ref),
                    algorithm=vals.get("sjekksumAlgoritme"),
                    checksum=(vals.get("sjekksum") or "").lower() or None,
                    size=int(size) if size and size.isdigit() else None,
                    systemID=vals.get("systemID"),
                    line=el.sourceline,
                    format=vals.get("format"),
                    details=vals.get("formatDetaljer"),
                )
            el.clear()
        elif name in ("dokumentbeskrivelse", "registrering", "mappe", "klasse", "endring"):
            el.clear()
            parent = el.getparent()
            if parent is not None:
                while el.getprevious() is not None:
                    del parent[0]


def recorded_checksums(root: Path, files: ExtractFiles, extract_result=None, observe=None, formats=None) -> int:
    """Set ``sha256`` on every file of ``files`` whose SHA-256 was recorded at extraction; returns how many.

    ``observe`` is handed to :func:`iter_document_refs` (its one pass over arkivstruktur.xml, when the extract
    has one).  ``formats`` (a :class:`.formatinfo.FormatTable`), when given, learns each document's recorded
    format in the same pass.

    A recorded size that differs from the file's is an error: the extract changed
    after it was written.  The checksums are stored on the files themselves (no table beside them);
    a recorded value that is not a SHA-256 is ignored (the file is hashed instead).
    """
    index = {rel: i for i, rel in enumerate(files.rels)}
    n = 0

    def record(name: str, sha: str) -> None:
        nonlocal n
        i = index[name]
        if files.get_sha256(i) is None and files.set_sha256(i, sha):
            n += 1

    if extract_result is not None and getattr(extract_result, "files", None):
        for name, ef in extract_result.files.items():
            sha = getattr(ef, "sha256", None) or (ef[0] if isinstance(ef, tuple) else None)
            size = getattr(ef, "size", None) if not isinstance(ef, tuple) else ef[1]
            if name in index and sha:
                if size is not None and size != files.sizes[index[name]]:
                    raise PackagingError(tr("{name} has {size} bytes, {recorded} when it was extracted", name=name,
                                            size=files.sizes[index[name]], recorded=size),
                                         file=root / name,
                                         hint=tr("the extract changed after extraction; extract again"))
                record(name, sha.lower())
    else:
        name = next((n for n in ADDML_NAMES if n in index), None)
        if name is not None:
            for fname, (algo, value) in addml_checksums(root / name).items():
                fname = normalise_reference(fname)
                if fname in index and normalise_algorithm(algo) == "sha256":
                    record(fname, value)
    if "arkivstruktur.xml" in index:
        for d in iter_document_refs(str(root / "arkivstruktur.xml"), observe):
            if formats is not None and d.ref in index:
                formats.note(index[d.ref], d.format, d.details)
            if d.ref not in index or not d.checksum or normalise_algorithm(d.algorithm) != "sha256":
                continue
            if d.size is not None and d.size != files.sizes[index[d.ref]]:
                raise PackagingError(
                    tr("document {ref} has {size} bytes, arkivstruktur.xml records {recorded}", ref=d.ref,
                       size=files.sizes[index[d.ref]], recorded=d.size),
                    file=root / d.ref, line=d.line, hint=tr("the extract changed after extraction; extract again"))
            record(d.ref, d.checksum)
    return n


def posix(rel: str) -> str:
    return str(PurePosixPath(rel))
