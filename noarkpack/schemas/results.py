"""Where the schema store is, what an install did (file by file), and the command that fills the store."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from noarkpack.errors import SchemaStoreError
from noarkpack.locale import tr

#: environment variable that overrides the store's place
ENV_VAR = "NOARKPACK_SCHEMA_DIR"


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
    return tr(
        "run `{prefix}noarkpack schemas install --from DIR` with DIR any folder that holds "
        "the official files, or `{prefix}noarkpack schemas install` to download them "
        "from their pinned official URLs", prefix=prefix,
    )


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
        file = f"{self.set_name}/{self.name}"
        if self.status is Status.MISSING:
            if self.reason:
                return tr("{file}: missing ({reason})", file=file, reason=self.reason)
            return tr("{file}: missing", file=file)
        if self.status is Status.PRESENT:
            return tr("{file}: present", file=file)
        if self.source and self.reason:
            return tr("{file}: installed from {source} ({note})", file=file, source=self.source, note=self.reason)
        if self.source:
            return tr("{file}: installed from {source}", file=file, source=self.source)
        return tr("{file}: installed", file=file)


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
        lines = [tr("schema store: {root}", root=str(self.root))]
        for set_name, outcomes in self.by_set().items():
            if all(o.status is Status.PRESENT for o in outcomes):
                lines.append("  " + tr("{set}: all {count} files already present", set=set_name, count=len(outcomes)))
                continue
            lines.append(f"  {set_name}:")
            for o in outcomes:
                if o.status is Status.INSTALLED:
                    lines.append("    " + (tr("{file}: installed from {source} ({note})", file=o.name, source=o.source,
                                             note=o.reason) if o.reason
                                          else tr("{file}: installed from {source}", file=o.name, source=o.source)))
                elif o.status is Status.MISSING:
                    lines.append("    " + tr("{file}: MISSING: {reason}", file=o.name, reason=o.reason))
            present = sum(o.status is Status.PRESENT for o in outcomes)
            if present:
                lines.append("    " + tr("({count} more already present)", count=present))
        lines.append(tr("{installed} installed, {present} already present, {missing} missing",
                        installed=len(self.installed), present=len(self.present), missing=len(self.missing)))
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
        if len(missing) <= 3:
            text = tr("{missing} of {total} pinned schema files could not be installed into {root} ({files}): "
                      "{reasons}", missing=len(missing), total=len(self.outcomes), root=str(self.root),
                      files=summary, reasons="; ".join(f"{o.set_name}/{o.name}: {o.reason}" for o in missing))
        else:
            text = tr("{missing} of {total} pinned schema files could not be installed into {root} ({files})",
                      missing=len(missing), total=len(self.outcomes), root=str(self.root), files=summary)
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
