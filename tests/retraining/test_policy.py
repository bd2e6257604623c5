"""retraining.yaml: defaults, one clear line per bad key, and `cairn config check|schema`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cairn.cli.main import app
from cairn.core.errors import ConfigError
from cairn.retraining import load_policies, parse_policies

runner = CliRunner(env={"COLUMNS": "200"})
DAY = 86_400_000_000

EXAMPLE = """\
policies:
  credit-monthly:
    deployment: credit
    training: train.yaml
    schedule: {cron: "0 6 1 * *", timezone: Europe/Paris}
    triggers:
      drift: {kinds: [drift, score_drift], band: drift, min_features: 2, persistence: 3}
      performance: {metric: auc, max_drop: 0.03, min_labeled: 500}
      volume: {new_labeled: 50000}
    cooldown: 7d
    budget: {max_runs: 4, period: 30d}
    data_window: {lookback: 365d, label_maturity: 90d}
    gates:
      quality: [applications]
      metric_floors: {auc: 0.70}
      max_loss: {auc: 0.005}
      max_ece: 0.05
      min_adverse_impact_ratio: 0.8
      fairness_attribute: marital
    promotion:
      shadow: {min_predictions: 5000, min_days: 7}
      canary: [0.05, 0.25, 0.5]
      approval: four_eyes
"""


def test_the_example_reads_with_every_value(tmp_path: Path) -> None:
    path = tmp_path / "retraining.yaml"
    path.write_text(EXAMPLE)
    p = load_policies(path)["credit-monthly"]
    assert p.when is not None and p.when.cron == "0 6 1 * *"
    assert p.when.timezone == "Europe/Paris"
    assert p.triggers.drift is not None and p.triggers.drift.persistence == 3
    assert p.cooldown == 7 * DAY and p.budget.period == 30 * DAY
    assert p.data_window.label_maturity == 90 * DAY
    assert p.gates.max_loss == {"auc": 0.005} and p.promotion.canary == [0.05, 0.25, 0.5]
    assert load_policies(tmp_path / "none.yaml") == {}


def test_defaults() -> None:
    p = parse_policies({"policies": {"c": {"deployment": "credit"}}})["c"]
    assert (p.training, p.schedule, p.triggers.drift, p.cooldown) == (
        "train.yaml",
        None,
        None,
        7 * DAY,
    )
    assert (p.budget.max_runs, p.promotion.approval, p.gates.max_loss) == (
        4,
        "four_eyes",
        {"auc": 0.0},
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cooldwn": "1d"}, "unknown key 'cooldwn' in policies.c; allowed keys are deployment"),
        ({"cooldown": "soon"}, "policies.c.cooldown must be a duration such as 30s"),
        ({"schedule": {"cron": "0 6 * * 8"}}, "policies.c.schedule.cron must be a cron expression"),
        ({"schedule": {"cron": "@daily", "timezone": "Paris"}}, "did you mean 'Europe/Paris'?"),
        ({"triggers": {"drift": {"persistence": 0}}}, "persistence must be at least 1; got 0."),
        ({"triggers": {"drift": {"kinds": ["x"]}}}, "kinds[0] must be one of drift, score_drift"),
        ({"triggers": {"performance": {"max_drop": -1}}}, "max_drop must be above 0; got -1."),
        ({"budget": {"max_runs": "4"}}, "max_runs must be an integer of at least 1; got '4'."),
        ({"data_window": {"lookback": "30d", "label_maturity": "90d"}}, "lookback must be longer"),
        ({"gates": {"min_adverse_impact_ratio": 1.5}}, "impact_ratio must be in (0, 1]; got 1.5."),
        ({"promotion": {"approval": "none"}}, "approval must be four_eyes (the only value"),
        ({"promotion": {"canary": [0.5, 0.2]}}, "canary must be increasing weights"),
        ({"deployment": None}, "policies.c.deployment must be a name of letters"),
    ],
)  # fmt: skip
def test_a_bad_value_is_one_line_naming_key_expected_and_received(
    change: dict[str, Any], message: str
) -> None:
    data = {"policies": {"c": {"deployment": "credit", **change}}}
    with pytest.raises(ConfigError) as caught:
        parse_policies(data, source="retraining.yaml")
    text = str(caught.value)
    assert text.startswith("retraining.yaml: ") and "\n" not in text
    assert message in text, text


@pytest.fixture
def blank(tmp_path: Path) -> Path:
    path = tmp_path / "mine"
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_config_check_reads_retraining_yaml(blank: Path) -> None:
    deployment = next(iter(json.loads(_check_json(blank))["files"]))  # the check runs
    assert deployment == "cairn.yaml"
    (blank / "retraining.yaml").write_text(
        EXAMPLE.replace("deployment: credit", "deployment: customer")
    )
    result = runner.invoke(app, ["config", "check", "--repo", str(blank)])
    assert result.exit_code == 0, result.output
    assert "retraining.yaml" in result.stdout
    (blank / "retraining.yaml").write_text(EXAMPLE.replace("cooldown: 7d", "cooldown: 7 days"))
    result = runner.invoke(app, ["config", "check", "--repo", str(blank)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "retraining.yaml: policies.credit-monthly.cooldown must be a duration such as 30s, 5m, "
        "24h or 90d (or a number of seconds); got '7 days'."
    ]


def test_config_check_names_a_missing_deployment_and_training_config(blank: Path) -> None:
    (blank / "retraining.yaml").write_text(
        "policies:\n  nightly: {deployment: fraud, training: other.yaml}\n"
    )
    result = runner.invoke(app, ["config", "check", "--repo", str(blank)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "retraining.yaml: policies.nightly.deployment names 'fraud', which is not a deployment "
        "of deployments.yaml (deployments: customer).",
        "retraining.yaml: policies.nightly.training names 'other.yaml', which is not a file in "
        "the project folder (expected a training config such as train.yaml).",
    ]


def test_config_schema_retraining() -> None:
    result = runner.invoke(app, ["config", "schema", "retraining"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["title"] == "retraining.yaml" and schema["additionalProperties"] is False
    policy = schema["$defs"]["Policy"]
    assert policy["required"] == ["deployment"] and policy["additionalProperties"] is False
    assert schema["$defs"]["PromotionSpec"]["properties"]["approval"]["const"] == "four_eyes"


def _check_json(repo: Path) -> str:
    result = runner.invoke(app, ["config", "check", "--json", "--repo", str(repo)])
    assert result.exit_code == 0, result.output
    return result.stdout
