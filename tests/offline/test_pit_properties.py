"""Property tests: the point-in-time join equals the brute-force oracle on random small tables.

Times sit on a coarse grid of whole seconds in a short range, so equal event times,
corrections (same event time, later created time), late rows (created long after the event)
and rows created before their event time happen in most examples. The entity rows are derived
from the table: every edge where a row's visibility changes (its event time, its created time,
its event time + TTL, each exactly and one µs either side) plus a grid of whole seconds for
every key and an unknown key, shuffled. Examples are derandomized, so every run checks the
same tables. Each test runs on DuckDB and on Spark (marked ``spark``, fewer examples), Spark's
frame equal to DuckDB's row for row (:mod:`tests.offline._engines`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cairn import Entity, FeatureStore, FeatureView, Field, FileSource
from tests.offline._engines import ENGINES, examples, training_frame
from tests.offline._oracle import (
    CREATED_COLUMN,
    EVENT_COLUMN,
    SECOND,
    T0,
    Key,
    Query,
    SourceRow,
    assert_frame,
    describe,
    describe_rows,
    entity_frame,
    snapshot_value,
    write_source,
)

NewProject = Callable[[], Path]

VALUES = (("x", pa.float64(), "float64"), ("n", pa.int64(), "int64"), ("s", pa.string(), "string"))
FLOATS = st.sampled_from([-1.5, 0.0, 0.25, 1.0, 2.0, 3.5, 1e6])
VALUE_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "x": st.one_of(st.none(), FLOATS, FLOATS, st.just(float("nan"))),
    "n": st.one_of(st.none(), st.integers(-3, 3), st.integers(-3, 3)),
    "s": st.one_of(st.none(), st.sampled_from(["p", "q", "r"])),
}
DELAYS_S = st.sampled_from([0, 0, 0, 0, 1, 2, 5, 30, 30, -1])
"""created - event, in seconds: mostly on time, some corrections and late rows, rarely early."""
CORRECTIONS_S = st.sampled_from([-1, 0, 1, 5])
"""Created time of a row reusing an event time, relative to the reused row's."""
GRID_S = range(-1, 53)
"""Whole-second entity times queried for every key (events are at 0-20 s, created up to 50 s)."""
TTLS_S = st.sampled_from([None, None, 1, 3, 10])

SINGLE_KEYS: tuple[Key, ...] = (("a",), ("b",))
SINGLE_UNKNOWN: Key = ("zz",)
PAIR_KEYS: tuple[Key, ...] = (("b1", 1), ("b1", 2), ("b2", 1))
PAIR_UNKNOWN: tuple[Key, ...] = (("b2", 2), ("b3", 1))

