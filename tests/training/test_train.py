"""train(): everything a reviewer needs is in MLflow, and bad input is one clear error."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import yaml

from cairn import FeatureStore
from cairn.core.errors import ConfigError, DataError, UnknownFeatureError
from cairn.tracking import DIGEST_CHARS, DIGEST_TAG
from cairn.training import ARTIFACTS, FeatureFrame, TrainConfig
from tests.tracking._fixtures import ENTITIES, FEATURES, SKLEARN, Governed


def test_training_logs_everything(governed: Governed) -> None:
    result = governed.train(author="ana")
    run = governed.tracker.get_run(result.run_id)
    # params and metrics
    assert run.params["model.num_leaves"] == "7" and run.params["model_type"] == "lightgbm"
    assert run.params["label"] == "defaulted" and run.params["features"] == ",".join(FEATURES)
    assert run.params["split_cutoff"] == result.split.cutoff.isoformat()
    for name in ("auc", "gini", "ks", "precision", "recall", "brier"):
        assert f"valid_{name}" in run.metrics and f"train_{name}" in run.metrics
    assert 0.5 < run.metrics["valid_auc"] <= 1
    # the training set: a dataset input whose digest is Cairn's full-content manifest digest
    expected = FeatureStore(governed.root).get_historical_features(ENTITIES, FEATURES).manifest
    assert result.manifest.digest == expected.digest
    (ds,) = run.datasets
    assert ds.digest == expected.digest[:DIGEST_CHARS] and ds.tags[DIGEST_TAG] == expected.digest
    manifest = governed.tracker.load_json(result.run_id, ARTIFACTS["manifest"])
    assert manifest["digest"] == expected.digest and manifest["row_count"] == 400
    assert set(manifest["sources"]) == {"profiles"} and manifest["entity"]["sha256"]
    # code commit, packages, author
    assert run.tags["cairn.code.commit"] == result.commit.sha if result.commit else False
    assert run.tags["cairn.code.dirty"] == "false"
    assert run.tags["mlflow.source.git.commit"] == run.tags["cairn.code.commit"]
    assert (
        run.tags["cairn.author"] == "ana" and run.tags["cairn.package.lightgbm"] == lgb.__version__
    )
    env = governed.tracker.load_json(result.run_id, ARTIFACTS["environment"])
    assert env["code"]["sha"] == run.tags["cairn.code.commit"] and "mlflow" in env["packages"]
    # quality results, importance, reference profile, the config itself
    quality = governed.tracker.load_json(result.run_id, ARTIFACTS["quality"])
    assert quality["passed"] and quality["counts"]["fail"] == 0
    importance = governed.tracker.load_json(result.run_id, ARTIFACTS["importance"])
    assert importance["method"] == "mean_abs_shap"
    assert set(importance["values"]) == {"income", "debt", "home", "age"}
    profile = governed.tracker.load_json(result.run_id, ARTIFACTS["profile"])
    assert set(profile["columns"]) == {"income", "debt", "home", "age"}
    assert profile["columns"]["home"]["kind"] == "categorical" and profile["score"]["edges"]
    assert profile["rows"] == len(result.split.validation)
    config = governed.tracker.load_json(result.run_id, ARTIFACTS["config"])
    assert TrainConfig.from_mapping(config) == governed.config
    # the registered version
    mv = governed.tracker.registry().get_version("credit-default", result.version or "")
    assert mv.run_id == result.run_id and mv.author == "ana"
    assert mv.tags[DIGEST_TAG] == expected.digest
    (entry,) = governed.registry.audit.entries(action="model.registered")
    assert entry.subject == "credit-default/1" and entry.actor == "ana"


def test_the_native_booster_is_logged_with_signature_and_pins(governed: Governed) -> None:
    import mlflow

    result = governed.train()
    with governed.tracker.session():
        local = Path(mlflow.artifacts.download_artifacts(result.model_uri))
        info = mlflow.models.get_model_info(result.model_uri)
        loaded = mlflow.lightgbm.load_model("models:/credit-default/1")
    assert (local / "model.lgb").is_file()
    requirements = (local / "requirements.txt").read_text().split()
    # explicit pins (no inference); MLflow adds itself
    assert [r.split("==")[0] for r in requirements] == ["mlflow", "lightgbm", "numpy", "pandas"]
    assert f"lightgbm=={lgb.__version__}" in requirements
    inputs = {c["name"]: c["type"] for c in info.signature.inputs.to_dict()}
    assert inputs == {"income": "double", "debt": "double", "home": "string", "age": "double"}
    booster = lgb.Booster(model_file=str(local / "model.lgb"))
    assert isinstance(loaded, lgb.Booster)
    frame = FeatureStore(governed.root).get_historical_features(ENTITIES, FEATURES).to_df()
    features = governed.tracker.load_json(result.run_id, ARTIFACTS["features"])
    ff = FeatureFrame(features["features"], features["categories"])
    X = ff.transform(frame.head(20))
    np.testing.assert_allclose(booster.predict(X), loaded.predict(X))


def test_training_is_deterministic(governed: Governed) -> None:
    a, b = governed.train(), governed.train()
    assert a.metrics == b.metrics and a.version == "1" and b.version == "2"


def test_a_scikit_learn_estimator(governed: Governed) -> None:
    result = governed.train(model=SKLEARN)
    run = governed.tracker.get_run(result.run_id)
    assert result.flavor == "sklearn" and run.params["model.max_iter"] == "15"
    assert run.params["model.random_state"] == "7"  # seeded from the config
    assert result.importance.method == "permutation_auc"
    assert 0.5 < result.metrics["valid_auc"] <= 1


def test_not_registered_when_asked(governed: Governed) -> None:
    result = governed.train(register=False)
    assert result.version is None and result.model_uri.startswith("models:/")
    assert governed.registry.audit.entries() == []


def test_a_missing_feature_is_one_clear_error(governed: Governed) -> None:
    with pytest.raises(
        UnknownFeatureError,
        match=r"train.yaml: features: .*'profile:salary'.*"
        r"has no feature 'salary'",
    ):
        governed.train(features=["profile:income", "profile:salary"])
    with pytest.raises(UnknownFeatureError, match=r"names the view 'nope', which is not applied"):
        governed.train(features=["nope:x"])


def test_a_missing_label_is_one_clear_error(governed: Governed) -> None:
    with pytest.raises(
        ConfigError,
        match=r"train.yaml: label 'churned' is not a column of the "
        r"entity rows; expected one of \['customer_id', 'event_timestamp', "
        r"'defaulted'\]",
    ):
        governed.train(label="churned")


def test_entity_sql_errors_name_the_config(governed: Governed) -> None:
    with pytest.raises(DataError, match=r"train.yaml: entities: entity_df SQL failed"):
        governed.train(entities="SELECT * FROM no_such_table")


def test_a_label_with_one_class_stops_training(governed: Governed) -> None:
    sql = "SELECT customer_id, event_timestamp, 0 AS defaulted FROM applications"
    with pytest.raises(DataError, match=r"failed 2 check\(s\): both_classes:train"):
        governed.train(entities=sql)
    assert governed.tracker.search_runs() == []  # nothing half-logged


def test_bad_lightgbm_params_are_config_errors(governed: Governed) -> None:
    model = dataclasses.replace(governed.config.model, params={"objective": "regression"})
    with pytest.raises(ConfigError, match="must be a binary objective"):
        governed.train(model=model)
    model = dataclasses.replace(governed.config.model, params={"n_estimators": 5})
    with pytest.raises(ConfigError, match="with model.num_boost_round, not model.params"):
        governed.train(model=model)
    bad = dataclasses.replace(SKLEARN, estimator="sklearn.ensemble.NoSuchModel")
    with pytest.raises(ConfigError, match="has no class or function 'NoSuchModel'"):
        governed.train(model=bad)


def test_an_entity_file_path_resolves_in_the_project(governed: Governed) -> None:
    result = governed.train(entities="data/applications.parquet")
    assert result.manifest.row_count == 400


def test_example_config_is_valid_yaml() -> None:
    from cairn.quickstart.training_demo import EXAMPLE_CONFIG

    data = yaml.safe_load(EXAMPLE_CONFIG)
    assert TrainConfig.from_mapping(data).model.threads == 1
