"""The XGBoost family end to end: trained on the example project through ``cairn.training.train``,
registered with its flavor, served over the real HTTP app, and scoring exactly like offline."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cairn.app.project import Project
from cairn.app.server import build_app
from cairn.quickstart.example import create_example_project
from cairn.quickstart.training_demo import write_example_config
from cairn.serving.scorer_xgboost import XGBoostScorer, load_xgboost
from cairn.training import ModelSpec, TrainConfig, build_training_set, train
from cairn.training.fit_xgboost import XGBoostModel, code_matrix
from cairn.training.frame import FeatureFrame
from tests.serving._client import TestClient
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

SPEC = ModelSpec(kind="xgboost", params={"max_depth": 3, "eta": 0.1}, num_boost_round=60, threads=1)


@dataclass(frozen=True)
class Served:
    """The example project with an XGBoost champion, its rows and the version's artifacts."""

    path: Path
    version: str
    frame: pd.DataFrame
    ff: FeatureFrame
    folder: Path
    tags: dict[str, str]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Served:
    root = create_example_project(tmp_path_factory.mktemp("xgb") / "credit").path
    (root / ".cairn").mkdir(exist_ok=True)
    shutil.copy(mlflow_template, root / ".cairn" / "mlflow.db")
    project = Project.open(root)
    project.features.apply(project.definitions())
    project.features.materialize_incremental(datetime.now(UTC))
    config = replace(TrainConfig.from_yaml(write_example_config(root)), model=SPEC)
    data = build_training_set(config, project.features)
    result = train(
        config, project.features, project.tracker, author="ana", audit=project.registry.audit,
        training_set=data,
    )  # fmt: skip
    assert result.version is not None and result.flavor == "xgboost"
    registry = project.tracker.registry()
    registry.set_alias(config.model_name, "champion", result.version)
    mv = registry.get_version(config.model_name, result.version)
    assert mv.run_id is not None
    frame = project.tracker.load_json(mv.run_id, "feature_frame.json")
    ff = FeatureFrame(list(frame["features"]), dict(frame["categories"]))
    folder = Path(tempfile.mkdtemp(dir=root))
    with project.tracker.session() as mlflow:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=mv.source, dst_path=str(folder), tracking_uri=project.tracker.uri
        )
    return Served(root, result.version, data.frame, ff, Path(local), dict(mv.tags))


def _rows(served: Served) -> pd.DataFrame:
    """Eight applications and the four the model scores highest (declines), one with missing
    values and one with an unseen category."""
    complete = served.frame[served.frame[served.ff.features].notna().all(axis=1)]
    model, _ = _offline(served)
    scores = model.predict(served.ff.transform(complete[served.ff.features]))
    top = np.argsort(-scores, kind="stable")[:4]
    rows = pd.concat([complete.iloc[:8], complete.iloc[top]]).reset_index(drop=True)
    numeric = next(f for f in served.ff.features if f not in served.ff.categories)
    text = next(iter(served.ff.categories))
    rows.loc[1, [numeric, text]] = None
    rows.loc[2, text] = "never-seen-level"
    return rows


def _offline(served: Served) -> tuple[XGBoostModel, XGBoostScorer]:
    scorer = load_xgboost(
        served.folder, features=served.ff.features, categories=served.ff.categories
    )
    return XGBoostModel(scorer.booster.copy(), {}), scorer


def _json(value: Any) -> Any:
    return None if pd.isna(value) else value.item() if hasattr(value, "item") else value


@pytest.mark.slow
def test_the_version_is_a_native_booster_with_its_flavor_recorded(served: Served) -> None:
    assert served.tags["cairn.flavor"] == "xgboost"
    files = {p.name for p in served.folder.rglob("*") if p.is_file()}
    assert "model.ubj" in files and "MLmodel" in files
    assert not any(name.endswith((".pkl", ".pickle", ".cloudpickle")) for name in files)
    assert "xgboost:" in (served.folder / "MLmodel").read_text()


