"""train.yaml parsing: every bad key is one clear error naming it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cairn.core.errors import ConfigError
from cairn.training import TrainConfig

BASE: dict[str, Any] = {
    "model_name": "credit-default",
    "entities": "SELECT customer_id, event_timestamp, defaulted FROM applications",
    "label": "defaulted",
    "features": ["profile:income"],
}


def test_defaults_and_round_trip(tmp_path: Path) -> None:
    cfg = TrainConfig.from_mapping(BASE)
    assert (cfg.model.kind, cfg.model.num_boost_round, cfg.validation_fraction) == (
        "lightgbm",
        200,
        0.2,
    )
    assert (cfg.threshold, cfg.seed, cfg.register, cfg.reference.bins) == (0.5, 7, True, 10)
    path = tmp_path / "train.yaml"
    path.write_text(cfg.to_yaml())
    again = TrainConfig.from_yaml(path)
    assert again == cfg and again.source == str(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"label": None}, r"label must be non-empty text; got None"),
        ({"features": []}, r"features must be a non-empty list of 'view:feature'"),
        ({"features": "profile:income"}, r"features must be a non-empty list"),
        ({"validation_fraction": 1.5}, r"validation_fraction must be between 0 and 1.*1.5"),
        ({"threshold": 0}, r"threshold must be between 0 and 1 .*got 0"),
        ({"seed": "7"}, r"seed must be an integer; got '7'"),
        ({"register": "yes"}, r"register must be true or false; got 'yes'"),
        ({"colour": "red"}, r"unknown key 'colour'; allowed keys are model_name"),
        ({"model_name": "credit default"}, r"model_name must be letters"),
        (
            {"model": {"type": "catboost"}},
            r"model.type must be one of lightgbm, sklearn, scorecard, xgboost",
        ),
        ({"model": {"type": "sklearn"}}, r"model.estimator must name a scikit-learn"),
        ({"model": {"estimator": "sklearn.x.Y"}}, r"estimator is only for type sklearn"),
        ({"model": {"num_boost_round": 0}}, r"num_boost_round must be at least 1; got 0"),
        ({"model": {"params": [1]}}, r"model.params must be a mapping"),
        ({"reference": {"rows": "latest"}}, r"reference.rows must be one of validation"),
        ({"model": {"threads": 0}}, r"model.threads must be at least 1; got 0"),
    ],
)
def test_bad_values_name_the_key(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_mapping({**BASE, **change}, source="train.yaml")


def test_missing_keys_and_files(tmp_path: Path) -> None:
    without = {k: v for k, v in BASE.items() if k != "label"}
    with pytest.raises(ConfigError, match=r"train.yaml: the key 'label' is required"):
        TrainConfig.from_mapping(without, source="train.yaml")
    with pytest.raises(ConfigError, match="No training config at"):
        TrainConfig.from_yaml(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("model_name: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML"):
        TrainConfig.from_yaml(bad)
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        TrainConfig.from_yaml(bad)
