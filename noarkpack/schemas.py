"""The schema store: the official schemas, pinned by SHA-256, installed by the user.

The Noark 5 standard requires an extract to ship the official XSDs byte for
byte, but the files are not ours to redistribute.  So noarkpack ships only
*lock files* (``schemas/<set>.lock.toml``): for each official schema set, each
file's name, its official URL at a pinned commit, its SHA-256 and its size.
The files themselves live in a local **store**:

    <store root>/<set name>/<file name>      e.g.  …/noark5-v5.0/arkivstruktur.xsd

All files of a set sit side by side under their official names, so relative
imports such as ``schemaLocation="metadatakatalog.xsd"`` resolve.  The root is
``$NOARKPACK_SCHEMA_DIR`` when set, otherwise
``platformdirs.user_data_dir("noarkpack")/schemas``.

:meth:`SchemaStore.install` fills the store: each pinned file is looked up by
its SHA-256 anywhere under a folder the user names (``--from DIR``), else
downloaded from its pinned URL.  Every byte is verified before a file is put in
place, and a file is only ever renamed into place complete.

:meth:`SchemaStore.set_dir` is what the rest of noarkpack calls: it returns the
folder of a complete, verified set or raises :class:`SchemaStoreError` whose
message says exactly how to install it.

This module never prints and never exits.  ``install()`` does not raise for
files it could not install: it installs what it can and returns an
:class:`InstallReport` with ``ok == False``; the caller decides (the CLI prints
the report and exits 2, a script may call :meth:`InstallReport.raise_for_missing`).
"""

from __future__ import annotations

import functools
import os
import re
import tempfile
import threading
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from ._version import __version__
from noarkpack.fsutil import fsync_dir
from noarkpack.errors import SchemaStoreError
from noarkpack.hashing import CHUNK_SIZE, HashingWriter, sha256_file
from noarkpack.resources import schemas_dir

__all__ = [
    "ENV_VAR",
    "FileOutcome",
    "InstallReport",
    "SchemaFile",
    "SchemaProblem",
    "SchemaSet",
    "SchemaStore",
    "Status",
    "default_root",
    "default_store",
    "install_hint",
    "schema_sets",
]

#: environment variable that overrides the store's place
ENV_VAR = "NOARKPACK_SCHEMA_DIR"

#: lock file format this module reads
LOCK_VERSION = 1

#: seconds a download may stall before it is given up
DOWNLOAD_TIMEOUT = 60.0

# Names that are safe as one path component on every platform.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")

# Temporary files in the store: ".<name>.<random>.part".  A leftover from an
# interrupted install older than this many seconds is removed by install().
_TEMP_SUFFIX = ".part"
_STALE_TEMP_SECONDS = 3600


# --------------------------------------------------------------------------
# Lock files
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaFile:
    """One pinned file of a schema set."""

    name: str  #: file name inside the set (and inside an extract)
    url: str  #: official source at a pinned commit
    sha256: str  #: lowercase hex
    size: int  #: bytes


@dataclass(frozen=True)
class SchemaSet:
    """An official schema set as pinned by its lock file."""

    name: str
    description: str
    repository: str
    commit: str
    licence: str
    files: tuple[SchemaFile, ...]
    lock_file: Path

    def file(self, name: str) -> SchemaFile:
        """The pinned file ``name``; SchemaStoreError if the set has none."""
        for f in self.files:
            if f.name == name:
                return f
        raise SchemaStoreError(
            f"schema set {self.name!r} has no file {name!r} "
            f"(it has: {', '.join(f.name for f in self.files)})"
        )

    @property
    def file_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.files)


def _lock_error(path: Path, message: str) -> SchemaStoreError:
    return SchemaStoreError(
        f"invalid schema lock file: {message}",
        file=path,
        hint="the noarkpack installation is damaged; reinstall noarkpack",
    )


