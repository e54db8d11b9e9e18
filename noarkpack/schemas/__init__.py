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

This package never prints and never exits.  ``install()`` does not raise for
files it could not install: it installs what it can and returns an
:class:`InstallReport` with ``ok == False``; the caller decides (the CLI prints
the report and exits 2, a script may call :meth:`InstallReport.raise_for_missing`).

The package: :mod:`.locks` (the pinned sets), :mod:`.results` (the store's place, install
reports), :mod:`.files` (verified hashing and placing), :mod:`.sources` (finding files by
SHA-256); the store itself, and the one function that touches the network, are here.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from noarkpack._version import __version__
from noarkpack.errors import SchemaStoreError
from noarkpack.locale import tr

from .files import Mismatch, hash_installed, place_verified, remove_stale_temps
from .locks import SchemaFile, SchemaSet, resolve_sets, schema_sets
from .results import ENV_VAR, FileOutcome, InstallReport, SchemaProblem, Status, default_root, install_hint
from .sources import Candidate, search_folder

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

#: seconds a download may stall before it is given up
DOWNLOAD_TIMEOUT = 60.0


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
        file = f"{set_name}/{f.name}"
        try:
            st = path.stat()
        except FileNotFoundError:
            return SchemaProblem(set_name, f.name, "missing", path,
                                 tr("{file} is not installed ({path})", file=file, path=str(path)))
        except OSError as exc:
            return SchemaProblem(set_name, f.name, "missing", path,
                                 tr("{file} cannot be read: {error}", file=file, error=str(exc)))
        if not path.is_file():
            return SchemaProblem(set_name, f.name, "missing", path,
                                 tr("{file}: {path} is not a file", file=file, path=str(path)))
        if st.st_size != f.size:
            return SchemaProblem(
                set_name, f.name, "mismatch", path,
                tr("{file} in the store has {size} bytes, the pinned file {pinned} ({path})",
                   file=file, size=st.st_size, pinned=f.size, path=str(path)),
            )
        try:
            digest = hash_installed(path, st, fresh=fresh)
        except OSError as exc:
            return SchemaProblem(set_name, f.name, "missing", path,
                                 tr("{file} cannot be read: {error}", file=file, error=str(exc)))
        if digest != f.sha256:
            return SchemaProblem(
                set_name, f.name, "mismatch", path,
                tr("{file} in the store has SHA-256 {sha256}, the pinned file {pinned} ({path})",
                   file=file, sha256=digest, pinned=f.sha256, path=str(path)),
            )
        return None

    def verify(self, sets: Iterable[str] | None = None) -> list[SchemaProblem]:
        """Re-hash every file of the given sets (default: all); return what is wrong.

        Missing files are problems too.  An empty list means every file of
        every set named is installed and byte-identical to its pin.  Unlike
        :meth:`set_dir`, this always reads every byte again.
        """
        problems = []
        for schema_set in resolve_sets(sets):
            for f in schema_set.files:
                problem = self._check_file(schema_set.name, f, fresh=True)
                if problem is not None:
                    problems.append(problem)
        return problems

    def is_installed(self, name: str) -> bool:
        """True if set ``name`` is complete and verified in this store."""
        schema_set = resolve_sets([name])[0]
        return all(self._check_file(name, f, fresh=False) is None for f in schema_set.files)

    def set_dir(self, name: str) -> Path:
        """The folder of set ``name``, every file verified against its pin.

        Raises SchemaStoreError, with the command that installs the set, if
        any file is missing or differs.  Each file is hashed once per process
        (and again only if it changes on disk).
        """
        schema_set = resolve_sets([name])[0]
        problems = [
            p for p in (self._check_file(name, f, fresh=False) for f in schema_set.files) if p is not None
        ]
        if problems:
            if all(p.kind == "missing" for p in problems):
                what = (
                    tr("schema set {name} is not installed in the schema store {root}", name=repr(name),
                       root=str(self.root))
                    if len(problems) == len(schema_set.files)
                    else tr("schema set {name} is incomplete in the schema store {root} (missing: {files})",
                            name=repr(name), root=str(self.root), files=", ".join(p.name for p in problems))
                )
            else:
                what = tr("schema set {name} in the schema store {root} does not match its pinned official files: "
                          "{problems}", name=repr(name), root=str(self.root),
                          problems="; ".join(p.message for p in problems))
            raise SchemaStoreError(what, hint=self._hint())
        return self._set_folder(name)

    def path(self, name: str, filename: str) -> Path:
        """The verified file ``filename`` of set ``name`` (the whole set is verified)."""
        schema_set = resolve_sets([name])[0]
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
        chosen = resolve_sets(sets)
        source_dir: Path | None = None
        if from_dir is not None:
            source_dir = Path(from_dir).expanduser()
            if not source_dir.is_dir():
                raise SchemaStoreError(tr("the folder to install schemas from does not exist: {folder}",
                                          folder=str(source_dir)))

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
                    note = tr("replaced a copy that did not match its pin") if problem.kind == "mismatch" else None
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
        same_name: dict[str, list[Candidate]] = {}
        needed = {f.sha256 for _, f, _ in todo if f.sha256 not in verified}
        if source_dir is not None and needed:
            found, same_name = search_folder(
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
                        tr("cannot create the schema store folder {folder}: {error}", folder=str(folder),
                           error=str(exc)),
                        hint=tr("set {variable} to a writable folder", variable=ENV_VAR),
                    ) from exc
                remove_stale_temps(folder)
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
        same_name: list[Candidate],
        searched: Path | None,
        download: bool,
        timeout: float,
    ) -> FileOutcome:
        """Install one file from ``local`` or its URL; never raises for a bad source."""
        reasons: list[str] = []

        if local is not None:
            try:
                with open(local, "rb") as src:
                    place_verified(src, dest, f)
                return FileOutcome(set_name, f.name, Status.INSTALLED, f.sha256, dest, str(local), note)
            except Mismatch as exc:  # changed since it was hashed
                reasons.append(tr("{file} changed while being copied (SHA-256 now {sha256})", file=str(local),
                                  sha256=exc.sha256))
            except OSError as exc:
                reasons.append(tr("copying {file} failed: {error}", file=str(local), error=str(exc)))

        if searched is not None and local is None:
            reasons.append(tr("no file under {folder} has the pinned SHA-256 {sha256}", folder=str(searched),
                              sha256=f.sha256))
            refused = [c.describe(f) for c in same_name if c.sha256 != f.sha256]
            if refused:
                # Files of the right name that are not the official bytes:
                # a different version, or a modified copy.
                if len(refused) > 3:
                    reasons.append(tr("refused as not the pinned file: {files}, and {more} more",
                                      files=", ".join(refused[:3]), more=len(refused) - 3))
                else:
                    reasons.append(tr("refused as not the pinned file: {files}", files=", ".join(refused)))

        if download:
            try:
                with _open_url(f.url, timeout) as response:
                    place_verified(response, dest, f)
                return FileOutcome(set_name, f.name, Status.INSTALLED, f.sha256, dest, f.url, note)
            except Mismatch as exc:
                if exc.truncated:
                    reasons.append(tr("download from {url} refused: got more bytes than pinned, pinned {size} bytes "
                                      "with SHA-256 {sha256}", url=f.url, size=f.size, sha256=f.sha256))
                else:
                    reasons.append(tr("download from {url} refused: got {got_size} bytes with SHA-256 {got_sha256}, "
                                      "pinned {size} bytes with SHA-256 {sha256}", url=f.url, got_size=exc.size,
                                      got_sha256=exc.sha256, size=f.size, sha256=f.sha256))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reasons.append(tr("download from {url} failed: {error}", url=f.url, error=str(exc)))
        elif not download and searched is None:
            reasons.append(tr("no --from folder given and downloading is off"))

        return FileOutcome(set_name, f.name, Status.MISSING, f.sha256, None, None, "; ".join(reasons))


def default_store() -> SchemaStore:
    """The store at ``$NOARKPACK_SCHEMA_DIR``, or in the user's data dir."""
    return SchemaStore()
