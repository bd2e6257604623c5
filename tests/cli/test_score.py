"""`cairn score`: historical rows through the serving path with point-in-time features.

The scores it writes equal what the server answers over HTTP for the same feature values;
features are read as they were known at each row's time; nothing reaches the prediction log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn.app.feature_store import FeatureStore
from cairn.app.server import build_app
from cairn.cli.main import app
from tests.rollouts._rollout_project import rollout_project
from tests.serving._client import TestClient
from tests.serving.conftest import FEATURES
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

runner = CliRunner(env={"COLUMNS": "200"})
NAMES = [f.split(":", 1)[1] for f in FEATURES]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """The serving test project with ``credit-default@champion`` served by ``credit``."""
    return rollout_project(tmp_path_factory.mktemp("score") / "p", mlflow_template)


@pytest.fixture(scope="module")
def client(served: Path) -> Iterator[TestClient]:
    with TestClient(build_app(served)) as c:
        yield c


def _end(path: Path) -> datetime:
    """The newest event time of the project's profile data (the profile update of customer 1
    is 3 h before the project's end, its first value 5 h before)."""
    times = pd.read_parquet(path / "data" / "profiles.parquet")["event_timestamp"]
    end: datetime = (times.max() + timedelta(hours=3)).to_pydatetime()
    return end


def _entities(path: Path) -> pd.DataFrame:
    """Customer 1 before and after its profile update, 2 and 3 now, and an unknown 9."""
    end = _end(path)
    hours = [4, 1, 1, 1, 1]
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 3, 9],
            "applied_at": [end - timedelta(hours=h) for h in hours],
            "label": [0, 1, 0, 0, 1],
        }
    )


def _score(path: Path, entities: str, out: Path, *extra: str) -> pd.DataFrame:
    args = ["score", "--deployment", "credit", "--entities", entities, "--out", str(out)]
    result = runner.invoke(app, [*args, "--repo", str(path), *extra])
    assert result.exit_code == 0, result.output
    assert "Scored" in result.output
    return pd.read_parquet(out) if out.suffix == ".parquet" else pd.read_csv(out)


def _served(client: TestClient, keys: list[int], features: list[dict[str, Any]]) -> list[Any]:
    rows = [
        {"entities": {"customer_id": k}, "features": f} for k, f in zip(keys, features, strict=True)
    ]
    response = client.post("/v1/predict/credit/batch", json={"rows": rows})
    assert response.status_code == 200, response.text
    predictions: list[Any] = response.json()["predictions"]
    return predictions


