"""noarkpack.validation: everything Arkade 5 says about a Noark 5 extract, and more, in one streaming pass.

Library API (never prints, never exits)::

    from noarkpack.validation import validate
    report = validate("out/avleveringspakke", limit=100)
    report.errors, report.warnings, report.exit_code
    report.to_json(); report.to_html(); report.to_junit(); report.summary_lines()

Test ids N5.01–N5.64 are Arkade 5's; NP.01–NP.04 are noarkpack's own
(:mod:`.catalogue`, documented in docs/validation.md).  A broken file inside
the extract is a finding; only a PATH without an extract raises
:class:`ValidationError` (a :class:`~noarkpack.errors.NoarkpackError`, exit 2).
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_names

# The names below load on first use (PEP 562): the split pass's child process
# (``python -m noarkpack.validation.parallel``) then imports the content tests it runs, not the
# whole engine, while the parent has already started reading.
_EXPORTS = {
    "validate": ".engine",
    "Report": ".report",
    "Finding": ".report",
    "ValidationError": ".source",
    "ExtractSource": ".source",
    "DirSource": ".source",
    "TarSource": ".source",
    "open_source": ".source",
    "catalogue": None,  # a module of its own
}

__all__ = ["validate", "Report", "Finding", "ValidationError", "catalogue", "ExtractSource", "DirSource",
           "TarSource", "open_source"]

if TYPE_CHECKING:  # pragma: no cover
    from . import catalogue
    from .engine import validate
    from .report import Finding, Report
    from .source import DirSource, ExtractSource, TarSource, ValidationError, open_source


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS)
