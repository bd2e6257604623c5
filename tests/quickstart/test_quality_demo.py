"""The quickstart's quality step on the real example project."""

from __future__ import annotations

from pathlib import Path

import pytest

from cairn.cli._console import console
from cairn.quality import Action, QualityStore, load_suite
from cairn.quickstart.example import create_example_project
from cairn.quickstart.printers import print_quality_demo
from cairn.quickstart.quality_demo import run_quality_demo, write_example_suites


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = create_example_project(tmp_path_factory.mktemp("demo") / "credit").path
    write_example_suites(path)
    return path


def test_example_suites_pass_and_the_broken_batch_halts(project: Path) -> None:
    demo = run_quality_demo(project)
    with console.capture() as captured:
        print_quality_demo(demo)
    shown = captured.get()
    assert "Data quality (freshness as of" in shown and "transactions" in shown
    assert "Broken batch: 12 applications without a customer id" in shown
    assert "Halted" in shown and "values_to_be_unique" in shown
    assert [(r.suite, r.verdict) for r in demo.results] == [
        ("applications", "passed"),
        ("profiles", "passed"),
        ("transactions", "passed"),
    ]
    assert all(r.queries == 1 for r in demo.results)
    halted = {c.expectation: c for c in demo.broken.halting}
    assert demo.broken.action is Action.HALT
    assert halted["expect_column_values_to_not_be_null"].unexpected_count == 12
    assert halted["expect_column_values_to_be_unique"].unexpected_count == 8
    assert halted["expect_column_values_to_be_between"].unexpected_count == 25
    assert halted["expect_column_pair_values_a_to_be_greater_than_b"].unexpected_count == 9
    assert halted["expect_column_psi_to_be_less_than"].details["band"] == "drift"
    assert "halted by quality suite 'applications'" in demo.halted
    assert demo.broken.health.score is not None and demo.broken.health.score < 95
    history = QualityStore("sqlite:///.cairn/metadata.db", project="credit", root=project)
    assert [r.data for r in history.history("applications")] == [
        "broken batch of applications",
        "data/applications.parquet",
    ]


def test_example_suites_are_valid_files(project: Path) -> None:
    for name in ("applications", "profiles", "transactions"):
        suite = load_suite(project / "quality" / f"{name}.yaml")
        assert suite.name == name and suite.source == name and len(suite.checks) >= 10
