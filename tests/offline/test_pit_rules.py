"""One small hand-checked test per point-in-time rule of DESIGN §3.1.

Times are whole seconds after T0 (2024-01-01 UTC) unless a microsecond is added on purpose.
Expected values are written out by hand, not computed. Every test runs on DuckDB and on Spark
(marked ``spark``; Spark's frame is first checked equal to DuckDB's row for row).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from cairn import Entity, FeatureStore, FeatureView, Field, FileSource
from tests.offline._engines import ENGINES, project_yaml, training_frame
from tests.offline._oracle import (
    CREATED_COLUMN,
    EVENT_COLUMN,
    SECOND,
    T0,
    Query,
    SourceRow,
    assert_frame,
    entity_frame,
    to_timestamps,
    write_source,
)

Columns = Sequence[tuple[str, pa.DataType]]

K: Columns = (("k", pa.string()),)
X: Columns = (("x", pa.float64()),)
_DTYPES = {pa.float64(): "float64", pa.int64(): "int64", pa.string(): "string"}


def ts(seconds: int, micros: int = 0) -> int:
    """T0 + ``seconds`` s + ``micros`` µs, in epoch microseconds."""
    return T0 + seconds * SECOND + micros


def row(key: Any, event_s: int, created_s: int | None = None, **values: Any) -> SourceRow:
    """A source row keyed ``key`` (a scalar or a tuple) at whole seconds after T0."""
    k = key if isinstance(key, tuple) else (key,)
    return SourceRow(k, ts(event_s), None if created_s is None else ts(created_s), values)


def q(key: Any, t_us: int) -> Query:
    return Query(key if isinstance(key, tuple) else (key,), t_us)


def make_view(
    root: Path,
    rows: Sequence[SourceRow],
    *,
    name: str = "v",
    file: str = "rows.parquet",
    keys: Columns = K,
    values: Columns = X,
    ttl: str | None = None,
    has_created: bool = True,
    entities: Sequence[Entity] | None = None,
) -> FeatureView:
    """Write ``rows`` to ``root/file`` and define a snapshot view over them."""
    write_source(root / file, rows, keys=keys, values=values, has_created=has_created)
    source = FileSource(
        path=file,
        timestamp_field=EVENT_COLUMN,
        created_timestamp_column=CREATED_COLUMN if has_created else None,
    )
    ents = entities or [Entity(name="k", join_keys=[n for n, _ in keys])]
    return FeatureView(
        name=name,
        entities=list(ents),
        source=source,
        schema=[Field(name=n, dtype=_DTYPES[t]) for n, t in values],
        ttl=ttl,
    )


@pytest.fixture(params=ENGINES)
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """This test's project folder, once with DuckDB and once with Spark building its training
    sets (Spark's frames checked equal to DuckDB's by :func:`features`)."""
    (tmp_path / "cairn.yaml").write_text(project_yaml(request.param), encoding="utf-8")
    return tmp_path


def features(
    root: Path,
    views: Sequence[FeatureView],
    entity_df: pd.DataFrame,
    refs: Sequence[str],
    *,
    full: bool = False,
) -> pd.DataFrame:
    """Apply ``views`` (and their entities) in a fresh store and run one training-set query on
    the project's engine."""
    entities = list({e.name: e for v in views for e in v.entities}.values())
    store = FeatureStore(root)
    store.apply([*entities, *views])
    return training_frame(root, entity_df, refs, store.settings.offline.engine, full=full)


def check(
    root: Path,
    views: Sequence[FeatureView],
    cases: Sequence[tuple[Query, Any]],
    ref: str = "v:x",
    *,
    keys: Sequence[str] = ("k",),
) -> None:
    """Query one feature at each case's (key, t) and compare with the case's expected value."""
    entity_df = entity_frame([c[0] for c in cases], keys)
    out = features(root, views, entity_df, [ref])
    assert_frame(out, entity_df, {ref.split(":")[1]: [c[1] for c in cases]})


