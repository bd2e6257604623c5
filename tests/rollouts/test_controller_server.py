"""A failing canary under concurrent load against ``cairn serve``: the controller rolls it back
from the real prediction log, and every request is answered (the control answers for the
canary's failures, as the log's ``error`` column records)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from cairn.app.feature_store import FeatureStore
from cairn.rollouts.controller import CanaryController, ControllerStep
from cairn.rollouts.service import RolloutService
from cairn.serving.log_reader import PredictionLog
from cairn.testing.servers import free_port, start_server, stop_server, wait_ready
from cairn.tracking import Tracker
from cairn.tracking.models import Column
from tests.rollouts import _rollout
from tests.rollouts._rollout_project import rollout_project
from tests.serving._models import FEATURES, REFS, train_booster
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

pytestmark = pytest.mark.slow
ENV = {"CAIRN_ROLLOUT_POLL_SECONDS": "0.2", "CAIRN_MODEL_POLL_SECONDS": "1"}


def register_broken(path: Path) -> str:
    """A version whose packaging lost the levels of ``segment``: it loads and warms (an empty
    row scores), but every real row fails (``segment`` must be a number; got 'b')."""
    store = FeatureStore(path)
    tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
    columns = [Column(f, "string" if f == "segment" else "double") for f in FEATURES]
    with tracker.start_run(name="broken", tags={"cairn.flavor": "lightgbm"}) as run:
        logged = run.log_lightgbm(train_booster(3), columns=columns, pip_requirements=["lightgbm"])
        run.log_json({"features": FEATURES, "categories": {}}, "feature_frame.json")
        run.log_json({"features": [r for r in REFS if r]}, "train_config.json")
        run_id = run.run_id
    tags = {"cairn.flavor": "lightgbm", "cairn.author": "ana"}
    mv = tracker.registry().register("credit-default", logged.uri, run_id=run_id, tags=tags)
    return str(mv.version)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    path = rollout_project(tmp_path_factory.mktemp("slow-canary"), mlflow_template)
    assert register_broken(path) == "3"
    return path


def test_a_failing_canary_is_rolled_back_under_load_and_no_request_fails(project: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(project, port, env=ENV)
    stop, done = threading.Event(), threading.Event()
    answered: list[str] = []
    failures: list[str] = []
    steps: list[ControllerStep] = []
    try:
        wait_ready(url, proc, timeout=90)
        service = RolloutService.for_project(project)
        controller = CanaryController(service, PredictionLog(project), settle_s=0.5)

        def clients(i: int) -> None:
            with httpx.Client(base_url=url, timeout=10) as c:
                n = 0
                while not done.is_set():
                    n += 1
                    body = {"entities": {"customer_id": n % 3 + 1}, "unit_id": f"u{i}-{n}"}
                    try:
                        r = c.post("/v1/predict/credit", json=body)
                    except httpx.HTTPError as exc:
                        failures.append(repr(exc))
                        continue
                    if r.status_code == 200:
                        answered.append(r.json()["model"]["version"])
                    else:
                        failures.append(f"{r.status_code} {r.text}")

        threads = [threading.Thread(target=clients, args=(i,)) for i in range(4)]
        threads.append(
            threading.Thread(
                target=controller.run,
                args=(stop,),
                kwargs={"interval": 0.3, "on_steps": steps.extend},
            )
        )
        for t in threads:
            t.start()
        created = service.create(
            "credit",
            {
                "strategy": "canary",
                "candidate": "credit-default/3",
                "stages": [25, 50, 100],
                "gate": {"min_samples": 30},
            },
            principal=_rollout.ANA,
            reason="a broken candidate",
        )
        deadline = time.monotonic() + 60
        while service.current("credit").state == "active":
            assert time.monotonic() < deadline, f"no decision; steps: {steps}"
            time.sleep(0.2)
        served_canary = answered.count("3")
        mark = len(answered)
        time.sleep(1.0)  # traffic goes on after the rollback
        done.set()
        stop.set()
        for t in threads:
            t.join(30)
    finally:
        done.set()
        stop.set()
        stop_server(proc)
    assert failures == []
    assert service.current("credit").state == "rolled_back"
    rollback = next(s for s in steps if s.decision.action == "rollback")
    assert rollback.decision.gate == "error_rate"
    assert rollback.decision.numbers["canary_error_rate"] == 1.0
    assert rollback.decision.numbers["control_error_rate"] == 0.0
    assert served_canary == 0  # the control answered every failed canary request
    assert len(answered) > mark  # and traffic went on after the rollback
    entry = service.registry.audit.entries(subject="deployment/credit")[-1]
    assert entry.action == "rollout.rolled_back" and entry.details["version"] > created.spec.version
    assert service.registry.audit.verify().ok