def _load_lock(path: Path) -> SchemaSet:
    """Read and check one lock file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _lock_error(path, str(exc)) from exc

    if data.get("lock_version") != LOCK_VERSION:
        raise _lock_error(path, f"lock_version must be {LOCK_VERSION}")
    header = {}
    for key in ("name", "description", "repository", "commit", "licence"):
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise _lock_error(path, f"missing or empty {key!r}")
        header[key] = value
    if not _SAFE_NAME.fullmatch(header["name"]):
        raise _lock_error(path, f"set name {header['name']!r} is not a safe folder name")
    if path.name != f"{header['name']}.lock.toml":
        raise _lock_error(path, f"file name does not match set name {header['name']!r}")

    files: list[SchemaFile] = []
    seen: set[str] = set()
    entries = data.get("file")
    if not isinstance(entries, list) or not entries:
        raise _lock_error(path, "no [[file]] entries")
    for i, entry in enumerate(entries, 1):
        try:
            name, url, sha, size = entry["name"], entry["url"], entry["sha256"], entry["size"]
        except (KeyError, TypeError):
            raise _lock_error(path, f"[[file]] #{i} needs name, url, sha256 and size") from None
        if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name) or name in seen:
            raise _lock_error(path, f"[[file]] #{i}: bad or repeated name {name!r}")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise _lock_error(path, f"[[file]] {name}: url must be https")
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise _lock_error(path, f"[[file]] {name}: sha256 must be 64 lowercase hex digits")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _lock_error(path, f"[[file]] {name}: size must be a non-negative integer")
        seen.add(name)
        files.append(SchemaFile(name=name, url=url, sha256=sha, size=size))

    return SchemaSet(files=tuple(files), lock_file=path, **header)


@functools.cache
def _load_all(folder: Path) -> dict[str, SchemaSet]:
    sets: dict[str, SchemaSet] = {}
    for path in sorted(folder.glob("*.lock.toml")):
        schema_set = _load_lock(path)
        sets[schema_set.name] = schema_set
    return sets


def schema_sets() -> dict[str, SchemaSet]:
    """All schema sets pinned by the lock files shipped with noarkpack, by name."""
    return dict(_load_all(schemas_dir()))


def _resolve_sets(names: Iterable[str] | None) -> list[SchemaSet]:
    """The sets named (all when ``names`` is None); SchemaStoreError for unknown names."""
    known = schema_sets()
    if names is None:
        return list(known.values())
    if isinstance(names, str):  # a lone name, not an iterable of characters
        names = [names]
    result = []
    for name in names:
        if name not in known:
            raise SchemaStoreError(
                f"unknown schema set {name!r}; the known sets are: {', '.join(known)}"
            )
        if known[name] not in result:
            result.append(known[name])
    return result


# --------------------------------------------------------------------------
# Verification cache
# --------------------------------------------------------------------------

# Hash each installed file at most once per process.  The key includes the
# file's identity, size and modification time, so a file replaced or
# rewritten after it was hashed is hashed again.
_hash_cache: dict[tuple[str, int, int, int, int], str] = {}
_hash_cache_lock = threading.Lock()


def _stat_key(path: Path, st: os.stat_result) -> tuple[str, int, int, int, int]:
    return (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _hash_installed(path: Path, st: os.stat_result, *, fresh: bool = False) -> str:
    """SHA-256 of an installed file, from the cache unless ``fresh``."""
    key = _stat_key(path, st)
    if not fresh:
        with _hash_cache_lock:
            cached = _hash_cache.get(key)
        if cached is not None:
            return cached
    digest = sha256_file(path)
    with _hash_cache_lock:
        _hash_cache[key] = digest
    return digest


def _remember_hash(path: Path, digest: str) -> None:
    """Record the hash of a file this process just wrote and verified."""
    try:
        st = path.stat()
    except OSError:
        return
    with _hash_cache_lock:
        _hash_cache[_stat_key(path, st)] = digest


# --------------------------------------------------------------------------
# Store location and messages
# --------------------------------------------------------------------------


def default_root() -> Path:
    """``$NOARKPACK_SCHEMA_DIR`` if set, else ``<user data dir>/noarkpack/schemas``."""
    override = os.environ.get(ENV_VAR)
    if override:
        return Path(override).expanduser()
    import platformdirs  # only needed when there is no override

    return Path(platformdirs.user_data_dir("noarkpack", appauthor=False)) / "schemas"


def install_hint(root: Path | None = None) -> str:
    """The exact commands that fill the store at ``root`` (default: the default store)."""
    prefix = ""
    if root is not None and Path(root).expanduser().absolute() != default_root().absolute():
        # A store the CLI would not find by itself: name it in the command.
        prefix = f"{ENV_VAR}={root} "
    return (
        f"run `{prefix}noarkpack schemas install --from DIR` with DIR any folder that holds "
        f"the official files, or `{prefix}noarkpack schemas install` to download them "
        "from their pinned official URLs"
    )


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


class Status(StrEnum):
    INSTALLED = "installed"  #: placed in the store by this install
    PRESENT = "present"  #: already in the store and verified
    MISSING = "missing"  #: could not be installed (see reason)


@dataclass(frozen=True)
class FileOutcome:
    """What install() did with one pinned file."""

    set_name: str
    name: str
    status: Status
    sha256: str
    path: Path | None = None  #: the file in the store (None when missing)
    source: str | None = None  #: file path or URL it was installed from
    reason: str | None = None  #: why it is missing, or a note (e.g. replaced a bad copy)

    def __str__(self) -> str:
        text = f"{self.set_name}/{self.name}: {self.status}"
        if self.source:
            text += f" from {self.source}"
        if self.reason:
            text += f" ({self.reason})"
        return text


@dataclass
class InstallReport:
    """The outcome of one :meth:`SchemaStore.install` call, file by file."""

    root: Path
    outcomes: list[FileOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every requested file is in the store and verified."""
        return not self.missing

    @property
    def installed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status is Status.INSTALLED]

    @property
    def present(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status is Status.PRESENT]

    @property
    def missing(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status is Status.MISSING]

    def by_set(self) -> dict[str, list[FileOutcome]]:
        result: dict[str, list[FileOutcome]] = {}
        for o in self.outcomes:
            result.setdefault(o.set_name, []).append(o)
        return result

    @property
    def complete_sets(self) -> list[str]:
        return [s for s, outs in self.by_set().items() if all(o.status is not Status.MISSING for o in outs)]

    @property
    def incomplete_sets(self) -> list[str]:
        return [s for s, outs in self.by_set().items() if any(o.status is Status.MISSING for o in outs)]

    def summary(self) -> str:
        """A few lines for a terminal: per set what happened, then the totals.

        Sets whose files were all present take one line; otherwise each file
        that was installed or is missing has its own line.
        """
        lines = [f"schema store: {self.root}"]
        for set_name, outcomes in self.by_set().items():
            if all(o.status is Status.PRESENT for o in outcomes):
                lines.append(f"  {set_name}: all {len(outcomes)} files already present")
                continue
            lines.append(f"  {set_name}:")
            for o in outcomes:
                if o.status is Status.INSTALLED:
                    lines.append(f"    {o.name}: installed from {o.source}" + (f" ({o.reason})" if o.reason else ""))
                elif o.status is Status.MISSING:
                    lines.append(f"    {o.name}: MISSING: {o.reason}")
            present = sum(o.status is Status.PRESENT for o in outcomes)
            if present:
                lines.append(f"    ({present} more already present)")
        lines.append(
            f"{len(self.installed)} installed, {len(self.present)} already present, "
            f"{len(self.missing)} missing"
        )
        if not self.ok:
            lines.append(install_hint(self.root))
        return "\n".join(lines)

    def error(self) -> SchemaStoreError | None:
        """A SchemaStoreError summarising the missing files, or None when ok.

        The message names the missing files per set; with a few missing files
        it also gives each one's reason (the report has all of them).
        """
        if self.ok:
            return None
        missing = self.missing
        per_set: dict[str, list[str]] = {}
        for o in missing:
            per_set.setdefault(o.set_name, []).append(o.name)
        summary = "; ".join(f"{name}: {', '.join(files)}" for name, files in per_set.items())
        text = (
            f"{len(missing)} of {len(self.outcomes)} pinned schema files could not be "
            f"installed into {self.root} ({summary})"
        )
        if len(missing) <= 3:
            text += ": " + "; ".join(f"{o.set_name}/{o.name}: {o.reason}" for o in missing)
        return SchemaStoreError(text, hint=install_hint(self.root))

    def raise_for_missing(self) -> None:
        """Raise :meth:`error` unless every file was installed."""
        err = self.error()
        if err is not None:
            raise err


