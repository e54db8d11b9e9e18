"""The lock files shipped with noarkpack: each official schema set, its files pinned by URL, SHA-256 and size."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from noarkpack.errors import SchemaStoreError
from noarkpack.locale import tr
from noarkpack.resources import schemas_dir

#: lock file format this module reads
LOCK_VERSION = 1

# Names that are safe as one path component on every platform.
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")


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
            tr("schema set {set} has no file {name} (it has: {files})", set=repr(self.name), name=repr(name),
               files=", ".join(f.name for f in self.files))
        )

    @property
    def file_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.files)


def _lock_error(path: Path, message: str) -> SchemaStoreError:
    """The error of a damaged lock file; ``message`` (what is wrong with it) is already translated."""
    return SchemaStoreError(
        tr("invalid schema lock file: {problem}", problem=message),
        file=path,
        hint=tr("the noarkpack installation is damaged; reinstall noarkpack"),
    )


def _load_lock(path: Path) -> SchemaSet:
    """Read and check one lock file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _lock_error(path, str(exc)) from exc

    if data.get("lock_version") != LOCK_VERSION:
        raise _lock_error(path, tr("lock_version must be {version}", version=LOCK_VERSION))
    header = {}
    for key in ("name", "description", "repository", "commit", "licence"):
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise _lock_error(path, tr("missing or empty {key}", key=repr(key)))
        header[key] = value
    if not _SAFE_NAME.fullmatch(header["name"]):
        raise _lock_error(path, tr("set name {name} is not a safe folder name", name=repr(header["name"])))
    if path.name != f"{header['name']}.lock.toml":
        raise _lock_error(path, tr("file name does not match set name {name}", name=repr(header["name"])))

    files: list[SchemaFile] = []
    seen: set[str] = set()
    entries = data.get("file")
    if not isinstance(entries, list) or not entries:
        raise _lock_error(path, tr("no [[file]] entries"))
    for i, entry in enumerate(entries, 1):
        try:
            name, url, sha, size = entry["name"], entry["url"], entry["sha256"], entry["size"]
        except (KeyError, TypeError):
            raise _lock_error(path, tr("[[file]] #{number} needs name, url, sha256 and size", number=i)) from None
        if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name) or name in seen:
            raise _lock_error(path, tr("[[file]] #{number}: bad or repeated name {name}", number=i, name=repr(name)))
        if not isinstance(url, str) or not url.startswith("https://"):
            raise _lock_error(path, tr("[[file]] {name}: url must be https", name=name))
        if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
            raise _lock_error(path, tr("[[file]] {name}: sha256 must be 64 lowercase hex digits", name=name))
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _lock_error(path, tr("[[file]] {name}: size must be a non-negative integer", name=name))
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


def resolve_sets(names: Iterable[str] | None) -> list[SchemaSet]:
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
                tr("unknown schema set {name}; the known sets are: {sets}", name=repr(name), sets=", ".join(known))
            )
        if known[name] not in result:
            result.append(known[name])
    return result
