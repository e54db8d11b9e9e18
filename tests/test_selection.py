"""Selection rules: closed only; municipal cut-off; NHA's deceased rule and the 10-year rule."""

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from noarkpack.errors import ConfigError
from noarkpack.model.selection import (
    REASON_AFTER_CUTOFF,
    REASON_NOT_DECEASED,
    REASON_OPEN,
    SelectionRules,
    is_deceased_per_nha,
)

from . import builders

TODAY = date(2026, 11, 25)
OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture()
def j(tmp_path):
    return builders.journal("J1", "P1", tmp_path, with_docs=False)  # closed 2019-06-30, entries 2010


def with_patient(j, **kw):
    j.pasient = replace(j.pasient, **kw)
    return j


def test_open_journals_are_never_selected(j):
    j.avsluttet = None
    for profile in ("municipal", "nha"):
        assert SelectionRules(profile=profile, today=TODAY).reason_to_exclude(j) == REASON_OPEN


@pytest.mark.parametrize("cutoff, selected", [(None, True), (date(2020, 1, 1), True), (date(2019, 6, 30), False)])
def test_municipal_cutoff(j, cutoff, selected):
    reason = SelectionRules(closed_before=cutoff).reason_to_exclude(j)
    assert (reason is None) == selected
    if not selected:
        assert reason == REASON_AFTER_CUTOFF


@pytest.mark.parametrize(
    "patient, deceased, selected",
    [
        (dict(dodsdato=date(2010, 1, 1)), True, True),  # dead > 10 years
        (dict(dodsdato=date(2020, 1, 1)), True, False),  # dead, but < 10 years ago
        (dict(dodsdato=None, dodsdato_ukjent=True), True, True),  # "dødsdato ukjent" (sikkermors)
        (dict(dodsdato=None, fodselsdato=date(1900, 1, 1)), True, True),  # born > 110 years ago
        (dict(dodsdato=None, fodselsdato=date(1931, 4, 12)), False, False),  # alive per the rule
    ],
)
def test_nha_rule(j, patient, deceased, selected):
    with_patient(j, **patient)
    assert is_deceased_per_nha(j, today=TODAY) == deceased
    reason = SelectionRules(profile="nha", today=TODAY).reason_to_exclude(j)
    assert (reason is None) == selected
    if not deceased:
        assert reason == REASON_NOT_DECEASED


def test_nha_last_contact_over_60_years(j):
    with_patient(j, dodsdato=None, fodselsdato=date(1930, 1, 1))
    for i in j.innslag:
        i.opprettet = datetime(1960, 1, 1, tzinfo=OSLO)
    j.avsluttet = datetime(1960, 2, 1, tzinfo=OSLO)
    assert is_deceased_per_nha(j, today=TODAY)


@pytest.mark.parametrize("table", [{"profile": "x"}, {"closed_before": "2020"}, {"years_after_death": -1}])
def test_bad_config(table):
    with pytest.raises(ConfigError):
        SelectionRules.from_config(table)


def test_reasons_stay_data_and_are_shown_in_the_run_language():
    """A reason is a stable (Norwegian) value in the JSON and the package description; a summary shows it
    in the current language, and gives one it does not know as it is."""
    from noarkpack.locale import tr
    from noarkpack.model.selection import REASON_OPEN, REASON_TOO_RECENT, reason_label

    assert reason_label(REASON_OPEN) == "the journal is not closed"
    shown = reason_label(REASON_TOO_RECENT.format(years=10))
    assert shown == "the patient died less than 10 years ago" and shown.params == {"years": 10}
    assert reason_label("some other part's reason") == "some other part's reason"
    assert reason_label(tr("the journal is not closed")).key == "the journal is not closed"
