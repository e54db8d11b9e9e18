"""The one exception hierarchy of noarkpack.

Every error a user can cause is a :class:`NoarkpackError` whose message says
what went wrong, where (file, line, record id) and what to do about it.  The
CLI maps these to exit codes; the library never prints and never exits.

Messages must never contain identifying data (fødselsnummer, names): refer to
records by their source keys or systemIDs.  Messages and hints are made with
:func:`noarkpack.locale.tr`, in the run's language (bokmål or English).
"""

from __future__ import annotations

from pathlib import Path


class NoarkpackError(Exception):
    """Base class: an error the user can act on."""

    #: exit code the CLI uses for this error
    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        record: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.record = record
        self.hint = hint
        super().__init__(self.__str__())

    def location(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file + (f":{self.line}" if self.line else ""))
        if self.record:
            from .locale import tr

            parts.append(tr("record {record}", record=self.record))
        return ", ".join(parts)

    def __str__(self) -> str:
        loc = self.location()
        text = f"{loc}: {self.message}" if loc else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class ConfigError(NoarkpackError):
    """noarkpack.toml is missing, malformed or incomplete."""


class SourceError(NoarkpackError):
    """The source export cannot be read or a record in it is invalid."""


class ModelError(NoarkpackError):
    """A record violates a rule of the record model (e.g. an open journal)."""


class SchemaStoreError(NoarkpackError):
    """An official schema is missing from the store or does not match its pin."""


class DocumentError(NoarkpackError):
    """A document file is missing, unreadable or in a format that is not allowed."""


class ExtractError(NoarkpackError):
    """Writing an extract failed."""
