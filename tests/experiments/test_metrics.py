"""Metric definitions: built-ins, experiments.yaml declarations and overrides, bad specs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cairn.core.errors import ConfigError
from cairn.experiments.metrics import BUILTIN_METRICS, Metric, MetricCatalog, metric_from_mapping


def test_builtins_cover_a_credit_deployment() -> None:
    assert set(BUILTIN_METRICS) == {
        "approval_rate", "default_rate", "bad_rate_among_approved", "score", "latency_ms",
        "error_rate",
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
