"""Metric definitions: built-ins, experiments.yaml declarations and overrides, bad specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cairn.core.deployments import Deployment
from cairn.core.errors import ConfigError
from cairn.experiments.metrics import BUILTIN_METRICS, Metric, MetricCatalog, metric_from_mapping


def test_builtins_cover_a_credit_deployment() -> None:
    assert set(BUILTIN_METRICS) == {
        "positive_rate", "negative_rate", "label_rate", "label_rate_among_negative", "score",
        "latency_ms", "error_rate", "approval_rate", "default_rate", "bad_rate_among_approved",
    }  # fmt: skip
    assert BUILTIN_METRICS["default_rate"].uses_outcome
    assert not BUILTIN_METRICS["approval_rate"].uses_outcome
    assert BUILTIN_METRICS["latency_ms"].guardrail and BUILTIN_METRICS["error_rate"].guardrail
    assert BUILTIN_METRICS["default_rate"].maturity_text == "90d"


def test_experiments_yaml_adds_and_adjusts(tmp_path: Path) -> None:
    (tmp_path / "experiments.yaml").write_text(
        "min_completeness: 0.6\n"
        "metrics:\n"
        "  default_rate: {maturity: 30d, family: risk}\n"
        "  loan_amount:\n"
        "    type: mean\n"
        "    sql: CAST(features->>'amount' AS DOUBLE)\n"
        "    unit_aggregate: sum\n"
        "  margin:\n"
        "    type: ratio\n"
        "    sql: score\n"
        "    denominator: '1.0'\n"
        "    guardrail: true\n"
        "    direction: decrease\n"
    )
    catalog = MetricCatalog.load(tmp_path)
    assert catalog.min_completeness == 0.6
    adjusted = catalog.get("default_rate")
    assert (adjusted.maturity_text, adjusted.family, adjusted.sql) == ("30d", "risk", "label > 0")
    assert catalog.get("loan_amount").unit_aggregate == "sum"
    assert catalog.get("margin").guardrail
    assert [m.name for m in catalog.select(["score", "score", "margin"])] == ["score", "margin"]


def test_without_a_file_the_builtins_remain(tmp_path: Path) -> None:
    assert set(MetricCatalog.load(tmp_path).metrics) == set(BUILTIN_METRICS)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "median", "sql": "score"}, "type must be one of proportion, mean, ratio"),
        ({"type": "ratio", "sql": "score"}, "'denominator' is required for ratio"),
        ({"type": "mean"}, "needs 'type'"),
        ({"type": "mean", "sql": "score", "maturity": "soon"}, "maturity must be"),
        ({"type": "mean", "sql": "score", "colour": "red"}, "Unknown key 'colour'"),
        ({"type": "mean", "sql": "score", "guardrail": "yes"}, "guardrail must be true or false"),
        ({"type": "mean", "sql": "score", "direction": "up"}, "direction must be one of"),
        ("score", "must be a mapping"),
    ],
)
def test_bad_specs_name_the_metric(spec: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        metric_from_mapping("m", spec)


def test_bad_names_and_catalog_keys() -> None:
    with pytest.raises(ConfigError, match="identifier"):
        Metric("1bad", "mean", "score")
    with pytest.raises(ConfigError, match="Unknown key 'metric'"):
        MetricCatalog.from_mapping({"metric": {}})
    with pytest.raises(ConfigError, match=r"min_completeness must be in \(0, 1\]"):
        MetricCatalog.from_mapping({"min_completeness": 2})
    with pytest.raises(ConfigError, match="Unknown metric 'nope'; known: approval_rate"):
        MetricCatalog.from_mapping({}).get("nope")
    with pytest.raises(ConfigError, match="Name at least one metric"):
        MetricCatalog.from_mapping({}).select([])


def test_invalid_yaml_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "experiments.yaml").write_text("metrics: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        MetricCatalog.load(tmp_path)


DAY = 86_400_000_000
OUTREACH = Deployment.from_dict(
    "outreach",
    {
        "model": "propensity@champion",
        "decision": {"positive": "follow_up", "negative": "skip", "favorable": "positive"},
        "label": {"name": "subscribed", "maturity": "7d"},
    },
)


def test_builtins_follow_the_deployments_decisions_and_label_maturity() -> None:
    declared = {
        "subscribed_share": {"type": "proportion", "sql": "label = 1"},  # matures with the label
        "quick_share": {"type": "proportion", "sql": "label = 1", "maturity": "1d"},
        "label_rate": {"family": "outcomes"},  # adjusts the built-in, keeps its maturity
    }
    catalog = MetricCatalog.from_mapping({"metrics": declared}).for_deployment(OUTREACH)
    positive, negative = catalog.get("positive_rate"), catalog.get("negative_rate")
    assert (positive.sql, positive.direction) == ("positive", "increase")
    assert "follow_up" in positive.description and "skip" in negative.description
    assert negative.direction == "decrease"
    assert catalog.get("label_rate").maturity == 7 * DAY
    assert catalog.get("label_rate").family == "outcomes"
    assert catalog.get("label_rate").direction == "increase"  # the favorable decision's label
    assert catalog.get("label_rate_among_negative").maturity == 7 * DAY
    assert catalog.get("label_rate_among_negative").direction == "decrease"  # misses
    assert catalog.get("subscribed_share").maturity == 7 * DAY
    assert catalog.get("quick_share").maturity == DAY
    assert not catalog.get("positive_rate").maturity  # decisions are known at once
    with pytest.raises(ConfigError, match="Unknown metric 'approval_rate'; known: error_rate"):
        catalog.get("approval_rate")  # the credit names are credit's configuration


def test_credit_keeps_its_names_and_0_1_maturity_unless_it_declares_one() -> None:
    plain = Deployment.from_dict("credit", {"model": "credit-default@champion"})
    catalog = MetricCatalog.from_mapping({}).for_deployment(plain)
    assert catalog.get("default_rate").maturity_text == "90d"  # 0.1's default
    assert catalog.get("label_rate").maturity_text == "0s"
    assert catalog.get("approval_rate").sql == catalog.get("negative_rate").sql == "NOT positive"
    assert catalog.get("approval_rate").direction == "increase"
    assert catalog.get("positive_rate").direction == "decrease"  # fewer declines is better
    assert catalog.get("score").direction == "decrease"
    declared = Deployment.from_dict(
        "credit", {"model": "credit-default@champion", "label": {"maturity": "60d"}}
    )
    catalog = MetricCatalog.from_mapping({}).for_deployment(declared)
    for name in ("default_rate", "bad_rate_among_approved", "label_rate"):
        assert catalog.get(name).maturity_text == "60d", name
    yaml_set = {"metrics": {"default_rate": {"maturity": "30d"}}}
    assert (
        MetricCatalog.from_mapping(yaml_set)
        .for_deployment(declared)
        .get("default_rate")
        .maturity_text
        == "30d"
    )  # experiments.yaml wins


def test_credit_names_declared_in_experiments_yaml_work_for_any_deployment() -> None:
    declared = {"metrics": {"default_rate": {"maturity": "2d"}}}
    catalog = MetricCatalog.from_mapping(declared).for_deployment(OUTREACH)
    assert catalog.get("default_rate").maturity_text == "2d"
    assert catalog.for_deployment(None) is catalog
