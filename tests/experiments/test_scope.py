"""Which rows are the experiment: its seed, its start, the pre-period, exposure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd
import pytest

from cairn.core.errors import ConfigError
from cairn.experiments.analysis import analyze
from cairn.experiments.metrics import BUILTIN_METRICS
from cairn.experiments.scope import default_start, logged_experiments, resolve_scope

T0 = datetime(2026, 3, 1, tzinfo=UTC)
AS_OF = T0 + timedelta(days=30)
APPROVAL = BUILTIN_METRICS["approval_rate"]


def _history() -> duckdb.DuckDBPyConnection:
    """Day 0-4 single (main), 5-14 A/B s1 (champion/challenger), 15-19 canary s2."""
    rows = []
    for i in range(400):
        day = i % 20
        unit = f"u{i % 100}"
        if day < 5:
            strategy, arm, seed = "single", "main", None
        elif day < 15:
            strategy, arm, seed = "ab", ("champion", "challenger")[i % 100 % 2], "s1"
        else:
            strategy, arm, seed = "canary", ("control", "canary")[i % 100 % 2], "s2"
        exposed = not (strategy == "ab" and i % 100 >= 90)  # 10 units outside coverage
        rows.append((f"p{i}", T0 + timedelta(days=day, minutes=i), strategy, arm, seed, exposed,
                     unit, "approve" if i % 3 else "decline"))  # fmt: skip
    pred = pd.DataFrame(
        rows,
        columns=["prediction_id", "time", "strategy", "arm", "seed", "exposed", "unit_id",
                 "decision"],
    )  # fmt: skip
    pred["time"] = pred["time"].astype("datetime64[us, UTC]")
    pred["deployment"] = "credit"
    con = duckdb.connect()
    con.register("predictions", pred)
    con.execute(
        "CREATE VIEW outcomes AS SELECT NULL::VARCHAR AS prediction_id, NULL::VARCHAR AS entity, "
        "NULL::TIMESTAMPTZ AS event_time, NULL::VARCHAR AS deployment, NULL::DOUBLE AS label, "
        "NULL::TIMESTAMPTZ AS observed_at WHERE FALSE"
    )
    return con


def test_logged_experiments_latest_first() -> None:
    found = logged_experiments(_history(), "credit", AS_OF)
    assert [(e.seed, e.strategy, e.arms) for e in found] == [
        ("s2", "canary", ("canary", "control")),
        ("s1", "ab", ("challenger", "champion")),
    ]
    assert found[1].start == T0 + timedelta(days=5, minutes=5)


def test_default_scope_is_the_latest_experiment_and_a_seed_picks_another() -> None:
    con = _history()
    assert resolve_scope(con, "credit", AS_OF).seed == "s2"
    early = resolve_scope(con, "credit", T0 + timedelta(days=10))
    assert (early.seed, early.strategy) == ("s1", "ab")
    with pytest.raises(ConfigError, match="No experiment with seed 'nope'.*s2 \\(canary\\)"):
        resolve_scope(con, "credit", AS_OF, seed="nope")


def test_an_experiment_counts_its_own_exposed_rows_and_earlier_rows_as_pre_period() -> None:
    result = analyze(_history(), "credit", [APPROVAL], seed="s1", as_of=AS_OF)
    assert (result.experiment, result.strategy, result.control) == ("s1", "ab", "champion")
    units = {a.arm: a.units for a in result.arms}
    assert units == {"champion": 22, "challenger": 23}  # units 90-99 were not exposed
    assert result.metric("approval_rate").comparisons[0].arm == "challenger"


def test_the_latest_experiment_by_default() -> None:
    result = analyze(_history(), "credit", [APPROVAL], as_of=AS_OF)
    assert result.experiment == "s2" and result.control == "control"
    assert {a.arm for a in result.arms} == {"control", "canary"}


def test_without_seeds_the_strategy_switch_starts_the_experiment() -> None:
    con = duckdb.connect()
    con.execute(
        "CREATE VIEW predictions AS SELECT * FROM (VALUES "
        "(TIMESTAMPTZ '2026-01-01 00:00:00+00', 'credit', 'single'), "
        "(TIMESTAMPTZ '2026-01-05 00:00:00+00', 'credit', 'ab'), "
        "(TIMESTAMPTZ '2026-01-06 00:00:00+00', 'credit', 'ab')) t(time, deployment, strategy)"
    )
    assert default_start(con, "credit", AS_OF) == datetime(2026, 1, 5, tzinfo=UTC)
    assert default_start(con, "nothing", AS_OF) == AS_OF
    scope = resolve_scope(con, "credit", AS_OF)
    assert scope.seed is None and scope.start == datetime(2026, 1, 5, tzinfo=UTC)
