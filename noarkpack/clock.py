"""When a package is made: the real time, unless the user fixes it on purpose.

A package records when it was made (the SIP's METS header and PREMIS packaging event, the tar's member times,
BagIt's Bagging-Date; the NHA deposit's ``pakketDato`` and ``generertdato``).  That is the real time by default:
a depot reads these dates as facts.  To rebuild a package byte for byte, fix the time on purpose, the way the
reproducible-builds convention does: ``SOURCE_DATE_EPOCH`` (seconds since 1970-01-01 UTC, see
https://reproducible-builds.org/specs/source-date-epoch/), or a project setting where one exists (the NHA
``[nha.pakkeliste] pakket_dato``).  A setting wins over the variable, the variable over the clock.
"""

from __future__ import annotations

import os
from datetime import date, datetime, time, timezone

from .errors import ConfigError
from .locale import tr

ENV_VAR = "SOURCE_DATE_EPOCH"


def build_time(fixed: datetime | date | None = None) -> datetime:
    """The time a package is made, in UTC and whole seconds: ``fixed`` (a project setting: a date-time, or a
    date taken as its midnight UTC), else ``SOURCE_DATE_EPOCH``, else now.

    Raises ConfigError when ``SOURCE_DATE_EPOCH`` is set but is not a whole number of seconds.
    """
    if isinstance(fixed, datetime):
        aware = fixed if fixed.tzinfo is not None else fixed.replace(tzinfo=timezone.utc)
        return aware.astimezone(timezone.utc).replace(microsecond=0)
    if isinstance(fixed, date):
        return datetime.combine(fixed, time(0), tzinfo=timezone.utc)
    raw = os.environ.get(ENV_VAR, "").strip()
    if raw:
        if not raw.isdigit():
            raise ConfigError(tr("{var}={value} is not a whole number of seconds since 1970-01-01 UTC",
                                 var=ENV_VAR, value=repr(raw)),
                              hint=tr("unset {var} to use the real time, or set it to e.g. the output of "
                                      "'date +%s' (or 'git log -1 --format=%ct') to fix the package's time on "
                                      "purpose", var=ENV_VAR))
        try:
            return datetime.fromtimestamp(int(raw), timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise ConfigError(tr("{var}={value} is out of range", var=ENV_VAR, value=raw),
                              hint=tr("unset {var} or give a time before the year 9999", var=ENV_VAR)) from None
    return datetime.now(timezone.utc).replace(microsecond=0)


__all__ = ["ENV_VAR", "build_time"]