def test_event_stamped_t_is_not_visible_at_t(project: Path) -> None:
    view = make_view(project, [row("a", 10, 10, x=1.0), row("a", 20, 20, x=2.0)])
    check(
        project,
        [view],
        [
            (q("a", ts(10)), None),
            (q("a", ts(10, 1)), 1.0),
            (q("a", ts(20)), 1.0),
            (q("a", ts(20, 1)), 2.0),
        ],
    )


def test_row_is_invisible_until_created_and_visible_at_created(project: Path) -> None:
    view = make_view(
        project,
        [
            row("a", 5, 5, x=0.5),
            row("a", 10, 30, x=1.0),  # late: happened at 10 s, known at 30 s
            row("b", 10, 10, x=2.0),
            row("b", 10, 20, x=2.5),  # correction of the 10 s event, known at 20 s
        ],
    )
    check(
        project,
        [view],
        [
            (q("a", ts(11)), 0.5),
            (q("a", ts(30, -1)), 0.5),
            (q("a", ts(30)), 1.0),
            (q("a", ts(31)), 1.0),
            (q("b", ts(20, -1)), 2.0),
            (q("b", ts(20)), 2.5),
        ],
    )


def test_source_without_created_column_uses_event_time_only(project: Path) -> None:
    view = make_view(project, [row("a", 5, x=0.5), row("a", 10, x=1.0)], has_created=False)
    check(
        project,
        [view],
        [
            (q("a", ts(5)), None),
            (q("a", ts(10)), 0.5),
            (q("a", ts(10, 1)), 1.0),
        ],
    )


def test_ttl_edge_is_inclusive(project: Path) -> None:
    view = make_view(project, [row("a", 10, 10, x=1.0)], ttl="10s")
    check(
        project,
        [view],
        [
            (q("a", ts(10, 1)), 1.0),
            (q("a", ts(20)), 1.0),  # event_ts == t - ttl
            (q("a", ts(20, 1)), None),  # one microsecond older than t - ttl
        ],
    )


def test_ttl_expired_winner_does_not_fall_back_to_older_rows(project: Path) -> None:
    view = make_view(
        project,
        [
            row("a", 5, 5, x=0.5),
            row("a", 10, 10, x=1.0),
            row("b", 5, 5, x=5.0),
            row("b", 10, 18, x=6.0),  # not known until 18 s
            row("c", 10, 25, x=9.0),  # known only after its TTL ran out
        ],
        ttl="10s",
    )
    check(
        project,
        [view],
        [
            (q("a", ts(15, 1)), 1.0),
            (q("a", ts(20)), 1.0),
            (q("a", ts(20, 1)), None),
            (q("b", ts(15)), 5.0),
            (q("b", ts(15, 1)), None),  # the 5 s row expired, the 10 s row is not known yet
            (q("b", ts(18)), 6.0),
            (q("c", ts(20)), None),
            (q("c", ts(25)), None),
        ],
    )


def test_same_event_time_greater_created_wins(project: Path) -> None:
    view = make_view(
        project,
        [
            row("a", 10, 12, x=1.0),
            row("a", 10, 15, x=2.0),
            row("a", 10, 11, x=3.0),
            row("b", 10, 50, x=10.0),  # created later, but the event is older
            row("b", 11, 12, x=20.0),
        ],
    )
    check(
        project,
        [view],
        [
            (q("a", ts(11)), 3.0),
            (q("a", ts(12)), 1.0),
            (q("a", ts(14)), 1.0),
            (q("a", ts(15)), 2.0),
            (q("a", ts(99)), 2.0),
            (q("b", ts(13)), 20.0),
            (q("b", ts(60)), 20.0),  # event time decides before created time
        ],
    )


def test_same_event_and_created_time_later_row_in_file_wins(project: Path) -> None:
    view = make_view(
        project,
        [
            row("a", 10, 10, x=1.0),
            row("a", 10, 10, x=3.0),
            row("a", 10, 10, x=2.0),
            row("b", 10, 20, x=1.0),
            row("b", 10, 10, x=2.0),  # later in the file, but created earlier
        ],
    )
    check(
        project,
        [view],
        [
            (q("a", ts(11)), 2.0),
            (q("b", ts(15)), 2.0),
            (q("b", ts(30)), 1.0),
        ],
    )


