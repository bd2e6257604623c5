"""The columnar fold (plan + fold) equals the per-event fold, tile by tile and state by state.

Random tile families (hops from 1 µs to a minute, several windows, one or two join keys, every
aggregation over a float, an integer and a text column), two batches (the second folded into
the tiles of the first), keys and values that are missing, NaN, ±0.0 and equal event times
(``last`` ties broken by the position in the batch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.features.aggregates import FUNCTIONS, AggregateFunction, get_function
from cairn.streams.decode import Rows
from cairn.streams.fold import TileKey, fold, fold_events, plan

BASE = 1_800_000_000_000_000
NUMERIC = sorted(n for n, f in FUNCTIONS.items() if f.numeric_only)
ANY = sorted(n for n, f in FUNCTIONS.items() if not f.numeric_only)


@dataclass(frozen=True)
class Family:
    storage: str
    name: str
    size: int
    longest: int
    keys: tuple[str, ...]
    aggs: tuple[tuple[str, str, AggregateFunction], ...]


@st.composite
def families(draw: st.DrawFn) -> list[Family]:
    out = []
    for i in range(draw(st.integers(1, 3))):
        size = draw(st.sampled_from([1, 1_000, 7_000, 60_000_000]))
        aggs = []
        for j, (fn, column) in enumerate(
            draw(
                st.lists(
                    st.one_of(
                        st.tuples(st.sampled_from(NUMERIC + ANY), st.sampled_from(["x", "n"])),
                        st.tuples(st.sampled_from(ANY), st.just("s")),
                    ),
                    min_size=1,
                    max_size=8,
                )
            )
        ):
            aggs.append((f"{fn}_{column}_{j}", column, get_function(fn)))
        keys = draw(st.sampled_from([("k",), ("k", "j"), ("s",)]))
        out.append(
            Family(f"v{i % 2}", f"g{i}", size, size * draw(st.integers(1, 5)), keys, tuple(aggs))
        )
    return out


_x = st.one_of(
    st.none(),
    st.just(math.nan),
    st.sampled_from([0.0, -0.0, 1.0, 1e300, -1e-300]),
    st.floats(-1e6, 1e6, allow_nan=False),
)
_row = st.fixed_dictionaries(
    {
        "k": st.one_of(st.none(), st.integers(0, 3)),
        "j": st.one_of(st.none(), st.sampled_from(["a", "b"])),
        "x": _x,
        "n": st.one_of(st.none(), st.integers(-(2**70), 2**70)),
        "s": st.one_of(st.none(), st.sampled_from(["p", "q", "r"])),
    }
)


@st.composite
def batch(draw: st.DrawFn, commit: int) -> Rows:
    """Rows with event times before ``commit``: recent, hours late and often equal."""
    ties = draw(st.lists(st.integers(1, 10_000), min_size=1, max_size=3))
    offsets = st.one_of(
        st.sampled_from(ties), st.integers(1, 120_000_000), st.integers(1, 10_800_000_000)
    )
    events = draw(st.lists(st.tuples(offsets, _row), max_size=40))
    return Rows.of([(commit - off, row) for off, row in events], ["k", "j", "x", "n", "s"])


def _same(a: Any, b: Any) -> bool:
    """Equal states: the same types and values, floats bit for bit (the sign of a zero
    included): stricter than the 1e-9 the parity with the batch engine needs, and what holds."""
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return type(a) is type(b) and a == b


def _check(got: dict[TileKey, dict[str, Any]], want: dict[TileKey, dict[str, Any]]) -> None:
    assert got.keys() == want.keys()
    for key, states in want.items():
        assert got[key].keys() == states.keys(), key
        for name, state in states.items():
            assert _same(got[key][name], state), (key, name, got[key][name], state)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(data=st.data(), fams=families(), gap=st.integers(1, 900_000_000))
def test_columnar_fold_equals_per_event_fold(
    data: st.DataObject, fams: list[Family], gap: int
) -> None:
    first = data.draw(batch(BASE))
    before, _ = fold_events(fams, first, BASE, lambda key: None)
    columnar = fold(plan(fams, first, BASE), first, BASE, lambda keys: [None] * len(keys))
    _check(columnar, before)

    commit = BASE + gap
    second = data.draw(batch(commit))
    want, skipped = fold_events(fams, second, commit, before.get)
    planned = plan(fams, second, commit)
    assert planned.skipped == skipped
    _check(fold(planned, second, commit, lambda keys: list(map(before.get, keys))), want)


def test_float_states_are_equal_bit_for_bit() -> None:
    """Sums add in batch order from the old state and Welford runs event by event, so the
    columnar states are the very floats of the per-event fold (summing a batch first and
    adding it to the old state would round differently); ties of ``max``/``min`` keep the
    first of ``0.0``/``-0.0``."""
    import random

    rng = random.Random(7)
    names = ("sum", "mean", "var", "max", "min", "last")
    fam = Family(
        "v", "g", 60_000_000, 600_000_000, ("k",), tuple((n, "x", get_function(n)) for n in names)
    )
    values = [rng.uniform(-1e3, 1e3) for _ in range(300)]
    events = [(BASE - 1 - i % 5, {"k": i % 3, "x": v}) for i, v in enumerate(values)]
    for k in (3, 4):  # an old tile and a new one
        events += [(BASE - 2, {"k": k, "x": -0.0}), (BASE - 1, {"k": k, "x": 0.0})]
    events += [(BASE - 2, {"k": 5, "x": 0.0}), (BASE - 1, {"k": 5, "x": -0.0})]
    rows = Rows.of(events, ["k", "x"])
    start = BASE - 60_000_000
    old = {
        ("v", "g", "1", start): {"sum": 0.1, "mean": [2, 0.1], "var": [2, 0.05, 0.005],
                                 "max": 0.6, "min": 0.6, "last": [[BASE - 9, BASE - 5, 3], 0.5]},
        ("v", "g", "3", start): {"sum": 0.0, "mean": [1, 0.0], "var": [1, 0.0, 0.0],
                                 "max": 0.0, "min": -0.0, "last": None},
    }  # fmt: skip
    want, _ = fold_events([fam], rows, BASE, old.get)
    _check(fold(plan([fam], rows, BASE), rows, BASE, lambda keys: list(map(old.get, keys))), want)
    batched = 0.1 + math.fsum(v for i, v in enumerate(values) if i % 3 == 1)
    assert want[("v", "g", "1", start)]["sum"] != batched  # the order of the additions shows
    tile = {k: want[("v", "g", str(k), start)] for k in (3, 4, 5)}
    assert (str(tile[3]["max"]), str(tile[3]["min"])) == ("0.0", "-0.0")  # the old states
    assert (str(tile[4]["max"]), str(tile[4]["min"])) == ("-0.0", "-0.0")  # the first zero
    assert (str(tile[5]["max"]), str(tile[5]["min"])) == ("0.0", "0.0")


def test_a_tile_missing_a_state_fails_only_when_it_is_updated() -> None:
    """A stored tile of an older definition lacks a newer aggregation's state: folding a value
    into it raises KeyError in both folds; a missing value leaves the tile as it is."""
    fam = Family("v", "g", 1_000, 1_000, ("k",), (("sum", "x", get_function("sum")),))
    key = ("v", "g", "1", BASE - 1_000)
    old = {key: {"count": 3}}
    empty = Rows.of([(BASE - 10, {"k": 1, "x": None})], ["k", "x"])
    want, _ = fold_events([fam], empty, BASE, old.get)
    assert (
        fold(plan([fam], empty, BASE), empty, BASE, lambda keys: list(map(old.get, keys)))
        == want
        == {key: {"count": 3}}
    )
    full = Rows.of([(BASE - 10, {"k": 1, "x": 2.0})], ["k", "x"])
    with pytest.raises(KeyError):
        fold_events([fam], full, BASE, old.get)
    with pytest.raises(KeyError):
        fold(plan([fam], full, BASE), full, BASE, lambda keys: list(map(old.get, keys)))
