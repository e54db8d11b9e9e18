"""Reading ahead in a thread of its own (noarkpack.sources.prefetch): order, errors, an early stop."""

from __future__ import annotations

import threading

import pytest

from noarkpack.sources.prefetch import prefetched


def test_items_in_order_across_chunks():
    assert list(prefetched(iter(range(1000)), chunk=7, depth=2)) == list(range(1000))
    assert list(prefetched([], chunk=3)) == []


def test_an_error_of_the_source_is_raised_where_the_items_are_used():
    def rows():
        yield 1
        yield 2
        raise ValueError("the query failed at row 3")

    got = []
    with pytest.raises(ValueError, match="row 3"):
        for x in prefetched(rows(), chunk=1):
            got.append(x)
    assert got == [1, 2]


def test_a_consumer_that_stops_early_closes_the_source_in_its_own_thread():
    seen = {}

    def rows():
        seen["thread"] = threading.current_thread()
        try:
            for i in range(10**9):
                yield i
        finally:
            seen["closed_in"] = threading.current_thread()

    it = prefetched(rows(), chunk=10, depth=2)
    assert [next(it) for _ in range(25)] == list(range(25))
    it.close()
    assert seen["closed_in"] is seen["thread"] is not threading.current_thread()
