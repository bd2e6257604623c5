"""An example credit project with a champion and monitoring's drifted month, for the
controller tests: built once per backend, copied per test (SQLite) or reused (PostgreSQL)."""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from cairn.app.project import Project
from cairn.quickstart._team import DemoTeam
from cairn.quickstart.example import create_example_project
from cairn.quickstart.monitoring_demo import run_monitoring_demo
from cairn.quickstart.training_demo import run_training_demo
from cairn.retraining.controller import RetrainController

POLICY = "p"


@dataclass(frozen=True)
class Base:
    """A built example project: its folder and the demo team's principals."""

    path: Path
    team: DemoTeam
    shared: bool = False
    """True on PostgreSQL: the metadata lives in the server, so copies share it."""

    def copy(self, to: Path) -> Path:
        """A copy of the project folder (its SQLite metadata and MLflow database included)."""
        if self.shared:
            return self.path
        shutil.copytree(self.path, to, symlinks=True)
        return to


def build(path: Path, mlflow_template: Path, metadata_url: str | None = None) -> Base:
    """Example project + training demo (champion) + monitoring demo (a drifted month)."""
    project = create_example_project(path)
    if metadata_url is not None:
        config = path / "cairn.yaml"
        text = config.read_text(encoding="utf-8")
        name = f"credit_{uuid.uuid4().hex[:8]}"
        text = text.replace("project: credit", f"project: {name}\nmetadata:\n  url: {metadata_url}")
        config.write_text(text, encoding="utf-8")
    (project.path / ".cairn").mkdir(exist_ok=True)
    shutil.copy(mlflow_template, project.path / ".cairn" / "mlflow.db")
    training = run_training_demo(project.path, commit=False)
    run_monitoring_demo(project.path)
    assert training.team is not None
    return Base(project.path, training.team, shared=metadata_url is not None)


def write_policy(root: Path, **body: object) -> None:
    """``retraining.yaml`` with one policy ``p`` of the deployment ``credit``: a drift trigger
    that fires on the drifted month, the whole history as data window, and ``body``."""
    policy: dict[str, object] = {
        "deployment": "credit",
        "triggers": {"drift": {"kinds": ["drift", "score_drift"], "min_features": 2,
                               "persistence": 1}},
        "data_window": {"lookback": "730d", "label_maturity": "0s"},
        "gates": {"max_loss": {"auc": 0.03}},
        "promotion": {"shadow": {"min_predictions": 20, "min_days": 0}, "canary": [0.1, 0.5]},
        **body,
    }  # fmt: skip
    text = yaml.safe_dump({"policies": {POLICY: policy}}, sort_keys=False)
    (root / "retraining.yaml").write_text(text, encoding="utf-8")


def controller(root: Path, team: DemoTeam) -> RetrainController:
    """The controller of the project at ``root``, acting as the demo's author."""
    return RetrainController(Project.open(root), principal=team.author)