def test_same_event_time_without_created_column_later_row_in_file_wins(project: Path) -> None:
    view = make_view(
        project,
        [
            row("a", 10, x=1.0),
            row("a", 10, x=2.0),
            row("a", 9, x=5.0),  # later in the file, but an older event
        ],
        has_created=False,
    )
    check(project, [view], [(q("a", ts(10)), 5.0), (q("a", ts(11)), 2.0)])


def test_winning_row_with_a_missing_value_gives_a_missing_value(project: Path) -> None:
    view = make_view(
        project,
        [
            row("a", 10, 10, x=1.0, n=1),
            row("a", 20, 20, x=None, n=2),
        ],
        values=(("x", pa.float64()), ("n", pa.int64())),
    )
    queries = [q("a", ts(15)), q("a", ts(25))]
    entity_df = entity_frame(queries, ["k"])
    out = features(project, [view], entity_df, ["v:x", "v:n"])
    assert_frame(out, entity_df, {"x": [1.0, None], "n": [1, 2]})


def test_duplicate_entity_rows_are_kept(project: Path) -> None:
    view = make_view(project, [row("a", 10, 10, x=1.0), row("b", 10, 10, x=2.0)])
    queries = [
        q("a", ts(20)),
        q("a", ts(20)),
        q("b", ts(20)),
        q("a", ts(20)),
        q("a", ts(5)),
        q("a", ts(5)),
    ]
    entity_df = entity_frame(queries, ["k"], extra={"row_id": [0, 1, 2, 3, 4, 5]})
    out = features(project, [view], entity_df, ["v:x"])
    assert_frame(out, entity_df, {"x": [1.0, 1.0, 2.0, 1.0, None, None]})


def test_entity_rows_keep_their_given_order(project: Path) -> None:
    view = make_view(
        project,
        [
            row("a", 10, 10, x=1.0),
            row("a", 20, 20, x=2.0),
            row("a", 30, 30, x=3.0),
            row("b", 10, 10, x=10.0),
            row("b", 20, 20, x=20.0),
        ],
    )
    cases = [
        (q("b", ts(25)), 20.0),
        (q("a", ts(15)), 1.0),
        (q("a", ts(35)), 3.0),
        (q("b", ts(5)), None),
        (q("a", ts(25)), 2.0),
        (q("b", ts(15)), 10.0),
        (q("a", ts(5)), None),
        (q("a", ts(30)), 2.0),
        (q("b", ts(20)), 10.0),
    ]
    entity_df = entity_frame(
        [c[0] for c in cases], ["k"], extra={"row_id": [8, 3, 5, 0, 7, 1, 6, 2, 4]}
    )
    out = features(project, [view], entity_df, ["v:x"])
    assert_frame(out, entity_df, {"x": [c[1] for c in cases]})


def test_unknown_key_gives_null(project: Path) -> None:
    view = make_view(project, [row("a", 10, 10, x=1.0)])
    check(
        project,
        [view],
        [
            (q("zzz", ts(20)), None),
            (q("a", ts(20)), 1.0),
            (q("", ts(20)), None),
        ],
    )


def test_extra_entity_columns_pass_through_in_place(project: Path) -> None:
    view = make_view(project, [row("a", 10, 10, x=1.0), row("b", 10, 10, x=2.0)])
    entity_df = pd.DataFrame(
        {
            "label": [1, 0, 1],
            EVENT_COLUMN: to_timestamps([ts(20), ts(5), ts(20)]),
            "note": ["first", "second", "third"],
            "k": ["a", "a", "b"],
            "score": [0.25, 0.5, 0.75],
            "applied_at": to_timestamps([ts(1), ts(2), ts(3)]),
        }
    )
    out = features(project, [view], entity_df, ["v:x"])
    assert_frame(out, entity_df, {"x": [1.0, None, 2.0]})