@pytest.mark.slow
def test_the_explanation_shows_the_boosters_total_gain(served: Served) -> None:
    project = Project.open(served.path)
    mv = project.tracker.registry().get_version("credit-default", served.version)
    assert mv.run_id is not None
    explanation = project.tracker.load_json(mv.run_id, "explanation.json")
    logged = project.tracker.load_json(mv.run_id, "importance_gain.json")
    assert logged["method"] == "total_gain"
    assert explanation["gain"] == pytest.approx(logged["values"], rel=1e-12)
    assert set(explanation["gain"]) == set(served.ff.features)


@pytest.mark.slow
def test_served_scores_equal_offline_predict_and_reasons_explain_declines(
    served: Served,
) -> None:
    rows = _rows(served)
    model, scorer = _offline(served)
    offline = model.predict(served.ff.transform(rows[served.ff.features]))
    body = {
        "rows": [
            {
                "entities": {"customer_id": int(row["customer_id"])},
                "features": {f: _json(row[f]) for f in served.ff.features},
            }
            for i, row in rows.iterrows()
        ]
    }
    with TestClient(build_app(served.path), raise_server_exceptions=False) as client:
        answer = client.post("/v1/predict/credit/batch", json=body)
    assert answer.status_code == 200, answer.text
    predictions = answer.json()["predictions"]
    scores = np.array([p["score"] for p in predictions])
    np.testing.assert_allclose(scores, offline, rtol=0, atol=1e-9)
    declines = [p for p in predictions if p["decision"] == "decline"]
    assert declines, "the example rows include declines"
    X = code_matrix(served.ff.transform(rows[served.ff.features]))
    assert np.isnan(X[1]).sum() == 2 and np.isnan(X[2]).sum() == 1  # missing, unseen level
    phi = scorer.contributions(X)
    for p in declines:
        assert p["reason_codes"], p
        i = predictions.index(p)
        top = served.ff.features[int(np.argmax(phi[i, :-1]))]
        assert p["reason_codes"][0]["feature"] == top
        assert p["reason_codes"][0]["contribution"] == pytest.approx(float(phi[i, :-1].max()))


@pytest.mark.slow
def test_contributions_add_up_to_the_margin_and_predict_is_its_sigmoid(served: Served) -> None:
    _, scorer = _offline(served)
    X = code_matrix(served.ff.transform(_rows(served)[served.ff.features]))
    phi = scorer.contributions(X)
    assert phi.shape == (len(X), len(served.ff.features) + 1)
    np.testing.assert_allclose(phi.sum(axis=1), scorer.margin(X), rtol=0, atol=1e-9)
    np.testing.assert_allclose(
        scorer.predict(X), 1 / (1 + np.exp(-scorer.margin(X))), rtol=0, atol=1e-6
    )
    refs = scorer.references()
    assert refs and set(refs) <= set(served.ff.features) - set(served.ff.categories)
    scorer.warm()


def test_the_in_memory_scorer_equals_the_loaded_one() -> None:
    rng = np.random.default_rng(3)
    X = pd.DataFrame(
        {
            "income": rng.normal(size=400),
            "home": pd.Categorical(rng.choice(["own", "rent", "other"], 400),
                                   categories=["other", "own", "rent"]),
        }
    )  # fmt: skip
    y = ((X["income"] > 0) | (X["home"] == "rent")).to_numpy(dtype=np.int64)
    from cairn.training.fit_xgboost import fit_xgboost

    model = fit_xgboost(SPEC, X, y, X, y, seed=7, where="test")
    categories = {"home": ["other", "own", "rent"]}
    scorer = model.scorer(["income", "home"], categories)
    with tempfile.TemporaryDirectory() as tmp:
        model.estimator.save_model(str(Path(tmp) / "model.ubj"))
        loaded = load_xgboost(Path(tmp), features=["income", "home"], categories=categories)
    Xm = code_matrix(X)
    assert np.array_equal(scorer.predict(Xm), loaded.predict(Xm))
    assert np.array_equal(scorer.predict(Xm), model.predict(X))
    assert np.array_equal(scorer.contributions(Xm), loaded.contributions(Xm))
    assert model.importance(X, y, sample=100, seed=1).method == "mean_abs_shap"
    assert set(model.gain()) == {"income", "home"}