@dataclass(frozen=True)
class SchemaProblem:
    """A file of a schema set that is missing from the store or does not match its pin."""

    set_name: str
    name: str
    kind: str  #: "missing" or "mismatch"
    path: Path
    message: str

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------


class _Mismatch(Exception):
    """Bytes copied into the store did not match the pin."""

    def __init__(self, sha256: str, size: int, truncated: bool) -> None:
        super().__init__(sha256)
        self.sha256 = sha256
        self.size = size
        self.truncated = truncated  # more bytes than the pinned size arrived


def _open_url(url: str, timeout: float) -> BinaryIO:
    """Open ``url`` for reading (the one place that touches the network)."""
    request = urllib.request.Request(url, headers={"User-Agent": f"noarkpack/{__version__}"})
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (https only, checked in lock)


class SchemaStore:
    """A folder with one verified sub-folder per installed schema set."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self._explicit = root is not None
        self.root = Path(root).expanduser() if root is not None else default_root()

    def __repr__(self) -> str:
        return f"SchemaStore({str(self.root)!r})"

    # -- reading -------------------------------------------------------------

    def _set_folder(self, name: str) -> Path:
        return self.root / name

    def _hint(self) -> str:
        return install_hint(self.root if self._explicit else None)

    def _check_file(self, set_name: str, f: SchemaFile, *, fresh: bool) -> SchemaProblem | None:
        """None if the store holds ``f`` byte-identical to its pin, else the problem."""
        path = self._set_folder(set_name) / f.name
        try:
            st = path.stat()
        except FileNotFoundError:
            return SchemaProblem(set_name, f.name, "missing", path, f"{set_name}/{f.name} is not installed ({path})")
        except OSError as exc:
            return SchemaProblem(set_name, f.name, "missing", path, f"{set_name}/{f.name} cannot be read: {exc}")
        if not path.is_file():
            return SchemaProblem(set_name, f.name, "missing", path, f"{set_name}/{f.name}: {path} is not a file")
        if st.st_size != f.size:
            return SchemaProblem(
                set_name, f.name, "mismatch", path,
                f"{set_name}/{f.name} in the store has {st.st_size} bytes, the pinned file {f.size} ({path})",
            )
        try:
            digest = _hash_installed(path, st, fresh=fresh)
        except OSError as exc:
            return SchemaProblem(set_name, f.name, "missing", path, f"{set_name}/{f.name} cannot be read: {exc}")
        if digest != f.sha256:
            return SchemaProblem(
                set_name, f.name, "mismatch", path,
                f"{set_name}/{f.name} in the store has SHA-256 {digest}, the pinned file {f.sha256} ({path})",
            )
        return None

    def verify(self, sets: Iterable[str] | None = None) -> list[SchemaProblem]:
        """Re-hash every file of the given sets (default: all); return what is wrong.

        Missing files are problems too.  An empty list means every file of
        every set named is installed and byte-identical to its pin.  Unlike
        :meth:`set_dir`, this always reads every byte again.
        """
        problems = []
        for schema_set in _resolve_sets(sets):
            for f in schema_set.files:
                problem = self._check_file(schema_set.name, f, fresh=True)
                if problem is not None:
                    problems.append(problem)
        return problems

    def is_installed(self, name: str) -> bool:
        """True if set ``name`` is complete and verified in this store."""
        schema_set = _resolve_sets([name])[0]
        return all(self._check_file(name, f, fresh=False) is None for f in schema_set.files)

    def set_dir(self, name: str) -> Path:
        """The folder of set ``name``, every file verified against its pin.

        Raises SchemaStoreError, with the command that installs the set, if
        any file is missing or differs.  Each file is hashed once per process
        (and again only if it changes on disk).
        """
        schema_set = _resolve_sets([name])[0]
        problems = [
            p for p in (self._check_file(name, f, fresh=False) for f in schema_set.files) if p is not None
        ]
        if problems:
            if all(p.kind == "missing" for p in problems):
                what = (
                    f"schema set {name!r} is not installed in the schema store {self.root}"
                    if len(problems) == len(schema_set.files)
                    else f"schema set {name!r} is incomplete in the schema store {self.root} "
                    f"(missing: {', '.join(p.name for p in problems)})"
                )
            else:
                what = (
                    f"schema set {name!r} in the schema store {self.root} does not match its pinned "
                    f"official files: " + "; ".join(p.message for p in problems)
                )
            raise SchemaStoreError(what, hint=self._hint())
        return self._set_folder(name)

    def path(self, name: str, filename: str) -> Path:
        """The verified file ``filename`` of set ``name`` (the whole set is verified)."""
        schema_set = _resolve_sets([name])[0]
        schema_set.file(filename)  # raises if the set has no such file
        return self.set_dir(name) / filename

    # -- installing ------------------------------------------------------------

    def install(
        self,
        from_dir: str | os.PathLike[str] | None = None,
        sets: Iterable[str] | None = None,
        download: bool = True,
        progress: Callable[[FileOutcome], None] | None = None,
        *,
        timeout: float = DOWNLOAD_TIMEOUT,
    ) -> InstallReport:
        """Put every pinned file of ``sets`` (default: all) into the store.

        For each file not yet present and verified in the store, the source is,
        in this order: a verified copy already in the store under another set;
        a file with the pinned SHA-256 anywhere under ``from_dir`` (walked
        once; only files of a pinned size are hashed); the pinned URL, if
        ``download`` is true.  The bytes are written under a temporary name
        in the set's folder, verified (size and SHA-256), fsynced and renamed
        into place; a file that does not match is never placed.  A copy in the
        store that does not match its pin is replaced.

        ``progress`` is called with each file's :class:`FileOutcome` as soon as
        it is known.  Files that cannot be installed do not raise: the
        returned report has ``ok == False`` and says why for each
        (:meth:`InstallReport.raise_for_missing` turns that into a
        SchemaStoreError).  SchemaStoreError is raised at once only for an
        unknown set name, a ``from_dir`` that is not a folder, or a store
        folder that cannot be created.
        """
        chosen = _resolve_sets(sets)
        source_dir: Path | None = None
        if from_dir is not None:
            source_dir = Path(from_dir).expanduser()
            if not source_dir.is_dir():
                raise SchemaStoreError(f"the folder to install schemas from does not exist: {source_dir}")

        report = InstallReport(root=self.root)

        def emit(outcome: FileOutcome) -> None:
            report.outcomes.append(outcome)
            if progress is not None:
                progress(outcome)

        # 1. What is already in the store, verified?  Verified copies also
        #    serve as sources for other sets pinning the same bytes.
        verified: dict[str, Path] = {}  # sha256 -> verified file in the store
        todo: list[tuple[SchemaSet, SchemaFile, str | None]] = []  # (set, file, note)
        for schema_set in chosen:
            for f in schema_set.files:
                problem = self._check_file(schema_set.name, f, fresh=False)
                if problem is None:
                    path = self._set_folder(schema_set.name) / f.name
                    verified.setdefault(f.sha256, path)
                else:
                    note = "replaced a copy that did not match its pin" if problem.kind == "mismatch" else None
                    todo.append((schema_set, f, note))

        # Another set in the store may hold the same bytes (e.g. ADDML 8.3 is
        # in both addml-8.3 and dias): a verified copy needs no other source.
        wanted = {f.sha256 for _, f, _ in todo} - verified.keys()
        if wanted:
            for other in schema_sets().values():
                for f in other.files:
                    if f.sha256 in wanted and f.sha256 not in verified:
                        if self._check_file(other.name, f, fresh=False) is None:
                            verified[f.sha256] = self._set_folder(other.name) / f.name

        # 2. Look for the missing ones under from_dir, by hash.
        found: dict[str, Path] = {}
        same_name: dict[str, list[_Candidate]] = {}
        needed = {f.sha256 for _, f, _ in todo if f.sha256 not in verified}
        if source_dir is not None and needed:
            found, same_name = _search_folder(
                source_dir, {f.sha256: f for _, f, _ in todo if f.sha256 in needed}
            )

        # 3. Place each missing file, or say why not; report in lock order.
        pending = {(s.name, f.name): (f, note) for s, f, note in todo}
        for schema_set in chosen:
            folder = self._set_folder(schema_set.name)
            if any(s is schema_set for s, _, _ in todo):
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise SchemaStoreError(
                        f"cannot create the schema store folder {folder}: {exc}",
                        hint=f"set {ENV_VAR} to a writable folder",
                    ) from exc
                _remove_stale_temps(folder)
            for f in schema_set.files:
                dest = folder / f.name
                if (schema_set.name, f.name) not in pending:
                    emit(FileOutcome(schema_set.name, f.name, Status.PRESENT, f.sha256, path=dest))
                    continue
                _, note = pending[(schema_set.name, f.name)]
                outcome = self._install_one(
                    schema_set.name, f, dest, note,
                    local=verified.get(f.sha256) or found.get(f.sha256),
                    same_name=same_name.get(f.name, []),
                    searched=source_dir,
                    download=download,
                    timeout=timeout,
                )
                if outcome.status is Status.INSTALLED:
                    verified.setdefault(f.sha256, dest)
                emit(outcome)
        return report

    def _install_one(
        self,
        set_name: str,
        f: SchemaFile,
        dest: Path,
        note: str | None,
        *,
        local: Path | None,
        same_name: list[_Candidate],
        searched: Path | None,
        download: bool,
        timeout: float,
    ) -> FileOutcome:
        """Install one file from ``local`` or its URL; never raises for a bad source."""
        reasons: list[str] = []

        if local is not None:
            try:
                with open(local, "rb") as src:
                    _place_verified(src, dest, f)
                return FileOutcome(set_name, f.name, Status.INSTALLED, f.sha256, dest, str(local), note)
            except _Mismatch as exc:  # changed since it was hashed
                reasons.append(f"{local} changed while being copied (SHA-256 now {exc.sha256})")
            except OSError as exc:
                reasons.append(f"copying {local} failed: {exc}")

        if searched is not None and local is None:
            reasons.append(f"no file under {searched} has the pinned SHA-256 {f.sha256}")
            refused = [c.describe(f) for c in same_name if c.sha256 != f.sha256]
            if refused:
                # Files of the right name that are not the official bytes:
                # a different version, or a modified copy.
                shown = refused[:3] + ([f"and {len(refused) - 3} more"] if len(refused) > 3 else [])
                reasons.append("refused as not the pinned file: " + ", ".join(shown))

        if download:
            try:
                with _open_url(f.url, timeout) as response:
                    _place_verified(response, dest, f)
                return FileOutcome(set_name, f.name, Status.INSTALLED, f.sha256, dest, f.url, note)
            except _Mismatch as exc:
                got = "more bytes than pinned" if exc.truncated else f"{exc.size} bytes with SHA-256 {exc.sha256}"
                reasons.append(f"download from {f.url} refused: got {got}, pinned {f.size} bytes with SHA-256 {f.sha256}")
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reasons.append(f"download from {f.url} failed: {exc}")
        elif not download and searched is None:
            reasons.append("no --from folder given and downloading is off")

        return FileOutcome(set_name, f.name, Status.MISSING, f.sha256, None, None, "; ".join(reasons))


def default_store() -> SchemaStore:
    """The store at ``$NOARKPACK_SCHEMA_DIR``, or in the user's data dir."""
    return SchemaStore()


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    """A file under --from DIR that has the name of a pinned file."""

    path: Path
    size: int
    sha256: str | None  # None: not hashed (size of no pinned file) or unreadable

    def describe(self, pinned: SchemaFile) -> str:
        if self.size != pinned.size:
            return f"{self.path} ({self.size} bytes, pinned {pinned.size})"
        if self.sha256 is None:
            return f"{self.path} (unreadable)"
        return f"{self.path} (SHA-256 {self.sha256})"


