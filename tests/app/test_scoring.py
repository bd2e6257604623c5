"""`score_history`: as-of scoring of entity rows (point-in-time features from the offline store,
request-like overrides, the serving decision and reason codes)."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest

from cairn.app.project import Project
from cairn.app.scoring import OUTPUT_COLUMNS, score_history
from cairn.core.deployments import UnknownDeploymentError
from cairn.core.errors import ConfigError, EntityDataFrameError
from cairn.serving.replay import score_rows
from tests.serving._models import FakeLoader, scoring_model, train_booster
from tests.serving.conftest import FEATURES, write_project

REF = "credit-default@champion"
NAMES = [f.split(":", 1)[1] for f in FEATURES]


@pytest.fixture(scope="module")
def scored_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, FakeLoader]:
    built = write_project(tmp_path_factory.mktemp("scoring") / "p")
    (built.path / "deployments.yaml").write_text(
        f"deployments:\n  credit:\n    model: {REF}\n    threshold: 0.5\n    explain: always\n"
    )
    model = scoring_model(train_booster(20261126))
    return Project.open(built.path), FakeLoader({REF: {"1": model}})


def _rows(project: Project) -> pd.DataFrame:
    times = pd.read_parquet(project.root / "data" / "profiles.parquet")["event_timestamp"]
    end = times.max() + timedelta(hours=3)
    return pd.DataFrame(
        {
            "customer_id": [3, 1, 1, 2],
            "at": [end - timedelta(hours=h) for h in (1, 4, 1, 1)],
            "note": ["x", "y", "z", "w"],
        }
    )


def test_rows_are_scored_with_the_features_known_at_their_time(
    scored_project: tuple[Project, FakeLoader],
) -> None:
    project, loader = scored_project
    rows = _rows(project)
    out = score_history(project, "credit", rows, at_column="at", loader=loader)
    assert list(out.columns) == [*rows.columns, *OUTPUT_COLUMNS]
    assert out[list(rows.columns)].equals(rows)  # the rows as given, in order
    oracle = project.features.get_historical_features(
        rows[["customer_id"]].assign(event_timestamp=rows["at"]), FEATURES
    ).to_df()
    features = [json.loads(f) for f in out["features"]]
    for got, (_, want) in zip(features, oracle[NAMES].iterrows(), strict=True):
        assert got == {n: (None if pd.isna(want[n]) else want[n]) for n in NAMES}
    assert [f["income"] for f in features[1:3]] == [10.0, 20.0]  # before and after the update
    model = loader.models[REF]["1"]
    dep = project.deployment("credit")
    direct = score_rows(dep, model, features)
    assert out["score"].tolist() == [r.score for r in direct]
    assert out["decision"].tolist() == [r.decision for r in direct]
    assert out["explained"].all()  # explain: always
    assert [json.loads(c) for c in out["reason_codes"]] == [
        [c.to_dict() for c in r.reason_codes] for r in direct
    ]
    assert set(out["model_version"]) == {"1"}


def test_feature_columns_override_and_times_may_be_iso_text(
    scored_project: tuple[Project, FakeLoader],
) -> None:
    project, loader = scored_project
    rows = _rows(project)
    rows["at"] = rows["at"].map(lambda t: t.isoformat())
    rows["segment"] = ["a", None, "d", "b"]
    out = score_history(project, "credit", rows, at_column="at", loader=loader)
    features = [json.loads(f) for f in out["features"]]
    assert [f["segment"] for f in features] == ["a", None, "d", "b"]  # null overrides too
    assert out["features_missing"].tolist()[1] == 1


def test_a_csv_file_means_what_its_parquet_twin_means(
    scored_project: tuple[Project, FakeLoader], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Empty CSV fields are null (the shared CSV reader), not empty-string overrides."""
    project, loader = scored_project
    rows = _rows(project)
    rows["at"] = rows["at"].map(lambda t: t.isoformat())
    rows["segment"] = ["a", None, "d", "b"]
    folder = tmp_path_factory.mktemp("score-csv")
    rows.to_csv(folder / "rows.csv", index=False)
    rows.to_parquet(folder / "rows.parquet", index=False)
    scored = [
        score_history(project, "credit", folder / name, at_column="at", loader=loader)
        for name in ("rows.csv", "rows.parquet")
    ]
    features = [[json.loads(f) for f in out["features"]] for out in scored]
    assert [f["segment"] for f in features[0]] == ["a", None, "d", "b"]
    assert features[0] == features[1]
    assert scored[0]["score"].tolist() == scored[1]["score"].tolist()


def test_entities_from_sql(scored_project: tuple[Project, FakeLoader]) -> None:
    project, loader = scored_project
    sql = "SELECT customer_id, event_timestamp AS t FROM txns ORDER BY t"
    out = score_history(project, "credit", sql, at_column="t", loader=loader)
    assert len(out) == 3 and list(out.columns[:2]) == ["customer_id", "t"]


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ("naive", ConfigError, "naive"),
        ("text", ConfigError, "timezone-aware"),
        ("no_key", EntityDataFrameError, "'customer_id'"),
        ("clash", EntityDataFrameError, "'score'"),
        ("empty_time", ConfigError, "1 empty time"),
    ],
)
def test_bad_rows_name_the_problem(
    scored_project: tuple[Project, FakeLoader], change: str, error: type[Exception], message: str
) -> None:
    project, loader = scored_project
    rows = _rows(project)
    if change == "naive":
        rows["at"] = rows["at"].dt.tz_localize(None)
    elif change == "text":
        rows["at"] = "yesterday"
    elif change == "no_key":
        rows = rows.drop(columns="customer_id")
    elif change == "clash":
        rows["score"] = 1.0
    else:
        rows.loc[0, "at"] = pd.NaT
    with pytest.raises(error, match=message):
        score_history(project, "credit", rows, at_column="at", loader=loader)


def test_unknown_deployment(scored_project: tuple[Project, FakeLoader]) -> None:
    project, loader = scored_project
    with pytest.raises(UnknownDeploymentError, match="credit"):
        score_history(project, "nope", _rows(project), at_column="at", loader=loader)