def test_full_feature_names_prefix_the_view_and_keep_requested_order(project: Path) -> None:
    rows = [row("a", 10, 10, x=1.0, y=100.0)]
    xy: Columns = (("x", pa.float64()), ("y", pa.float64()))
    v = make_view(project, rows, name="v", values=xy)
    w = make_view(project, rows, name="w", values=xy, ttl="5s")
    entity_df = entity_frame([q("a", ts(12)), q("a", ts(30))], ["k"])
    out = features(project, [v, w], entity_df, ["w:y", "v:x", "w:x"], full=True)
    assert_frame(out, entity_df, {"w__y": [100.0, None], "v__x": [1.0, 1.0], "w__x": [1.0, None]})


def test_short_feature_names_keep_requested_order(project: Path) -> None:
    xy: Columns = (("x", pa.float64()), ("y", pa.float64()))
    v = make_view(project, [row("a", 10, 10, x=1.0, y=100.0)], values=xy)
    entity_df = entity_frame([q("a", ts(12))], ["k"])
    out = features(project, [v], entity_df, ["v:y", "v:x"])
    assert_frame(out, entity_df, {"y": [100.0], "x": [1.0]})


@pytest.mark.parametrize("shape", ["one_entity_two_keys", "two_entities"])
def test_two_join_keys_must_both_match(project: Path, shape: str) -> None:
    keys: Columns = (("bank", pa.string()), ("account", pa.int64()))
    if shape == "one_entity_two_keys":
        entities = [Entity(name="account", join_keys=["bank", "account"])]
    else:
        entities = [
            Entity(name="bank", join_keys=["bank"]),
            Entity(name="account", join_keys=["account"]),
        ]
    view = make_view(
        project,
        [
            row(("b1", 1), 10, 10, x=1.0),
            row(("b1", 2), 10, 10, x=2.0),
            row(("b2", 1), 10, 10, x=3.0),
            row(("b2", 1), 20, 20, x=4.0),
        ],
        keys=keys,
        entities=entities,
    )
    check(
        project,
        [view],
        [
            (q(("b1", 1), ts(15)), 1.0),
            (q(("b1", 2), ts(15)), 2.0),
            (q(("b2", 1), ts(15)), 3.0),
            (q(("b2", 1), ts(25)), 4.0),
            (q(("b2", 2), ts(25)), None),
            (q(("b3", 1), ts(25)), None),
        ],
        keys=("bank", "account"),
    )


def test_two_views_from_two_sources_in_one_call(project: Path) -> None:
    profile = make_view(
        project,
        [
            row("a", 10, 40, x=1.0),  # late
            row("a", 5, 5, x=0.5),
            row("b", 10, 10, x=2.0),
        ],
        name="profile",
        file="profiles.parquet",
        ttl="1h",
    )
    risk = make_view(
        project,
        [
            row("a", 20, score=7),
            row("a", 30, score=8),
            row("b", 35, score=9),
        ],
        name="risk",
        file="risk.parquet",
        values=(("score", pa.int64()),),
        has_created=False,
    )
    queries = [
        q("a", ts(15)),
        q("a", ts(25)),
        q("a", ts(40)),
        q("b", ts(36)),
        q("b", ts(35)),
        q("c", ts(50)),
    ]
    entity_df = entity_frame(queries, ["k"])
    out = features(project, [profile, risk], entity_df, ["risk:score", "profile:x"])
    assert_frame(
        out,
        entity_df,
        {
            "score": [None, 7, 8, 9, None, None],
            "x": [0.5, 0.5, 1.0, 2.0, 2.0, None],
        },
    )


def test_empty_entity_frame_gives_empty_result(project: Path) -> None:
    view = make_view(project, [row("a", 10, 10, x=1.0)])
    entity_df = entity_frame([], ["k"]).astype({"k": "str"})
    out = features(project, [view], entity_df, ["v:x"])
    assert list(out.columns) == ["k", EVENT_COLUMN, "x"]
    assert len(out) == 0


def test_naive_entity_timestamps_are_rejected(project: Path) -> None:
    view = make_view(project, [row("a", 10, 10, x=1.0)])
    entity_df = pd.DataFrame({"k": ["a"], EVENT_COLUMN: [pd.Timestamp("2024-01-01 00:00:20")]})
    with pytest.raises(ValueError, match=EVENT_COLUMN):
        features(project, [view], entity_df, ["v:x"])
