"""Dashboard fixtures: a blank project (``cairn init``), the example credit project with a
champion, a challenger awaiting review, a drifted monitoring month and an hour of traffic, and
the example project with its data checked and its online store materialized."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cairn.app.project import Project
from cairn.online.materialize import MaterializeResult
from cairn.quickstart._team import DemoTeam
from cairn.quickstart.blank import create_blank_project
from cairn.quickstart.example import create_example_project
from cairn.quickstart.monitoring_demo import run_monitoring_demo
from cairn.quickstart.quality_demo import QualityDemo, run_quality_demo
from cairn.quickstart.training_demo import run_training_demo
from cairn.ui.web import standalone_app
from tests.serving._client import TestClient
from tests.tracking._fixtures import mlflow_template
from tests.ui_web._experiment import AbTest, run_ab_test
from tests.ui_web._traffic import Traffic, write_traffic

__all__ = ["mlflow_template"]


@dataclass(frozen=True)
class Full:
    """The example project, what was written into its log, and a client of ``cairn ui``."""

    project: Project
    traffic: Traffic
    client: TestClient
    team: DemoTeam


@dataclass(frozen=True)
class Stocked:
    """The example project after the quality demo, applied and materialized, what the
    materialization runs returned (in order), and a client of ``cairn ui``."""

    project: Project
    quality: QualityDemo
    runs: list[MaterializeResult]
    client: TestClient


@pytest.fixture(scope="package")
def blank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """A project as ``cairn init`` writes it: no data, models, deployments or audit entries."""
    path = tmp_path_factory.mktemp("blank") / "blank"
    create_blank_project(path)
    with Project.open(path) as project:
        yield project


@pytest.fixture(scope="package")
def blank_client(blank: Project) -> Iterator[TestClient]:
    """``cairn ui`` over the blank project."""
    with TestClient(standalone_app(blank)) as client:
        yield client


@pytest.fixture(scope="package")
def full(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Iterator[Full]:
    """The example project after the training and monitoring demos, with an hour of traffic."""
    path = tmp_path_factory.mktemp("full") / "credit"
    create_example_project(path)
    (path / ".cairn").mkdir(exist_ok=True)
    shutil.copy(mlflow_template, path / ".cairn" / "mlflow.db")
    demo = run_training_demo(path, commit=False)
    assert demo.team is not None
    run_monitoring_demo(path)
    with Project.open(path) as project:
        traffic = write_traffic(project, "credit", datetime.now(UTC))
        with TestClient(standalone_app(project)) as client:
            yield Full(project, traffic, client, demo.team)


@pytest.fixture(scope="package")
def stocked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stocked]:
    """The example project as the quickstart leaves its data and online store: every suite
    run (and a broken batch halted), the definitions applied, and the online store loaded by an
    incremental run to a month before the data's end, a range run of the profiles over the last
    two months, and an incremental run to the end."""
    path = tmp_path_factory.mktemp("stocked") / "credit"
    example = create_example_project(path)
    demo = run_quality_demo(path)
    with Project.open(path) as project:
        store = project.features
        store.apply(project.definitions())
        end = example.data_end + timedelta(microseconds=1)
        runs = store.materialize_incremental(end - timedelta(days=30))
        runs += store.materialize(end - timedelta(days=60), end, ["customer_profile"])
        runs += store.materialize_incremental(end)
        with TestClient(standalone_app(project)) as client:
            yield Stocked(project, demo, runs, client)


@dataclass(frozen=True)
class Experiment:
    """The A/B test run on a copy of the ``full`` project, and a client of ``cairn ui``."""

    ab: AbTest
    client: TestClient


@pytest.fixture(scope="package")
def experiment(full: Full, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Experiment]:
    """An A/B test of the champion and the challenger (:func:`run_ab_test`) on a copy of the
    ``full`` project, which stays as it is."""
    root = tmp_path_factory.mktemp("experiment") / "credit"
    ab = run_ab_test(full.project.root, root, full.team.author)
    with Project.open(root) as project, TestClient(standalone_app(project)) as client:
        yield Experiment(ab, client)
