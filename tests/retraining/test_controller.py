"""The retraining controller on the real example project (real MLflow, real training, the
serving loader), on SQLite; the end-to-end path with a real server also on PostgreSQL.

signal -> train -> gates -> challenger -> shadow -> canary proposal -> four-eyes approval;
gates refusing a worse candidate, a halting quality suite and an unfair candidate; a run never
trained twice (after a crash past registration, and after a kill -9 mid-training)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cairn.app.project import Project
from cairn.registry.errors import GovernanceError
from cairn.retraining.decision import Decision
from cairn.retraining.training_step import ENTRY_TAG, entry_tag, run_config, train_candidate
from tests._services import postgres_url_or_skip
from tests.retraining._project import POLICY, Base, build, controller, write_policy
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

pytestmark = pytest.mark.slow


def test_drift_trains_a_candidate_that_passes_its_gates_and_shadows(root: Path, base: Base) -> None:
    gates = {
        "quality": ["applications"],
        "metric_floors": {"auc": 0.75},
        "max_loss": {"auc": 0.03},
        "max_ece": 0.1,
        "min_adverse_impact_ratio": 0.8,
        "fairness_attribute": "marital",
    }
    write_policy(root, gates=gates)
    c = controller(root, base.team)
    steps = c.run_once()

    events = [s.event for s in steps]
    assert events == [
        "decided", "training", "trained", "gated", "challenger", "shadow", "waiting"
    ]  # fmt: skip
    entry = c.ledger.entries(POLICY)[-1]
    assert (entry.trigger, entry.state, entry.action) == ("drift", "shadow", "run")
    assert entry.numbers["features"] == ["debt", "income", "job", "score"]
    gates = entry.numbers["gates"]
    assert gates["passed"] and [g["gate"] for g in gates["checks"]] == [
        "quality:applications", "floor:auc", "max_loss:auc", "ece", "adverse_impact"
    ]  # fmt: skip
    assert gates["champion"]["rows"] == gates["candidate"]["rows"] == gates["rows"] > 100
    candidate = entry.numbers["candidate"]
    project = Project.open(root)
    name, _, version = candidate.partition("/")
    mv = project.registry.version(name, version)
    assert project.registry.author_of(mv) == base.team.author.name  # who ran the controller
    assert project.tracker.get_run(entry.training_run_id).tags[ENTRY_TAG] == entry_tag(
        project.name, entry.id
    )
    assert project.registry.resolve(f"{name}@challenger")[1].version == version
    assert candidate in project.rollouts.current("credit").shadows
    # every move is an audit entry with its numbers, and the chain verifies
    actions = [e.action for e in project.audit.entries() if e.subject == f"retraining/{POLICY}"]
    assert actions == [f"retraining.{s}" for s in events[:-1]]
    assert project.audit.verify().ok
    # evaluating again changes nothing: the occasion is recorded, the shadow waits
    again = c.run_once()
    assert [s.event for s in again] == ["waiting"]
    assert len(c.ledger.entries(POLICY)) == 1


def test_the_gates_refuse_a_worse_candidate(root: Path, base: Base) -> None:
    weak = (root / "train.yaml").read_text(encoding="utf-8")
    weak = weak.replace("num_boost_round: 200", "num_boost_round: 2")
    (root / "train-weak.yaml").write_text(weak, encoding="utf-8")
    write_policy(root, training="train-weak.yaml", gates={"max_loss": {"auc": 0.0}})
    c = controller(root, base.team)
    c.run_once()

    entry = c.ledger.entries(POLICY)[-1]
    assert entry.state == "refused"
    failed = [g for g in entry.numbers["gates"]["checks"] if not g["passed"]]
    assert [g["gate"] for g in failed] == ["max_loss:auc"] and failed[0]["value"] > 0
    project = Project.open(root)
    assert entry.numbers["candidate"] not in project.rollouts.current("credit").shadows
    challenger = project.registry.resolve("credit-default@challenger")[1].version
    assert challenger != entry.numbers["candidate"].partition("/")[2]


def test_a_halting_quality_suite_refuses_before_anything_is_trained(root: Path, base: Base) -> None:
    (root / "quality" / "tiny.yaml").write_text(
        "name: tiny\nsource: applications\nexpectations:\n"
        "  - expect_table_row_count_to_be_between: {min_value: 1, max_value: 10, "
        "severity: critical}\n",
        encoding="utf-8",
    )
    write_policy(root, gates={"quality": ["tiny"]})
    c = controller(root, base.team)
    versions = len(Project.open(root).tracker.registry().versions("credit-default"))
    c.run_once()

    entry = c.ledger.entries(POLICY)[-1]
    assert entry.state == "refused" and "quality suite tiny halted" in entry.reason
    assert entry.numbers["quality"]["tiny"] is not None and entry.training_run_id is None
    assert len(Project.open(root).tracker.registry().versions("credit-default")) == versions


def test_the_fairness_gate_refuses_an_unfair_candidate(root: Path, base: Base) -> None:
    write_policy(
        root,
        gates={"max_loss": {"auc": 0.05}, "min_adverse_impact_ratio": 0.99,
               "fairness_attribute": "marital"},
    )  # fmt: skip
    c = controller(root, base.team)
    c.run_once()

    entry = c.ledger.entries(POLICY)[-1]
    assert entry.state == "refused"
    failed = [g for g in entry.numbers["gates"]["checks"] if not g["passed"]]
    assert [g["gate"] for g in failed] == ["adverse_impact"]
    assert failed[0]["value"] < 0.99 and "marital" in failed[0]["detail"]


def test_a_training_finished_before_a_crash_is_not_trained_again(root: Path, base: Base) -> None:
    write_policy(root)
    # The crash: the decision recorded and moved to training, the dead controller's training
    # finished and registered, the ledger never told.
    c2 = controller(root, base.team)
    c2.ledger.record(Decision(POLICY, "manual", "ticket-1", "run", "test", at=c2.clock()))
    (manual,) = [e for e in c2.ledger.entries(POLICY) if e.trigger == "manual"]
    entry = c2.ledger.advance(manual, "training", {"attempt": 1})
    project = c2.project
    finished = train_candidate(project, run_config(project, c2.policies()[POLICY], entry),
                               principal=base.team.author)  # fmt: skip
    versions = len(project.tracker.registry().versions("credit-default"))

    steps = c2.run_once()

    entry = c2.ledger.get(entry.id)
    assert [s.event for s in steps][:1] == ["trained"] and entry.numbers["resumed"] is True
    assert entry.numbers["candidate"] == finished.ref and entry.training_run_id == finished.run_id
    assert len(project.tracker.registry().versions("credit-default")) == versions


def test_a_controller_killed_mid_training_resumes_without_a_second_version(
    root: Path, base: Base, tmp_path: Path
) -> None:
    write_policy(root)
    # The child trains for real; once its training run is open (its parameters logged) it
    # says so and waits to be killed: the kill lands mid-training whatever the machine's load
    # (polling for a run open a fraction of a second can miss it).
    run_open = tmp_path / "run-open"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from cairn.app.project import Project\n"
        "from cairn.auth.principal import Principal\n"
        "from cairn.retraining.controller import RetrainController\n"
        "from cairn.tracking.run import RunLogger\n"
        "log_params = RunLogger.log_params\n"
        "def log_then_wait(self, params):\n"
        "    log_params(self, params)\n"
        "    Path(sys.argv[2]).touch()\n"
        "    time.sleep(600)\n"
        "RunLogger.log_params = log_then_wait\n"
        "RetrainController(Project.open(sys.argv[1]),\n"
        "    principal=Principal('ana', 'deployer', via='token:t')).run_once()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(root), str(run_open)], env={**os.environ}
    )
    project = Project.open(root)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None and not run_open.exists():
            time.sleep(0.05)
        assert run_open.exists(), f"the controller never opened its training run ({proc.poll()})"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(60)
    (entry,) = controller(root, base.team).ledger.entries(POLICY)
    assert entry.state == "training"
    tag = entry_tag(project.name, entry.id)
    versions = len(project.tracker.registry().versions("credit-default"))
    assert [r.status for r in project.tracker.find_runs({ENTRY_TAG: tag})] == ["RUNNING"]

    steps = controller(root, base.team).run_once()

    entry = controller(root, base.team).ledger.entries(POLICY)[0]
    assert [s.event for s in steps][:1] == ["trained"], [s.line() for s in steps]
    assert entry.numbers["attempt"] == 2 and len(entry.numbers["interrupted_runs"]) == 1
    runs = project.tracker.find_runs({ENTRY_TAG: tag})
    assert sorted(r.status for r in runs) == ["FAILED", "FINISHED"]
    assert len(project.tracker.registry().versions("credit-default")) == versions + 1
    assert not [e for e in controller(root, base.team).ledger.entries(POLICY) if e.id != entry.id]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_the_full_path_with_a_real_server_and_a_second_persons_approval(
    backend: str, base: Base, tmp_path: Path, mlflow_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cairn.quickstart.retraining_demo import run_retraining_demo

    if backend == "postgres":
        monkeypatch.setenv("CAIRN_USER", "ana")
        here = build(tmp_path / "credit", mlflow_template, postgres_url_or_skip())
    else:
        here = Base(base.copy(tmp_path / "credit"), base.team)
    demo = run_retraining_demo(here.path, team=here.team)
    assert demo.entry is not None and demo.entry.state == "canary_proposed"
    assert demo.failed == 0 and demo.entry.numbers["shadow_predictions"] >= 100
    project = Project.open(here.path)
    name, _, version = demo.entry.numbers["candidate"].partition("/")
    c = controller(here.path, here.team)
    # the author may not approve the version they trained (four eyes) ...
    with pytest.raises(GovernanceError):
        project.registry.approve(name, version, principal=here.team.author, ticket="MRR-2026-0042",
                                 decision="approve")  # fmt: skip
    assert [s.event for s in c.run_once()] == ["waiting"]
    # ... a second person does, and the canary starts
    project.registry.approve(name, version, principal=here.team.officer, ticket="MRR-2026-0042",
                             decision="approve")  # fmt: skip
    steps = c.run_once()
    assert [s.event for s in steps] == ["approved"]
    spec = project.rollouts.current("credit")
    assert spec.strategy == "canary" and spec.arm("canary").model == f"{name}/{version}"
    assert spec.stages == (10.0, 50.0, 100.0) and spec.state == "active"
    actions = [e.action for e in project.audit.entries() if e.subject == "retraining/credit-drift"]
    assert actions[-2:] == ["retraining.canary_proposed", "retraining.approved"]
    assert project.audit.verify().ok
