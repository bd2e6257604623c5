"""The monitoring part of the quickstart, end to end on the real example project: a stable
month flags nothing, a drifted month flags exactly income, job and the score."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cairn.quickstart.example import create_example_project
from cairn.quickstart.monitoring_demo import run_monitoring_demo
from cairn.quickstart.printers import print_monitoring_demo
from cairn.quickstart.training_demo import run_training_demo
from cairn.serving.log_reader import query
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]


@pytest.mark.slow
def test_a_stable_and_a_drifted_month(
    tmp_path: Path,
    mlflow_template: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CAIRN_USER", "ana")
    project = create_example_project(tmp_path / "credit")
    (project.path / ".cairn").mkdir()
    shutil.copy(mlflow_template, project.path / ".cairn" / "mlflow.db")
    run_training_demo(project.path, commit=False)

    demo = run_monitoring_demo(project.path)

    stable, drifted = demo.stable.run, demo.drifted.run
    assert (stable.rows, drifted.rows, demo.predictions) == (1000, 1000, 2000)
    assert stable.window.end == drifted.window.start  # two consecutive 30-day months
    assert stable.flagged() == [] and stable.signals == [] and demo.stable.changes == []
    assert drifted.flagged() == ["debt", "income", "job", "score"]
    assert [(s.kind, s.subject, s.band) for s in drifted.signals] == [
        ("drift", "debt", "drift"),
        ("drift", "income", "drift"),
        ("drift", "job", "drift"),
        ("score_drift", "score", "drift"),
    ]
    job = next(f for f in drifted.results() if f.feature == "job")
    assert job.unseen_categories == ["gig"]
    changes = [(c.subject, c.previous, c.current) for c in demo.drifted.changes]
    assert changes == [("debt", "stable", "drift"), ("income", "stable", "drift"),
                       ("job", "stable", "drift"), ("score", "stable", "drift")]  # fmt: skip
    # debt is zero for most applicants: its point mass has a bin of its own, so PSI sees it move
    debt = next(f for f in drifted.results() if f.feature == "debt")
    assert debt.psi is not None and debt.psi > 0.25
    # most of the stable month is labeled: judged, and as good as the training baseline
    assert stable.performance is not None and stable.performance.status == "judged"
    assert stable.performance.completeness == pytest.approx(0.9, abs=0.03)
    assert stable.performance.degraded == []
    assert stable.performance.metrics["auc"] > 0.75
    # the drifted month's labels have not arrived yet
    assert drifted.performance is not None and drifted.performance.status == "immature"
    html = demo.report.read_text(encoding="utf-8")
    assert demo.report.name == "monitor.html" and "Score drift" in html
    (count,) = query(project.path, "SELECT count(*) FROM predictions").rows[0]
    assert count == 2000

    print_monitoring_demo(demo)
    out = capsys.readouterr().out
    assert "Logged 2,000 predictions over two months" in out
    assert "Stable month (run #1)" in out and "no drift" in out
    assert "Drifted month (run #2)" in out and "drifted: debt, income, job, score" in out
    assert "band change: credit income: stable -> drift" in out
    assert "Report:" in out
