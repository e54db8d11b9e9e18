"""Selection rules: which closed journals go into a deposit.

Two profiles, declared in ``noarkpack.toml`` under ``[selection]``:

``municipal`` (default)
    the journal is closed and (when ``closed_before`` is set) closed — and its
    last entry written — before that cut-off date.

``nha`` (Norsk helsearkiv, research/nha-epj.md §4)
    the patient is deceased per NHA's rule — a death date is set, or the
    "dødsdato ukjent" flag, or the patient was born more than 110 years ago,
    or the last contact was more than 60 years ago — and, where a death date
    is known, death was at least ``years_after_death`` years ago (default 10).

Open journals are never selected, whatever the profile.  Every journal left
out gets a reason that the analysis and the extract summary count.  The reason
is a stable value (Norwegian, as it is written into the analysis JSON and the
package description); :func:`reason_label` gives it in the current language for
a summary a person reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ..errors import ConfigError
from ..locale import N_, tr
from .epj import Pasientjournal

PROFILES = ("municipal", "nha")

REASON_OPEN = "journalen er ikke avsluttet"
REASON_AFTER_CUTOFF = "avsluttet eller sist skrevet i etter skjæringsdatoen"
REASON_NOT_DECEASED = "pasienten er ikke død etter NHAs regel"
REASON_TOO_RECENT = "pasienten døde for mindre enn {years} år siden"
#: the ExtractWriter's reason for an open journal it meets (noark5.writer)
REASON_OPEN_WRITER = "journal er ikke avsluttet (open journal)"

# The reasons in English (msgids): a summary shows them in the run's language (reason_label).
_REASON_MSGIDS = {
    REASON_OPEN: N_("the journal is not closed"),
    REASON_OPEN_WRITER: N_("the journal is not closed"),
    REASON_AFTER_CUTOFF: N_("closed, or last written to, after the cut-off date"),
    REASON_NOT_DECEASED: N_("the patient is not deceased by NHA's rule"),
}
_TOO_RECENT = re.compile(r"pasienten døde for mindre enn (\d+) år siden")


def reason_label(reason: str) -> str:
    """A reason a journal was left out, in the current language (for a summary; the reason itself is data).

    A reason this module does not know (another part's, already a translated text) is given as it is."""
    key = getattr(reason, "key", None)
    if key is not None:  # a tr() text: made again in the current language
        return tr(key, **reason.params)
    msgid = _REASON_MSGIDS.get(reason)
    if msgid is not None:
        return tr(msgid)
    m = _TOO_RECENT.fullmatch(reason)
    if m:
        return tr("the patient died less than {years} years ago", years=int(m.group(1)))
    return reason


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


@dataclass(frozen=True)
class SelectionRules:
    profile: str = "municipal"
    closed_before: date | None = None
    years_after_death: int = 10
    today: date | None = None  # fixed "today" for reproducible selections; None = the real date

    @classmethod
    def from_config(cls, table: dict | None) -> SelectionRules:
        table = table or {}
        profile = table.get("profile", "municipal")
        if profile not in PROFILES:
            raise ConfigError(tr("[selection] profile must be one of {profiles}", profiles=", ".join(PROFILES)),
                              file="noarkpack.toml")
        closed_before = table.get("closed_before")
        if closed_before is not None and not isinstance(closed_before, date):
            raise ConfigError(tr("[selection] closed_before must be a date (YYYY-MM-DD)"), file="noarkpack.toml")
        years = table.get("years_after_death", 10)
        if not isinstance(years, int) or isinstance(years, bool) or years < 0:
            raise ConfigError(tr("[selection] years_after_death must be a whole number ≥ 0"), file="noarkpack.toml")
        today = table.get("today")
        if today is not None and not isinstance(today, date):
            raise ConfigError(tr("[selection] today must be a date (YYYY-MM-DD)"), file="noarkpack.toml")
        return cls(profile=profile, closed_before=closed_before, years_after_death=years, today=today)

    def _today(self) -> date:
        return self.today or date.today()

    def reason_to_exclude(self, j: Pasientjournal) -> str | None:
        """None if the journal is selected, else why it is left out."""
        if not j.is_closed:
            return REASON_OPEN
        if self.profile == "municipal":
            if self.closed_before is not None:
                last = j.last_entry
                if j.avsluttet.date() >= self.closed_before or (last is not None and last.date() >= self.closed_before):
                    return REASON_AFTER_CUTOFF
            return None
        return self._nha_reason(j)

    def _nha_reason(self, j: Pasientjournal) -> str | None:
        today = self._today()
        p = j.pasient
        if p.dodsdato is not None:
            if p.dodsdato > _years_before(today, self.years_after_death):
                return REASON_TOO_RECENT.format(years=self.years_after_death)
            return None
        if p.dodsdato_ukjent:
            return None
        if p.fodselsdato is not None and p.fodselsdato < _years_before(today, 110):
            return None
        last = j.last_entry or j.avsluttet
        if last is not None and last.date() < _years_before(today, 60):
            return None
        return REASON_NOT_DECEASED


def is_deceased_per_nha(j: Pasientjournal, today: date | None = None) -> bool:
    """NHA's rule for "deceased" (death date, unknown-date flag, born > 110 years ago, last contact > 60 years ago)."""
    rules = SelectionRules(profile="nha", years_after_death=0, today=today)
    return rules._nha_reason(j) is None
