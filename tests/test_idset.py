"""The compact id table (noarkpack.idset) against a plain dict, and its merge of another process's half."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noarkpack.idset import IdSet, SpilledIdSet

ids = st.lists(st.tuples(st.text(min_size=1, max_size=12), st.integers(1, 10**6), st.integers(0, 3)), max_size=300)


def _fill(entries, *, stable: bool = True, capacity: int = 4) -> tuple[IdSet, dict]:
    table, plain = IdSet(capacity, stable=stable), {}
    for value, line, flag in entries:
        first = table.add(value, line, flag)
        assert first == (plain[value][0] if value in plain else None)
        if value in plain:
            plain[value] = (plain[value][0], plain[value][1] | flag)
        else:
            plain[value] = (line, flag)
    return table, plain


@settings(max_examples=60, deadline=None)
@given(ids)
def test_add_and_lookups_behave_like_a_dict(entries):
    table, plain = _fill(entries, stable=False)
    assert len(table) == len(plain)
    for value, (line, flag) in plain.items():
        assert value in table and table.get_line(value) == line and table.get_flags(value) == flag
    assert "\x00absent" not in table and table.get_line("\x00absent") is None


@settings(max_examples=60, deadline=None)
@given(ids, ids, st.booleans())
def test_merge_in_memory_or_spilled_is_the_union(tmp_path_factory, here, there, spilled):
    mine, plain_here = _fill(here)
    theirs, plain_there = _fill(there)
    other = theirs
    if spilled:
        other = theirs.spill(tmp_path_factory.mktemp("spill") / "ids.bin")
        SpilledIdSet.CHUNK = 7  # several chunks, a short last one
    try:
        both = mine.merge(other)
    finally:
        SpilledIdSet.CHUNK = 1 << 16
    common = plain_here.keys() & plain_there.keys()
    assert sorted(both) == sorted((mine.key(v), plain_here[v][0], plain_there[v][0]) for v in common)
    assert len(mine) == len(plain_here.keys() | plain_there.keys())
    for value in plain_here.keys() | plain_there.keys():
        line = plain_here[value][0] if value in plain_here else plain_there[value][0]
        flag = plain_here.get(value, (0, 0))[1] | plain_there.get(value, (0, 0))[1]
        assert mine.get_line(value) == line and mine.get_flags(value) == flag


def test_merge_needs_stable_tables_and_a_whole_spill(tmp_path):
    with pytest.raises(ValueError):
        IdSet(stable=False).merge(IdSet(stable=True))
    table, _ = _fill([("a", 1, 0), ("b", 2, 1)])
    spilled = table.spill(tmp_path / "ids.bin")
    assert spilled.count == 2 and sorted(spilled.entries()) == sorted(table.entries())
    with open(tmp_path / "ids.bin", "r+b") as fh:
        fh.truncate(40)
    with pytest.raises(ValueError, match="not a spilled table"):
        list(spilled.entries())
