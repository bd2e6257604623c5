"""A scorecard trained on the example credit project through ``train()``, registered, and
served by the real HTTP app: served scores equal optbinning's own offline ``predict_proba``,
contributions add up to the margin, and a decline's reason codes name the characteristics that
lost the most points."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cairn.app.project import Project
from cairn.app.server import build_app
from cairn.quickstart.example import create_example_project
from cairn.quickstart.training_demo import write_example_config
from cairn.serving.scorer_scorecard import ScorecardScorer, load_scorecard
from cairn.training import (
    ModelSpec,
    TrainConfig,
    TrainingResult,
    build_training_set,
    estimators,
    train,
)
from cairn.training.fit_scorecard import ScorecardModel
from cairn.training.frame import FeatureFrame
from tests.serving._client import TestClient
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

pytestmark = pytest.mark.slow
PARAMS = {"monotonic_trend": {"income": "descending", "seniority": "descending"}}
DEPLOYMENT = """\
deployments:
  card:
    model: credit-default/{version}
    threshold: 0.5
    decision: {{positive: decline, negative: approve, favorable: negative}}
    explain: always
    top_k: 3
    coverage: {{min_share: 0.0, unknown_entity: score}}
"""


@dataclass(frozen=True)
class Trained:
    """The example project, its scorecard version and the in-memory fitted model."""

    root: Path
    result: TrainingResult
    model: ScorecardModel
    rows: pd.DataFrame
    """Validation rows' feature values (a few made missing or unseen)."""
    inputs: pd.DataFrame
    """The same rows as the model inputs (``FeatureFrame.transform``)."""


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Trained:
    root = create_example_project(tmp_path_factory.mktemp("card") / "credit").path
    (root / ".cairn").mkdir(exist_ok=True)
    shutil.copy(mlflow_template, root / ".cairn" / "mlflow.db")
    project = Project.open(root)
    store = project.features
    if not store.applied_views():
        store.apply(project.definitions())
    config = TrainConfig.from_yaml(write_example_config(root))
    config = replace(config, model=ModelSpec(kind="scorecard", params=PARAMS))
    data = build_training_set(config, store)
    fitted: list[Any] = []
    fit = estimators.FITTERS["scorecard"]
    with pytest.MonkeyPatch.context() as mp:  # keep the fitted model the run logs
        mp.setitem(
            estimators.FITTERS,
            "scorecard",
            lambda *a, **k: fitted.append(fit(*a, **k)) or fitted[-1],
        )
        result = train(config, store, project.tracker, author="ana", training_set=data)
    assert result.version is not None and result.flavor == "scorecard"
    frame, features = data.frame, data.feature_columns
    ff = FeatureFrame.fit(frame.iloc[result.split.train], features)
    rows = frame.iloc[result.split.validation[:40]][features].reset_index(drop=True)
    rows = rows.astype(object).where(rows.notna(), None)
    rows.loc[0, "income"] = None
    rows.loc[1, "home"] = None
    rows.loc[2, "job"] = "astronaut"  # a level training never saw
    (root / "deployments.yaml").write_text(DEPLOYMENT.format(version=result.version))
    return Trained(root, result, fitted[-1], rows, ff.transform(rows))


@pytest.fixture(scope="module")
def served(trained: Trained) -> Iterator[list[dict[str, Any]]]:
    """The served answers of every row, features sent explicitly."""
    with TestClient(build_app(trained.root)) as client:
        out = []
        for i, row in enumerate(trained.rows.to_dict(orient="records")):
            body = {"entities": {"customer_id": 900_000 + i}, "features": row}
            r = client.post("/v1/predict/card", json=body)
            assert r.status_code == 200, r.text
            out.append(r.json())
        yield out


def _scorer(trained: Trained) -> ScorecardScorer:
    return trained.model.scorer(list(trained.inputs.columns), trained.model.categories)


def test_served_scores_equal_optbinning_offline_predict(
    trained: Trained, served: list[dict[str, Any]]
) -> None:
    offline = trained.model.predict(trained.inputs)  # optbinning's own predict_proba
    got = np.array([r["score"] for r in served])
    assert [r["model"]["version"] for r in served] == [trained.result.version] * len(served)
    np.testing.assert_allclose(got, offline, rtol=0, atol=1e-9)
    assert trained.result.metrics["valid_auc"] > 0.75


def test_the_artifact_is_a_json_points_table_and_loads_to_the_same_scorer(
    trained: Trained, tmp_path: Path
) -> None:
    tracker = Project.open(trained.root).tracker
    with tracker.session() as mlflow:
        local = Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=trained.result.model_uri,
                dst_path=str(tmp_path),
                tracking_uri=tracker.uri,
            )
        )
    names = sorted(p.name for p in local.rglob("*") if p.is_file())
    assert "scorecard.json" in names and "MLmodel" in names
    assert not [n for n in names if n.endswith((".pkl", ".pickle", ".joblib", ".cloudpickle"))]
    table = json.loads(next(local.rglob("scorecard.json")).read_text())
    assert table == json.loads(json.dumps(trained.model.table))
    loaded = load_scorecard(
        local, features=list(trained.inputs.columns), categories=trained.model.categories
    )
    X = _codes(trained)
    np.testing.assert_array_equal(loaded.contributions(X), _scorer(trained).contributions(X))


def _codes(trained: Trained) -> np.ndarray:
    from cairn.training.fit_scorecard import codes

    return codes(trained.inputs, trained.model.categories)


def test_contributions_add_up_to_the_points_exactly(trained: Trained) -> None:
    s = _scorer(trained)
    X = _codes(trained)
    phi = s.contributions(X)
    np.testing.assert_allclose(phi.sum(axis=1), s.margin(X), rtol=0, atol=1e-9)
    np.testing.assert_allclose(-phi.sum(axis=1), s.points(X), rtol=0, atol=1e-9)


def test_declared_monotonic_trends_hold_in_the_points_table(trained: Trained) -> None:
    chars = {c["name"]: c for c in trained.model.table["characteristics"]}
    for name in PARAMS["monotonic_trend"]:
        assert chars[name]["monotonic_trend"] == "descending"
        assert len(chars[name]["points"]) >= 2
        assert np.all(np.diff(chars[name]["points"]) >= 0)  # less risk upward: more points


def test_a_declines_reason_codes_name_the_most_adverse_characteristics(
    trained: Trained, served: list[dict[str, Any]]
) -> None:
    s = _scorer(trained)
    X = _codes(trained)
    phi = s.contributions(X)[:, :-1]
    features = list(trained.inputs.columns)
    declines = [i for i, r in enumerate(served) if r["decision"] == "decline"]
    assert declines
    for i in declines:
        adverse = np.argsort(-phi[i], kind="stable")[:3]
        want = [features[j] for j in adverse if phi[i, j] > 0]
        codes = served[i]["reason_codes"]
        assert [r["feature"] for r in codes] == want and want
        # the contribution served is the points the characteristic lost against its neutral
        neutral = {c["name"]: c["neutral_points"] for c in trained.model.table["characteristics"]}
        per = {n: s.contributions(X[i : i + 1])[0, features.index(n)] for n in want}
        for r in codes:
            assert r["contribution"] == pytest.approx(per[r["feature"]], abs=1e-9)
            assert neutral[r["feature"]] - r["contribution"] < neutral[r["feature"]]
