"""The canary controller on a governed project with a written prediction log: the SQL
statistics match the gate's own, a healthy canary walks every stage to promotion, a broken
one rolls back at once, a sample-ratio mismatch holds, an operator's change wins, and every
decision is audited with its gate and numbers."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cairn.experiments.gates import ArmStats
from cairn.rollouts.controller import CanaryController, arm_stats
from cairn.rollouts.service import RolloutService
from cairn.rollouts.store import rollouts as rollouts_table
from cairn.serving.log_reader import PredictionLog, connect
from cairn.serving.log_records import PREDICTION_SCHEMA
from tests.rollouts import _rollout
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

GATE = {"min_samples": 60, "interval_s": 1}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    return _rollout.build(tmp_path_factory.mktemp("controller") / "credit", mlflow_template, 7)


@pytest.fixture
def root(template: Path, tmp_path: Path) -> Path:
    return _rollout.copy(template, tmp_path / "credit")


def write_log(
    root: Path,
    rng: np.random.Generator,
    counts: dict[str, int],
    *,
    errors: dict[str, float] | None = None,
    slow: dict[str, float] | None = None,
    deployment: str = "credit",
    seed: str = "s",
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Append one Parquet segment of primary rows per arm (and a shadow row per canary row,
    which the gates must ignore); returns each arm's (errors, latency)."""
    now = time.time_ns() // 1000
    rows: list[dict[str, object]] = []
    out = {}
    for arm, n in counts.items():
        failed = rng.random(n) < (errors or {}).get(arm, 0.0)
        latency = (1.0 + rng.lognormal(0.0, 0.4, n)) * (slow or {}).get(arm, 1.0)
        out[arm] = (failed, latency)
        for i in range(n):
            pid = uuid.uuid4().hex
            base = {
                "prediction_id": pid, "time": now, "deployment": deployment,
                "strategy": "canary", "arm": arm, "model_name": _rollout.MODEL,
                "model_version": "1" if arm == "control" else "3", "unit_id": uuid.uuid4().hex,
                "entity": "{}", "features": "{}", "score": 0.2, "decision": "approve",
                "latency_ms": float(latency[i]), "reason_codes": "[]", "explained": False,
                "fallback": None, "entity_unknown": False, "seed": seed, "exposed": True,
                "shadow": False, "error": "boom" if failed[i] else None,
            }  # fmt: skip
            rows.append(base)
            if arm == "canary":
                rows.append({**base, "arm": "shadow:x", "shadow": True, "latency_ms": 999.0})
    folder = root / ".cairn" / "predictions"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pylist(rows, schema=PREDICTION_SCHEMA), folder / f"{uuid.uuid4().hex}.parquet"
    )
    return out


def _canary(svc: RolloutService, stages: list[float]) -> None:
    svc.create(
        "credit",
        {
            "strategy": "canary",
            "candidate": "credit-default/3",
            "stages": stages,
            "gate": GATE,
            "seed": "s",  # the seed write_log logs
        },
        principal=_rollout.ANA,
    )


