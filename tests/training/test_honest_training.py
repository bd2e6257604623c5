"""train() with test parts, label maturity and split warnings; `runs compare` across splits."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cairn.cli.main import app
from cairn.training import (
    ARTIFACTS,
    METRICS_SPLIT_TAG,
    SplitSpec,
    SplitWarnings,
    TrainConfig,
)
from cairn.training.estimators import fit_model
from tests.tracking._fixtures import Governed

DAY_US = 86_400 * 1_000_000
TOUCHY = SplitWarnings(label_rate_ratio=1.000001, label_rate_p=0.999999, feature_psi=1e-9)
"""Thresholds every difference crosses, so the run must carry warnings."""


def test_early_stopping_sees_validation_and_metrics_come_from_test(
    governed: Governed, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, int] = {}

    def spy(spec: Any, X: Any, y: Any, X_valid: Any, y_valid: Any, **kw: Any) -> Any:
        seen.update(train=len(X), validation=len(X_valid))
        return fit_model(spec, X, y, X_valid, y_valid, **kw)

    monkeypatch.setattr("cairn.training.trainer.fit_model", spy)
    model = replace(governed.config.model, early_stopping_rounds=3)
    result = governed.train(
        split=SplitSpec(0.2, 0.2), model=model, label_maturity=20 * DAY_US, split_warnings=TOUCHY
    )
    split = result.split
    assert seen == {"train": len(split.train), "validation": len(split.validation)}
    assert result.metrics["test_rows"] == len(split.test) and "test_auc" in result.metrics
    assert result.metrics["valid_rows"] == len(split.validation)
    assert result.reported["auc"] == result.metrics["test_auc"]
    assert split.reported == "test" and len(split.test) >= 80  # 20 % of 400 rows
    # labels that matured after the validation cutoff were dropped from training, and said so
    assert result.label_timing is not None and result.label_timing.dropped["train"] > 0
    assert len(split.train) + result.label_timing.dropped["train"] < 400 - len(split.test)
    run = governed.tracker.get_run(result.run_id)
    assert run.tags[METRICS_SPLIT_TAG] == "test"
    assert int(run.params["label_unknown_rows"]) == result.label_timing.total
    assert run.params["test_rows"] == str(len(split.test)) and run.params["split.test"] == "0.2"
    assert int(run.tags["cairn.split_warnings"]) == len(result.warnings) > 0
    assert run.tags["cairn.split_warning.1"] == result.warnings[0].message
    logged = governed.tracker.load_json(result.run_id, ARTIFACTS["split"])
    assert logged["split"]["test_rows"] == len(split.test)
    assert logged["label_timing"]["dropped"] == result.label_timing.dropped
    assert len(logged["warnings"]) == len(result.warnings)
    config = TrainConfig.from_mapping(
        governed.tracker.load_json(result.run_id, ARTIFACTS["config"])
    )
    assert config.parts == SplitSpec(0.2, 0.2) and config.label_maturity == 20 * DAY_US


def test_early_stopping_without_a_test_part_is_flagged_optimistic(governed: Governed) -> None:
    model = replace(governed.config.model, early_stopping_rounds=3)
    result = governed.train(model=model)
    assert result.split.reported == "validation" and "test_auc" not in result.metrics
    assert [w.kind for w in result.warnings if w.kind == "optimistic"] == ["optimistic"]
    run = governed.tracker.get_run(result.run_id)
    assert run.tags[METRICS_SPLIT_TAG] == "validation"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CAIRN_USER", "ana")
    return CliRunner()


def test_runs_compare_says_when_splits_differ(governed: Governed, runner: CliRunner) -> None:
    repo = ["--repo", str(governed.root)]
    path = governed.root / "train.yaml"
    path.write_text(governed.config.to_yaml())
    old = runner.invoke(app, ["train", "-c", "train.yaml", "--no-register", *repo])
    assert old.exit_code == 0, old.output
    honest = replace(governed.config, split=SplitSpec(0.2, 0.2), split_warnings=TOUCHY)
    path.write_text(honest.to_yaml())
    new = runner.invoke(app, ["train", "-c", "train.yaml", "--no-register", "--json", *repo])
    assert new.exit_code == 0, new.output
    payload = json.loads(new.output)
    assert payload["warnings"] and payload["warnings"][0]["message"]
    assert "test_auc" in payload["metrics"]
    printed = runner.invoke(app, ["train", "-c", "train.yaml", "--no-register", *repo])
    assert "Warning:" in printed.output and "reported metrics: test" in printed.output
    first, second = (r.run_id for r in governed.tracker.search_runs()[1:3][::-1])
    compared = runner.invoke(app, ["runs", "compare", first, second, *repo])
    assert compared.exit_code == 0, compared.output
    text = " ".join(compared.output.split())
    assert "Not comparable" in text and "different parts" in text
    assert "different times" in text
    strict = runner.invoke(app, ["runs", "compare", first, second, "--strict", *repo])
    assert strict.exit_code == 1 and "Not comparable" in strict.output
    as_json = runner.invoke(app, ["runs", "compare", first, second, "--json", "--strict", *repo])
    assert as_json.exit_code == 1
    assert len(json.loads(as_json.output)["split_differences"]) == 3
    newest = governed.tracker.search_runs()[0].run_id
    same = runner.invoke(app, ["runs", "compare", second, newest, "--strict", *repo])
    assert same.exit_code == 0 and "Not comparable" not in same.output


def test_reproduce_is_exact_with_a_test_part(governed: Governed, runner: CliRunner) -> None:
    config = replace(governed.config, split=SplitSpec(0.15, 0.15), label_maturity=10 * DAY_US)
    Path(governed.root / "train.yaml").write_text(config.to_yaml())
    repo = ["--repo", str(governed.root)]
    first = runner.invoke(app, ["train", "-c", "train.yaml", "--no-register", *repo])
    assert first.exit_code == 0, first.output
    run_id = governed.tracker.search_runs()[0].run_id
    again = runner.invoke(app, ["train", "--reproduce", run_id, *repo])
    assert again.exit_code == 0, again.output
    assert "Metrics are identical" in again.output
