"""validate's tests live in groups that declare themselves (issue 22): their ids are the catalogue, each
claimed once, and the elements a group declares are dispatched to it."""

from __future__ import annotations

import io
from collections import Counter

import pytest

from noarkpack.validation import catalogue
from noarkpack.validation.content import GROUPS, ContentPass, Group, content_pass
from noarkpack.validation.engine import TEST_MODULES
from noarkpack.validation.report import Report
from noarkpack.validation.xmlstream import pull_containers


def _claims(owners) -> tuple[set[str], set[str], set[str]]:
    """(ids claimed more than once, catalogue ids nobody claims, claimed ids the catalogue lacks)."""
    counts = Counter(t for owner in owners for t in owner.TESTS)
    claimed = set(counts)
    return {t for t, n in counts.items() if n > 1}, set(catalogue.TESTS) - claimed, claimed - set(catalogue.TESTS)


def test_the_groups_claim_the_catalogue_each_id_once():
    twice, unclaimed, unknown = _claims(TEST_MODULES)
    assert not twice, f"claimed by more than one group: {sorted(twice)}"
    assert not unclaimed, f"in the catalogue, run by no group: {sorted(unclaimed)}"
    assert not unknown, f"claimed, not in the catalogue: {sorted(unknown)}"


def test_the_claims_check_finds_a_test_claimed_twice_or_not_at_all():
    class Twice:
        TESTS = ("N5.01",)

    class Unknown:
        TESTS = ("N5.99",)

    assert _claims([*TEST_MODULES, Twice])[0] == {"N5.01"}
    assert _claims(TEST_MODULES[1:])[1] == set(TEST_MODULES[0].TESTS)
    assert _claims([*TEST_MODULES, Unknown])[2] == {"N5.99"}


def _pass(tests=None, groups=None) -> ContentPass:
    report = Report("x", tests=tests)
    if groups is None:
        return content_pass(report, None, None, documents=None, doc_dir=None)
    return ContentPass(report, None, None, groups=groups, documents=None, doc_dir=None)


def _runs(handler, method) -> bool:
    """Whether ``handler`` is ``method`` or a composition that calls it."""
    if handler == method:
        return True
    cells = getattr(handler, "__closure__", None) or ()
    return any(_runs(c.cell_contents, method) for c in cells if callable(c.cell_contents))


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g.NAME)
def test_every_element_a_group_declares_is_dispatched_to_it(group):
    cp = _pass()
    g = getattr(cp, group.NAME)
    assert isinstance(g, group) and g.active()
    assert group.TESTS, "a group answers for at least one test"
    for table, declared in ((cp.start_handlers, group.START), (cp.end_handlers, group.END),
                            (cp.value_handlers, group.VALUE)):
        for name, method in declared.items():
            assert name in table, f"{group.NAME}: {name} is not dispatched"
            if method in ("field", "field_at"):
                continue
            assert _runs(table[name], getattr(g, method)), f"{group.NAME}: {name} does not reach {method}"


def test_a_group_whose_tests_are_not_selected_handles_nothing():
    cp = _pass(tests={"N5.04"})
    assert not cp.screening.active()
    assert not _runs(cp.end_handlers["registrering"], cp.screening._e_registrering)
    assert "skjermingMetadata" not in cp.value_handlers


def test_groups_handling_the_same_element_are_called_in_group_order_through_one_handler():
    calls: list[tuple[str, str]] = []

    def recorder(label):
        class Recorder(Group):
            NAME = f"rec_{label}"
            TESTS = ("N5.04",)
            START = {"mappe": "_start"}
            END = {"mappe": "_end"}
            VALUE = {"mappeID": "_value"}

            def _start(self, f):
                calls.append((label, "start"))

            def _end(self, f):
                calls.append((label, "end"))

            def _value(self, f, value):
                calls.append((label, value))
        return Recorder

    cp = _pass(groups=(recorder("a"), recorder("b")))
    assert len(cp.end_handlers) == 1  # one entry per element: one lookup per event
    xml = b"<arkiv><mappe><mappeID>7</mappeID></mappe></arkiv>"
    pull_containers(io.BytesIO(xml), ContentPass.CONTAINERS, cp.container_start, cp.container_end)
    assert calls == [("a", "start"), ("b", "start"), ("a", "7"), ("b", "7"), ("a", "end"), ("b", "end")]