def _oracle(path: Path, frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The training-set join at each row's time: what the features were then."""
    rows = frame[["customer_id"]].assign(event_timestamp=frame["applied_at"])
    joined = FeatureStore(path).get_historical_features(rows, FEATURES).to_df()
    return [
        {n: (None if pd.isna(v) else v) for n, v in zip(NAMES, values, strict=True)}
        for values in joined[NAMES].astype(object).itertuples(index=False)
    ]


def test_score_equals_the_served_scores_for_the_same_feature_values(
    served: Path, client: TestClient, tmp_path: Path
) -> None:
    frame = _entities(served)
    file = tmp_path / "entities.csv"
    frame.assign(applied_at=frame["applied_at"].map(datetime.isoformat)).to_csv(file, index=False)
    log = served / ".cairn" / "predictions"
    before = sorted(log.rglob("*")) if log.exists() else []
    scored = _score(served, str(file), tmp_path / "scores.parquet", "--at-column", "applied_at")
    assert (sorted(log.rglob("*")) if log.exists() else []) == before  # nothing logged

    assert list(scored.columns[:3]) == ["customer_id", "applied_at", "label"]
    assert set(scored["model_name"]) == {"credit-default"} and set(scored["model_version"]) == {"1"}
    features = [json.loads(f) for f in scored["features"]]
    assert features == _oracle(served, frame)
    answers = _served(client, frame["customer_id"].tolist(), features)
    for row, answer in zip(scored.to_dict("records"), answers, strict=True):
        assert abs(row["score"] - answer["score"]) <= 1e-12
        assert row["decision"] == answer["decision"]
        assert json.loads(row["reason_codes"]) == answer["reason_codes"]
        assert row["summary"] == answer["summary"]
        assert row["explained"] == (row["decision"] == "decline")  # explain: declines
    assert set(scored["decision"]) == {"approve", "decline", "refer"}  # 9 is unknown: referred
    assert scored["features_missing"].tolist() == [0, 0, 0, 0, 2]


def test_a_row_before_a_feature_update_gets_the_old_value(served: Path, tmp_path: Path) -> None:
    frame = _entities(served).iloc[:2]
    file = tmp_path / "entities.parquet"
    frame.to_parquet(file, index=False)
    scored = _score(served, str(file), tmp_path / "s.csv", "--at-column", "applied_at")
    before, after = (json.loads(f) for f in scored["features"])
    assert (before["income"], before["segment"]) == (10.0, "a")  # the value known then
    assert (after["income"], after["segment"]) == (20.0, "b")
    assert scored["score"].iloc[0] != scored["score"].iloc[1]


def test_entities_from_sql_over_the_applied_sources(served: Path, tmp_path: Path) -> None:
    sql = "SELECT customer_id, event_timestamp FROM profiles ORDER BY event_timestamp"
    scored = _score(served, sql, tmp_path / "sql.parquet")
    truth = pd.read_parquet(served / "data" / "profiles.parquet").sort_values("event_timestamp")
    assert scored["customer_id"].tolist() == truth["customer_id"].tolist()
    frame = truth[["customer_id"]].assign(applied_at=truth["event_timestamp"])
    assert [json.loads(f) for f in scored["features"]] == _oracle(served, frame)


def test_feature_columns_of_the_rows_override_the_store(
    served: Path, client: TestClient, tmp_path: Path
) -> None:
    frame = _entities(served).iloc[1:3].assign(income=[0.5, 45.0])
    file = tmp_path / "override.parquet"
    frame.to_parquet(file, index=False)
    scored = _score(served, str(file), tmp_path / "o.parquet", "--at-column", "applied_at")
    features = [json.loads(f) for f in scored["features"]]
    assert [f["income"] for f in features] == [0.5, 45.0]
    answers = _served(client, frame["customer_id"].tolist(), features)
    assert [
        abs(s - a["score"]) <= 1e-12 for s, a in zip(scored["score"], answers, strict=True)
    ] == [True] * 2


def test_model_option_scores_with_another_version(served: Path, tmp_path: Path) -> None:
    file = tmp_path / "e.parquet"
    _entities(served).to_parquet(file, index=False)
    args = ("--at-column", "applied_at", "--model", "2")
    scored = _score(served, str(file), tmp_path / "v2.parquet", *args)
    assert set(scored["model_version"]) == {"2"}


@pytest.mark.parametrize(
    ("frame", "options", "message"),
    [
        (None, ["--deployment", "nope"], "nope"),
        (None, ["--at-column", "missing_col"], "--at-column 'missing_col' is not a column"),
        ("naive", ["--at-column", "applied_at"], "naive"),
        (None, ["--out", "scores.txt"], "--out must end in .parquet or .csv"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    served: Path, tmp_path: Path, frame: str | None, options: list[str], message: str
) -> None:
    rows = _entities(served)
    if frame == "naive":
        rows["applied_at"] = rows["applied_at"].dt.tz_localize(None)
    file = tmp_path / "e.parquet"
    rows.to_parquet(file, index=False)
    given = {"--deployment": "credit", "--out": str(tmp_path / "s.parquet")}
    for flag, value in zip(options[::2], options[1::2], strict=True):
        given[flag] = value
    args = [a for pair in given.items() for a in pair]
    result = runner.invoke(app, ["score", *args, "--entities", str(file), "--repo", str(served)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.output


def test_help_shows_an_example() -> None:
    result = runner.invoke(app, ["score", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output