PIT = settings(
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""Seeded, no example database, no deadline (each example builds a store). No shrinking: it
rebuilds a store per step and takes minutes; the failure message lists the differing rows."""


@dataclass(frozen=True)
class Table:
    """A random source table and how a view reads it."""

    rows: list[SourceRow]
    has_created: bool
    ttl_s: int | None

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        return (
            f"Table(has_created={self.has_created}, ttl_s={self.ttl_s}, rows:\n"
            f"{describe_rows(self.rows)})"
        )

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # hypothesis's printer
        p.text(repr(self))

    @property
    def ttl_us(self) -> int | None:
        return None if self.ttl_s is None else self.ttl_s * SECOND

    @property
    def ttl(self) -> str | None:
        return None if self.ttl_s is None else f"{self.ttl_s}s"


@st.composite
def source_rows(draw: st.DrawFn, keys: Sequence[Key]) -> list[SourceRow]:
    rows: list[SourceRow] = []
    for _ in range(draw(st.integers(1, 24))):
        key = draw(st.sampled_from(keys))
        event_s = draw(st.integers(0, 20))
        created_s = event_s + draw(DELAYS_S)
        if rows and draw(st.integers(0, 3)) == 0:  # reuse an event time: ties and corrections
            # an index, not sampled_from(rows): rows hold NaN, which made generation vary
            prev = rows[draw(st.integers(0, len(rows) - 1))]
            key, event_s = prev.key, (prev.event_us - T0) // SECOND
            prev_created = prev.event_us if prev.created_us is None else prev.created_us
            created_s = (prev_created - T0) // SECOND + draw(CORRECTIONS_S)
        values = {name: draw(VALUE_STRATEGIES[name]) for name, _, _ in VALUES}
        rows.append(SourceRow(key, T0 + event_s * SECOND, T0 + created_s * SECOND, values))
    return rows


@st.composite
def tables(draw: st.DrawFn, keys: Sequence[Key], has_created: bool | None = None) -> Table:
    rows = draw(source_rows(keys))
    created = draw(st.booleans()) if has_created is None else has_created
    return Table(rows, created, draw(TTLS_S))


def edge_times(row: SourceRow, ttl_s: int | None) -> list[int]:
    """The entity times at which ``row``'s visibility can change, and one µs either side."""
    created = row.event_us if row.created_us is None else row.created_us
    times = [row.event_us, row.event_us + 1, created - 1, created, created + 1]
    if ttl_s is not None:
        end = row.event_us + ttl_s * SECOND
        times += [end - 1, end, end + 1]
    return times


def derive_queries(draw: st.DrawFn, tabs: Sequence[Table], keys: Sequence[Key]) -> list[Query]:
    """Entity rows at every visibility edge of every row plus a grid for ``keys``, shuffled."""
    queries = [Query(r.key, t) for tab in tabs for r in tab.rows for t in edge_times(r, tab.ttl_s)]
    queries += [Query(k, T0 + s * SECOND) for k in keys for s in GRID_S]
    draw(st.randoms(use_true_random=False)).shuffle(queries)
    return queries


def define_view(
    root: Path,
    name: str,
    table: Table,
    entities: Sequence[Entity],
    keys: Sequence[tuple[str, pa.DataType]],
) -> FeatureView:
    """Write ``table`` to ``root/{name}.parquet`` and define view ``name`` over it."""
    write_source(
        root / f"{name}.parquet",
        table.rows,
        keys=keys,
        values=[(n, t) for n, t, _ in VALUES],
        has_created=table.has_created,
    )
    source = FileSource(
        path=f"{name}.parquet",
        timestamp_field=EVENT_COLUMN,
        created_timestamp_column=CREATED_COLUMN if table.has_created else None,
    )
    return FeatureView(
        name=name,
        entities=list(entities),
        source=source,
        ttl=table.ttl,
        schema=[Field(name=n, dtype=d) for n, _, d in VALUES],
    )


def expected_values(table: Table, queries: Sequence[Query], feature: str) -> list[Any]:
    return [
        snapshot_value(table.rows, q, feature, ttl_us=table.ttl_us, has_created=table.has_created)
        for q in queries
    ]


@dataclass(frozen=True)
class SingleCase:
    table: Table
    queries: list[Query]
    refs: list[str]

    def __repr__(self) -> str:
        return f"SingleCase({self.refs}, {len(self.queries)} queries, {self.table!r})"

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # hypothesis's printer
        p.text(repr(self))


@st.composite
def single_cases(draw: st.DrawFn) -> SingleCase:
    table = draw(tables(SINGLE_KEYS))
    queries = derive_queries(draw, [table], [*SINGLE_KEYS, SINGLE_UNKNOWN])
    refs = draw(st.permutations([f"v:{name}" for name, _, _ in VALUES]))
    return SingleCase(table, queries, list(refs))


@pytest.mark.parametrize("engine", ENGINES)
def test_point_in_time_join_matches_oracle(new_project: NewProject, engine: str) -> None:
    """One view, one string key, with or without a created column and a TTL."""

    @settings(PIT, max_examples=examples(engine, 100))
    @given(case=single_cases())
    def check(case: SingleCase) -> None:
        root = new_project()
        entity = Entity(name="k", join_keys=["k"])
        view = define_view(root, "v", case.table, [entity], [("k", pa.string())])
        FeatureStore(root).apply([entity, view])
        extra = {"row": list(range(len(case.queries)))}
        entity_df = entity_frame(case.queries, ["k"], extra=extra)
        out = training_frame(root, entity_df, case.refs, engine)
        expected = {
            ref.split(":")[1]: expected_values(case.table, case.queries, ref.split(":")[1])
            for ref in case.refs
        }
        assert_frame(out, entity_df, expected, context=[describe(q) for q in case.queries])

    check()


@dataclass(frozen=True)
class TwoViewCase:
    profile: Table
    risk: Table
    queries: list[Query]
    refs: list[str]

    def __repr__(self) -> str:
        return (
            f"TwoViewCase({self.refs}, {len(self.queries)} queries,\n"
            f"profile={self.profile!r},\nrisk={self.risk!r})"
        )

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # hypothesis's printer
        p.text(repr(self))


@st.composite
def two_view_cases(draw: st.DrawFn) -> TwoViewCase:
    profile = draw(tables(PAIR_KEYS, has_created=True))
    risk = draw(tables(PAIR_KEYS, has_created=False))
    queries = derive_queries(draw, [profile, risk], [*PAIR_KEYS, *PAIR_UNKNOWN])
    # Features grouped by view: interleaving views is covered by test_pit_rules.
    groups = [
        [f"{view}:{name}" for name in draw(st.permutations([n for n, _, _ in VALUES]))]
        for view in ("profile", "risk")
    ]
    if draw(st.booleans()):
        groups.reverse()
    return TwoViewCase(profile, risk, queries, [ref for group in groups for ref in group])


@pytest.mark.parametrize("engine", ENGINES)
def test_two_views_with_two_join_keys_match_oracle(new_project: NewProject, engine: str) -> None:
    """Two views from two sources over a two-key entity, with full feature names."""

    @settings(PIT, max_examples=examples(engine, 40))
    @given(case=two_view_cases())
    def check(case: TwoViewCase) -> None:
        root = new_project()
        keys = [("bank", pa.string()), ("acct", pa.int64())]
        entity = Entity(name="account", join_keys=["bank", "acct"])
        views = [
            define_view(root, "profile", case.profile, [entity], keys),
            define_view(root, "risk", case.risk, [entity], keys),
        ]
        FeatureStore(root).apply([entity, *views])
        entity_df = entity_frame(case.queries, ["bank", "acct"])
        out = training_frame(root, entity_df, case.refs, engine, full=True)
        tables_ = {"profile": case.profile, "risk": case.risk}
        expected = {
            ref.replace(":", "__"): expected_values(
                tables_[ref.split(":")[0]], case.queries, ref.split(":")[1]
            )
            for ref in case.refs
        }
        assert_frame(out, entity_df, expected, context=[describe(q) for q in case.queries])

    check()


def test_oracle_applies_the_rules() -> None:
    """The oracle itself on the rules it encodes (guards the reference against slips)."""
    late = SourceRow(("a",), T0 + 10 * SECOND, T0 + 30 * SECOND, {"x": 1.0})
    early = SourceRow(("a",), T0 + 5 * SECOND, T0 + 5 * SECOND, {"x": 0.5})
    rows = [late, early]
    at = [T0 + 10 * SECOND, T0 + 30 * SECOND - 1, T0 + 30 * SECOND]
    assert [snapshot_value(rows, Query(("a",), t), "x") for t in at] == [0.5, 0.5, 1.0]
    assert [snapshot_value(rows, Query(("a",), t), "x", has_created=False) for t in at] == [
        0.5,
        1.0,
        1.0,
    ]
    ttl = 10 * SECOND
    assert (
        snapshot_value(rows, Query(("a",), T0 + 20 * SECOND), "x", ttl_us=ttl, has_created=False)
        == 1.0
    )
    assert (
        snapshot_value(
            rows, Query(("a",), T0 + 20 * SECOND + 1), "x", ttl_us=ttl, has_created=False
        )
        is None
    )
    ties = [
        SourceRow(("a",), T0, T0 + 2, {"x": 1.0}),
        SourceRow(("a",), T0, T0 + 1, {"x": 2.0}),
        SourceRow(("a",), T0, T0 + 2, {"x": 3.0}),
    ]
    assert snapshot_value(ties, Query(("a",), T0 + 5), "x") == 3.0
    assert snapshot_value(ties, Query(("a",), T0 + 1), "x") == 2.0