def _search_folder(
    folder: Path, wanted: dict[str, SchemaFile]
) -> tuple[dict[str, Path], dict[str, list[_Candidate]]]:
    """Walk ``folder`` once and find a file for each SHA-256 in ``wanted``.

    Only files whose size equals a pinned size are hashed, so a large folder
    of unrelated data costs little more than a directory listing.  Also
    returns the files that carry a pinned file's *name*, to explain a refusal
    ("found X, but it is not the official file").
    """
    sizes = {f.size for f in wanted.values()}
    names = {f.name for f in wanted.values()}
    found: dict[str, Path] = {}
    same_name: dict[str, list[_Candidate]] = {}

    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()  # deterministic: the same DIR gives the same sources
        for filename in sorted(filenames):
            path = Path(dirpath) / filename
            try:
                size = path.stat().st_size
            except OSError:
                continue
            digest = None
            if size in sizes:
                try:
                    digest = sha256_file(path)
                except OSError:
                    digest = None
                if digest in wanted and digest not in found:
                    found[digest] = path
            if filename in names:
                same_name.setdefault(filename, []).append(_Candidate(path, size, digest))
        if len(found) == len(wanted):
            break
    return found, same_name


def _place_verified(src: BinaryIO, dest: Path, f: SchemaFile) -> None:
    """Copy ``src`` to ``dest`` via a temporary file, verifying size and SHA-256.

    Raises :class:`_Mismatch` (and leaves ``dest`` untouched) if the bytes are
    not the pinned ones.  At most ``f.size + 1`` bytes are read from ``src``.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=_TEMP_SUFFIX, dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            out = HashingWriter(raw)
            limit = f.size + 1  # one byte more reveals an oversized source
            while out.size < limit:
                chunk = src.read(min(CHUNK_SIZE, limit - out.size))
                if not chunk:
                    break
                out.write(chunk)
            out.flush()
            os.fsync(raw.fileno())
        if out.size != f.size or out.hexdigest() != f.sha256:
            raise _Mismatch(out.hexdigest(), out.size, truncated=out.size > f.size)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)
    _remember_hash(dest, f.sha256)


def _remove_stale_temps(folder: Path) -> None:
    """Delete temporary files left by an interrupted install (not a running one)."""
    cutoff = time.time() - _STALE_TEMP_SECONDS
    for tmp in _iter_temps(folder):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
        except OSError:
            pass


def _iter_temps(folder: Path) -> Iterator[Path]:
    return (p for p in folder.glob(f".*{_TEMP_SUFFIX}") if p.is_file())

