"""Gates: training sets and materialization halt on critical/high failures, naming them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cairn import Entity, FeatureStore, FeatureView, Field, FileSource
from cairn.quality import Action, Check, QualityGateError, QualityStore, Suite

T0 = pd.Timestamp("2026-01-01", tz="UTC")
CUSTOMER = Entity(name="customer", join_keys=["customer_id"])
PROFILE = FeatureView(
    name="profile",
    entities=[CUSTOMER],
    source=FileSource(path="data/profiles.parquet", created_timestamp_column="created"),
    schema=[Field(name="income", dtype="float64")],
)
INCOME = Suite(
    "profiles",
    [
        Check("expect_column_values_to_not_be_null", {"column": "income"}, severity="high"),
        Check("expect_column_values_to_be_between", {"column": "income", "min_value": 0}),
    ],
    source="profiles",
)


def write(repo: Path, incomes: list[float | None], hours: list[int]) -> None:
    times = [T0 + pd.Timedelta(hours=h) for h in hours]
    frame = pd.DataFrame(
        {
            "customer_id": list(range(len(incomes))),
            "event_timestamp": pd.Series(times, dtype="datetime64[us, UTC]"),
            "created": pd.Series(times, dtype="datetime64[us, UTC]"),
            "income": pd.Series(incomes, dtype="float64"),
        }
    )
    (repo / "data").mkdir(exist_ok=True)
    frame.to_parquet(repo / "data" / "profiles.parquet", index=False)


def entities(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": range(n), "event_timestamp": [T0 + pd.Timedelta(days=1)] * n}
    )


def test_training_set_halts_naming_the_failing_checks(repo: Path) -> None:
    write(repo, [10.0, None, -5.0], [0, 1, 2])
    store = FeatureStore(repo)
    store.apply([PROFILE])
    suite = Suite(
        "train",
        [*INCOME.checks, Check("expect_column_values_to_not_be_null", {"column": "customer_id"})],
    )
    job = store.get_historical_features(entities(3), ["profile:income"], quality=suite)
    with pytest.raises(QualityGateError) as err:
        job.to_df()
    message = str(err.value)
    assert "Training set halted by quality suite 'train'" in message
    assert "#1 expect_column_values_to_not_be_null (income) [high]" in message
    assert "#2 expect_column_values_to_be_between (income) [high]" in message
    assert "#3" not in message
    with pytest.raises(QualityGateError):
        job.to_arrow()
    out = repo / "train.parquet"
    with pytest.raises(QualityGateError):
        job.to_parquet(out)
    assert not out.exists() and list(repo.glob("*.unvalidated")) == []
    history = QualityStore(store.metadata, project=store.project).history("train")
    assert len(history) == 3 and {r.action for r in history} == {"halt"}


def test_training_set_that_passes_is_returned_with_its_result(repo: Path, tmp_path: Path) -> None:
    write(repo, [10.0, 20.0], [0, 1])
    store = FeatureStore(repo)
    store.apply([PROFILE])
    suite_file = tmp_path / "train.yaml"
    suite_file.write_text(INCOME.to_yaml())
    job = store.get_historical_features(entities(2), ["profile:income"], quality=suite_file)
    frame = job.to_df()
    assert frame["income"].tolist() == [10.0, 20.0]
    assert job.quality is not None and job.quality.verdict == "passed"  # type: ignore[attr-defined]
    assert job.to_parquet(repo / "ok.parquet").exists()
    assert job.manifest.row_count == 2 and "SELECT" in job.sql


def test_warnings_do_not_halt_a_training_set(repo: Path) -> None:
    write(repo, [10.0, -1.0], [0, 1])
    store = FeatureStore(repo)
    store.apply([PROFILE])
    soft = Suite("soft", INCOME.checks, actions={"high": "warn"})
    job = store.get_historical_features(entities(2), ["profile:income"], quality=soft)
    assert len(job.to_df()) == 2
    assert job.quality.action is Action.WARN  # type: ignore[attr-defined]


def test_materialization_validates_the_range_before_writing(repo: Path) -> None:
    write(repo, [10.0, 20.0, -1.0], [0, 1, 30])
    store = FeatureStore(repo)
    store.apply([PROFILE])
    first_day = (T0 + pd.Timedelta(days=1)).to_pydatetime()
    results = store.materialize_incremental(first_day, quality=INCOME)  # the bad row is later
    assert [r.records for r in results] == [2]
    with pytest.raises(QualityGateError, match="Materialization of view 'profile' halted") as err:
        store.materialize_incremental((T0 + pd.Timedelta(days=2)).to_pydatetime(), quality=INCOME)
    checked = err.value.result
    assert checked.rows == 1  # only the rows after the watermark
    assert checked.checks[1].failing_rows[0]["values"] == {"income": -1.0}
    online = store.get_online_features(
        ["profile:income"], [{"customer_id": 2}], at=T0 + pd.Timedelta(days=3)
    )
    assert online.to_dict()["income"] == [None]  # nothing was written
    with pytest.raises(QualityGateError):
        store.materialize(
            T0.to_pydatetime(), (T0 + pd.Timedelta(days=2)).to_pydatetime(), quality=INCOME
        )
    other_source = Suite("other", INCOME.checks, source="transactions")
    assert store.materialize(
        T0.to_pydatetime(), (T0 + pd.Timedelta(days=2)).to_pydatetime(), quality=other_source
    )
