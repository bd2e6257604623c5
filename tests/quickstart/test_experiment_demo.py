"""The experiment step of the quickstart on a synthetic project log (two arms, then one)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cairn.quickstart.experiment_demo import run_experiment_demo
from cairn.quickstart.printers import print_experiment_demo
from tests.experiments._log import START, write_log

AS_OF = START + timedelta(days=40)


def _project(root: Path, **options: object) -> Path:
    (root / "cairn.yaml").write_text("project: demo\n")
    write_log(root, seed=21, **options)  # type: ignore[arg-type]
    return root


def test_demo_analyzes_arms_and_the_shadow_challenger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    demo = run_experiment_demo(_project(tmp_path, units=900), as_of=AS_OF)
    assert demo.analysis.status == "ok" and demo.analysis.control == "control"
    names = [m.metric.name for m in demo.analysis.metrics]
    assert names[:2] == ["approval_rate", "default_rate"] and "high_risk_share" in names
    assert demo.analysis.metric("default_rate").status == "ok"  # the example's 0s maturity
    assert demo.comparison is not None and demo.comparison.pairs > 0
    assert demo.report.is_file() and (tmp_path / "experiments.yaml").is_file()
    print_experiment_demo(demo)
    out = capsys.readouterr().out
    assert "Recommendation:" in out and "Experiment report:" in out


def test_demo_with_one_arm_and_no_shadow_says_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project(tmp_path, units=60, arms=("main",), with_shadow=False, shadow_columns=False)
    demo = run_experiment_demo(project, as_of=AS_OF)
    assert demo.analysis.status == "not enough data"
    assert demo.comparison is None and "no shadow predictions" in (demo.comparison_note or "")
    print_experiment_demo(demo)
    out = capsys.readouterr().out
    assert "not enough data: only arm 'main' has units" in out
