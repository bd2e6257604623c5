"""deployments.yaml: one model parses it and gives its schema; errors name file and key path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from cairn.core.deployments import Deployment, load_deployments, parse_deployments
from cairn.core.errors import ConfigError
from tests._schemas import NUMBERS, accepts, validator, with_value

BASE: dict[str, Any] = {"deployments": {"credit": {"model": "credit-default@champion"}}}


def _parse(data: Any) -> object:
    return parse_deployments(data, source="deployments.yaml")


def test_bad_threshold_names_the_key_path() -> None:
    with pytest.raises(ConfigError) as err:
        Deployment.from_dict("credit", {"model": "m@champion", "threshold": 2.0})
    assert str(err.value) == "deployments.credit.threshold must be between 0 and 1; got 2.0."


def test_load_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "deployments.yaml"
    path.write_text("deployments:\n  credit: {model: m@champion, top_k: 0}\n")
    with pytest.raises(ConfigError, match=rf"^{path}: deployments.credit.top_k must be at least"):
        load_deployments(path)
    path.write_text("deployments: [unclosed\n")
    with pytest.raises(ConfigError, match="is not valid YAML") as err:
        load_deployments(path)
    assert "\n" not in str(err.value)


def test_declared_decisions_label_and_the_old_explain_name() -> None:
    spec = {
        "model": "m/3",
        "decision": {"positive": "follow_up", "negative": "skip", "favorable": "positive"},
        "label": {"name": "subscribed", "maturity": "30d"},
        "explain": "declines",
        "fallback": {"score": 0.2},
    }
    dep = Deployment.from_dict("outreach", spec)
    assert (dep.decision.favorable_decision, dep.label.maturity) == ("follow_up", 30 * 86_400e6)
    assert dep.explain == "positive" and dep.fallback is not None and dep.fallback.kind == "rules"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"threshold": 1.5}, "threshold must be between 0 and 1"),
        ({"model": "no ref"}, "model must be a model reference"),
        ({"colour": "red"}, "unknown key 'colour' in deployments.credit"),
        ({"explain": "sometimes"}, "explain must be one of positive, negative, always, never"),
        ({"top_k": 0}, "top_k must be at least 1"),
        ({"top_k": 2.5}, "top_k must be an integer"),
        ({"decision": {"positive": "a"}}, "the key 'deployments.credit.decision.negative'"),
        ({"decision": {"positive": "a b", "negative": "c"}}, "decision.positive must be a name"),
        ({"decision": {"positive": "a", "negative": "b", "favorable": "a"}}, "favorable must"),
        ({"label": {"maturity": "soon"}}, "label.maturity must be a duration"),
        ({"label": {"name": ""}}, "label.name must be non-empty text"),
        ({"fallback": {"score": "high"}}, "fallback.score must be a number"),
        ({"fallback": {"model": "x"}}, "fallback.model must be a model reference"),
        ({"fallback": {"defaults": [1]}}, "fallback.defaults must be a mapping"),
        ({"feature_budget_ms": "fast"}, "feature_budget_ms must be a number"),
        ({"coverage": {"min_share": 1.5}}, "coverage.min_share must be"),
        ({"coverage": {"below": "score"}}, "coverage.below must be one of refer, reject, fallback"),
        ({"coverage": {"unknown_entity": "guess"}}, "coverage.unknown_entity must be one of"),
    ],
)
def test_the_schema_rejects_what_the_parser_rejects(change: dict[str, Any], message: str) -> None:
    doc = {"deployments": {"credit": {**BASE["deployments"]["credit"], **change}}}
    with pytest.raises(ConfigError, match=f"^deployments.yaml: .*{message}"):
        _parse(doc)
    assert not validator("deployments").is_valid(doc)


def test_positive_and_negative_must_differ() -> None:  # a rule across keys: the parser's
    doc = with_value(
        BASE, ["deployments", "credit", "decision"], {"positive": "a", "negative": "a"}
    )
    with pytest.raises(ConfigError, match=r"decision: positive and negative must differ"):
        _parse(doc)


@pytest.mark.parametrize(
    ("key", "others"), [("below", "refer or reject"), ("unknown_entity", "refer, reject or score")]
)
def test_coverage_fallback_needs_a_fallback(key: str, others: str) -> None:  # across keys
    dep = {k: v for k, v in BASE["deployments"]["credit"].items() if k != "fallback"}
    doc = {"deployments": {"credit": {**dep, "coverage": {key: "fallback"}}}}
    with pytest.raises(ConfigError, match=rf"coverage.{key} says fallback, .* choose {others}\."):
        _parse(doc)
    dep["fallback"] = {"score": 0.5}
    assert accepts(_parse, {"deployments": {"credit": {**dep, "coverage": {key: "fallback"}}}})


def test_the_templates_are_valid() -> None:
    from cairn.quickstart.blank._templates import DEPLOYMENTS_YAML
    from cairn.quickstart.example.deployments import EXAMPLE_DEPLOYMENTS

    for text in (EXAMPLE_DEPLOYMENTS, DEPLOYMENTS_YAML):
        doc = yaml.safe_load(text)
        assert accepts(_parse, doc) and validator("deployments").is_valid(doc)


@given(
    key=st.sampled_from(["threshold", "top_k", "feature_budget_ms"]),
    value=st.one_of(st.sampled_from(NUMBERS), st.floats(-3, 3), st.integers(-3, 3)),
)
def test_numeric_keys_agree_with_the_schema(key: str, value: Any) -> None:
    if key == "top_k" and isinstance(value, float) and value.is_integer():
        return  # JSON Schema counts 2.0 as an integer; the parser wants 2
    doc = with_value(BASE, ["deployments", "credit", key], value)
    assert accepts(_parse, doc) == validator("deployments").is_valid(doc), doc


def test_a_reread_file_is_parsed_again_only_when_its_bytes_changed(tmp_path: Path) -> None:
    path = tmp_path / "deployments.yaml"
    path.write_text("deployments:\n  a: {model: m@champion, threshold: 0.25}\n")
    first = load_deployments(path)
    again = load_deployments(path)
    assert again == first and again is not first  # a dict of its own each time
    assert again["a"] is first["a"]  # the same (frozen) deployment: not parsed again
    path.write_text("deployments:\n  a: {model: m@champion, threshold: 0.75}\n")  # same size
    assert load_deployments(path)["a"].threshold == 0.75
    path.write_text("deployments:\n  a: {model: m@champion, threshold: 7.5}\n")
    for _ in range(2):  # an invalid file is refused on every read, never remembered
        with pytest.raises(ConfigError, match="threshold must be between 0 and 1"):
            load_deployments(path)
    path.unlink()
    assert load_deployments(path) == {}