def test_sql_statistics_match_the_gate_functions(root: Path, global_random_seed: int) -> None:
    rng = np.random.default_rng(global_random_seed)
    written = write_log(root, rng, {"control": 700, "canary": 300}, errors={"canary": 0.05})
    with connect(root) as con:
        stats = arm_stats(con, "credit", "s", 0)
    for arm, (failed, latency) in written.items():
        expected = ArmStats.from_values(failed, latency)
        got = stats[arm]
        assert got.n == expected.n and got.units == expected.n
        assert got.errors == expected.errors
        assert got.latency.sum == pytest.approx(expected.latency.sum)
        assert got.latency.sum_squares == pytest.approx(expected.latency.sum_squares)
        assert (got.p99, got.p99_low, got.p99_high) == pytest.approx(
            (expected.p99, expected.p99_low, expected.p99_high)
        )
    with connect(root) as con:
        later = arm_stats(con, "credit", "s", time.time_ns() // 1000 + 10**6)
        other = arm_stats(con, "credit", "another-canary", 0)
    assert later["canary"].n == 0  # rows before the stage began do not count
    assert other["canary"].n == 0  # nor rows of another canary


def test_a_healthy_canary_walks_every_stage_to_promotion(root: Path) -> None:
    svc = _rollout.service(root)
    _canary(svc, [10, 50, 100])
    controller = CanaryController(svc, PredictionLog(root), settle_s=0)
    rng = np.random.default_rng(1)
    assert [s.decision.action for s in controller.run_once()] == ["wait"]  # no data yet
    write_log(root, rng, {"control": 540, "canary": 60})
    (step,) = controller.run_once()
    assert (step.decision.action, step.decision.gate) == ("advance", "passed")
    assert step.update is not None and step.update.spec.stage == 1
    write_log(root, rng, {"control": 100, "canary": 100})
    (step,) = controller.run_once()
    assert (step.decision.action, step.decision.gate) == ("promote", "passed")
    assert step.update is not None and step.update.spec.strategy == "single"
    assert svc.registry.mlflow.get_model("credit-default").aliases["champion"] == "3"
    assert controller.run_once() == []  # nothing left to judge
    entries = svc.registry.audit.entries(subject="deployment/credit")
    assert [e.action for e in entries] == [
        "rollout.created",
        "rollout.advanced",
        "rollout.promoted",
    ]
    advanced = entries[1]
    assert advanced.actor == "cairn-controller" and advanced.details["role"] == "approver"
    assert advanced.details["principal"]["via"] == "system:controller"
    assert advanced.details["gate"]["gate"] == "passed"
    assert advanced.details["gate"]["numbers"]["canary_n"] == 60
    assert svc.registry.audit.verify().ok
    status = svc.status("credit")
    decided = status["last_decision"]
    assert (decided["action"], decided["gate"], decided["change"]) == (
        "promote",
        "passed",
        "rollout.promoted",
    )


def test_an_erroring_canary_rolls_back_at_once(root: Path) -> None:
    svc = _rollout.service(root)
    _canary(svc, [10, 50, 100])
    write_log(
        root, np.random.default_rng(2), {"control": 270, "canary": 30}, errors={"canary": 0.5}
    )
    (step,) = CanaryController(svc, PredictionLog(root), settle_s=0).run_once()
    assert (step.decision.action, step.decision.gate) == ("rollback", "error_rate")
    assert step.update is not None and step.update.spec.state == "rolled_back"
    assert step.decision.numbers["canary_n"] == 30  # before the minimum sample: harm is enough
    entry = svc.registry.audit.entries(subject="deployment/credit")[-1]
    assert entry.action == "rollout.rolled_back" and entry.details["gate"]["gate"] == "error_rate"
    assert entry.details["gate"]["numbers"]["error_rate_lower"] > 0


def test_a_slow_canary_rolls_back(root: Path) -> None:
    svc = _rollout.service(root)
    _canary(svc, [10, 50, 100])
    write_log(root, np.random.default_rng(3), {"control": 900, "canary": 100}, slow={"canary": 3})
    (step,) = CanaryController(svc, PredictionLog(root), settle_s=0).run_once()
    assert step.decision.action == "rollback" and step.decision.gate in ("latency", "p99_floor")


def test_sample_ratio_mismatch_holds_until_resumed(root: Path) -> None:
    svc = _rollout.service(root)
    _canary(svc, [10, 50, 100])
    write_log(root, np.random.default_rng(4), {"control": 300, "canary": 120})  # 29 %, not 10 %
    controller = CanaryController(svc, PredictionLog(root), settle_s=0)
    (step,) = controller.run_once()
    assert (step.decision.action, step.decision.gate) == ("hold", "srm")
    assert controller.run_once() == []  # a held canary waits for an operator
    resumed = svc.set("credit", {"state": "active"}, principal=_rollout.ANA)
    assert resumed.spec.state == "active" and controller.active() != []


def test_an_unapproved_candidate_holds_instead_of_promoting(root: Path) -> None:
    svc = _rollout.service(root)
    svc.create(
        "credit",
        {
            "strategy": "canary",
            "candidate": "credit-default/2",
            "stages": [50, 100],
            "gate": GATE,
            "seed": "s",
        },
        principal=_rollout.ANA,
    )
    write_log(root, np.random.default_rng(5), {"control": 100, "canary": 100})
    (step,) = CanaryController(svc, PredictionLog(root), settle_s=0).run_once()
    assert step.decision.action == "promote" and step.update is not None
    assert step.update.spec.state == "held" and "four eyes" in step.note
    assert svc.registry.mlflow.get_model("credit-default").aliases["champion"] == "1"
    entry = svc.registry.audit.entries(subject="deployment/credit")[-1]
    assert entry.action == "rollout.held" and "four eyes" in entry.details["gate"]["blocked"]
    # the controller's refused promotion is in the chain, under its system principal
    (refused,) = svc.registry.audit.entries(action="governance.refused")
    assert (refused.actor, refused.subject) == ("cairn-controller", "credit-default/2")
    assert refused.details["principal"]["via"] == "system:controller"


def test_an_operator_change_wins_over_the_controller(root: Path) -> None:
    svc = _rollout.service(root)
    _canary(svc, [10, 50, 100])
    write_log(root, np.random.default_rng(6), {"control": 540, "canary": 60})
    controller = CanaryController(svc, PredictionLog(root), settle_s=0)
    judged = svc.store.current("credit")
    assert judged is not None
    svc.set("credit", {"gate": {"min_samples": 30}}, principal=_rollout.ANA)  # meanwhile
    with connect(root) as con:
        step = controller.step(judged, con)
    assert step.update is None and "skipped" in step.note and "not 1" in step.note
    assert svc.store.current("credit").stage == 0  # type: ignore[union-attr]


def test_a_full_traffic_stage_waits_for_a_person(root: Path) -> None:
    svc = _rollout.service(root)
    _canary(svc, [100])
    (step,) = CanaryController(svc, PredictionLog(root), settle_s=0).run_once()
    assert (step.decision.action, step.decision.gate) == ("wait", "full_traffic")


def test_an_invalid_stored_policy_is_reported_once_and_never_judged(root: Path) -> None:
    svc = _rollout.service(root)
    _canary(svc, [10, 50, 100])
    stored = svc.store.current("credit")
    assert stored is not None
    body = stored.to_dict()
    body["gate"]["alpha"] = 0.6  # what an older release accepted
    with svc.store.engine.begin() as conn:
        conn.execute(
            rollouts_table.update()
            .where(rollouts_table.c.deployment == "credit", rollouts_table.c.version == 1)
            .values(spec=json.dumps(body))
        )
    controller = CanaryController(svc, PredictionLog(root), settle_s=0)
    (step,) = controller.run_once()
    assert step.note == "invalid stored rollout" and step.update is None
    assert "gate.alpha must be in (0, 0.5); got 0.6" in step.decision.reason
    assert controller.run_once() == []  # said once, not every interval
    replaced = svc.create(
        "credit",
        {"strategy": "canary", "candidate": "credit-default/3", "stages": [10, 100],
         "gate": GATE, "seed": "s"},
        principal=_rollout.ANA, replace=True,
    )  # fmt: skip
    assert replaced.spec.version == 2 and controller.active() == [replaced.spec]