@pytest.mark.slow
def test_a_booster_for_other_features_is_refused(served: Served) -> None:
    from cairn.core.errors import ConfigError

    with pytest.raises(ConfigError, match="expects the features"):
        load_xgboost(served.folder, features=["income"], categories={})


@pytest.mark.slow
def test_scoring_latency_in_process_versus_the_booster(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    """A measurement, reported (no timing assert): p50 per row of the scorer vs
    ``booster.predict`` on a DMatrix."""
    import xgboost as xgb

    _, scorer = _offline(served)
    X = code_matrix(served.ff.transform(_rows(served)[served.ff.features]))[:1]
    booster = scorer.booster

    def p50(fn: Any) -> float:
        times = []
        for _ in range(300):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return float(np.median(times) * 1e6)

    def direct() -> Any:
        data = xgb.DMatrix(
            X,
            feature_names=booster.feature_names,
            feature_types=booster.feature_types,
            enable_categorical=True,
            nthread=1,
        )
        return booster.predict(data)  # fmt: skip

    timings = {
        "scorer.predict": p50(lambda: scorer.predict(X)),
        "scorer.contributions": p50(lambda: scorer.contributions(X)),
        "booster.predict(DMatrix)": p50(direct),
    }
    with capsys.disabled():
        print("\nxgboost p50 per row (us):", {k: round(v, 1) for k, v in timings.items()})
    assert all(v > 0 for v in timings.values())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"objective": "reg:squarederror"}, "must be 'binary:logistic'"),
        ({"n_estimators": 10}, "model.num_boost_round, not model.params.n_estimators"),
        ({"max_depth": -2}, "XGBoost refused model.params"),
    ],
)
def test_bad_params_get_one_clear_error(params: dict[str, Any], message: str) -> None:
    from cairn.core.errors import ConfigError
    from cairn.training.fit_xgboost import fit_xgboost

    X = pd.DataFrame({"x": np.arange(20, dtype=np.float64)})
    y = (X["x"] > 9).to_numpy(dtype=np.int64)
    with pytest.raises(ConfigError, match=message):
        fit_xgboost(replace(SPEC, params=params), X, y, X, y, seed=0, where="train.yaml")


def test_train_yaml_selects_xgboost_and_refuses_an_estimator() -> None:
    from cairn.core.errors import ConfigError

    base = {
        "model_name": "m",
        "entities": "SELECT 1",
        "label": "y",
        "features": ["v:x"],
        "model": {"type": "xgboost", "num_boost_round": 30, "early_stopping_rounds": 5},
    }
    spec = TrainConfig.from_mapping(base, source="train.yaml").model
    assert (spec.kind, spec.num_boost_round, spec.early_stopping_rounds) == ("xgboost", 30, 5)
    wrong = {**base, "model": {"type": "xgboost", "estimator": "sklearn.svm.SVC"}}
    with pytest.raises(ConfigError, match="only for type sklearn; type xgboost"):
        TrainConfig.from_mapping(wrong, source="train.yaml")


def test_early_stopping_keeps_the_best_rounds_only() -> None:
    from cairn.training.fit_xgboost import fit_xgboost

    rng = np.random.default_rng(5)
    X = pd.DataFrame({"x": rng.normal(size=600), "noise": rng.normal(size=600)})
    y = (X["x"] + rng.normal(scale=2.0, size=600) > 0).to_numpy(dtype=np.int64)
    spec = replace(SPEC, num_boost_round=300, early_stopping_rounds=5)
    model = fit_xgboost(spec, X[:400], y[:400], X[400:], y[400:], seed=1, where="train.yaml")
    best = model.extra_metrics["best_iteration"]
    assert model.extra_metrics["num_trees"] == best + 1 < 300
    assert model.params["early_stopping_rounds"] == 5
