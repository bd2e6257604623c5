"""train.yaml's JSON Schema comes from the model that parses it: it rejects what the parser
rejects, and the templates' train.yaml files are valid under both."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from cairn.training import TrainConfig
from tests._schemas import NUMBERS, accepts, validator, with_value

BASE: dict[str, Any] = {
    "model_name": "credit-default",
    "entities": "SELECT customer_id, event_timestamp, defaulted FROM applications",
    "label": "defaulted",
    "features": ["profile:income"],
    "model": {"type": "lightgbm"},
    "reference": {"rows": "validation"},
}


def _parse(data: Any) -> object:
    return TrainConfig.from_mapping(data, source="train.yaml")


@pytest.mark.parametrize(
    "change",
    [
        {"label": None},
        {"label": "  "},
        {"features": []},
        {"features": "profile:income"},
        {"validation_fraction": 1.0},
        {"threshold": 0},
        {"seed": "7"},
        {"register": "yes"},
        {"colour": "red"},
        {"model_name": "credit default"},
        {"model": {"type": "catboost"}},
        {"model": {"num_boost_round": 0}},
        {"model": {"params": [1]}},
        {"model": {"threads": 0}},
        {"reference": {"rows": "holdout"}},
        {"reference": {"bins": 1}},
        {"importance_sample": 0},
        {"tags": ["a"]},
    ],
)
def test_the_schema_rejects_what_the_parser_rejects(change: dict[str, Any]) -> None:
    doc = {**BASE, **change}
    assert not accepts(_parse, doc)
    assert not validator("train").is_valid(doc)


def test_the_templates_are_valid() -> None:
    from cairn.quickstart.blank._templates import TRAIN_YAML
    from cairn.quickstart.example.training import EXAMPLE_CONFIG

    for text in (EXAMPLE_CONFIG, TRAIN_YAML):
        doc = yaml.safe_load(text)
        assert accepts(_parse, doc) and validator("train").is_valid(doc)


def test_the_old_wording_stays_and_the_missing_file_error_is_true(tmp_path: Any) -> None:
    from cairn.core.errors import ConfigError

    with pytest.raises(ConfigError, match="cairn init DIR` writes a commented one"):
        TrainConfig.from_yaml(tmp_path / "train.yaml")


_KEYS = [
    ["validation_fraction"], ["threshold"], ["seed"], ["importance_sample"],
    ["model", "num_boost_round"], ["model", "threads"], ["reference", "bins"],
    ["reference", "sample"],
]  # fmt: skip
_INTS = {"seed", "importance_sample", "num_boost_round", "threads", "bins", "sample"}


@given(
    path=st.sampled_from(_KEYS),
    value=st.one_of(st.sampled_from(NUMBERS), st.floats(-3, 3), st.integers(-3, 3)),
)
def test_numeric_keys_agree_with_the_schema(path: list[str], value: Any) -> None:
    if path[-1] in _INTS and isinstance(value, float) and value.is_integer():
        return  # JSON Schema counts 2.0 as an integer; the parser wants 2
    doc = with_value(BASE, path, value)
    assert accepts(_parse, doc) == validator("train").is_valid(doc), doc
