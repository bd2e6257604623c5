"""The canary controller judges the model, from the real prediction and outcome logs: the
stage's scores, decisions and matured labels per arm (SQL) equal the rows written, a harmful
model rolls back on its labels, a shifted score distribution holds, promotion waits for the
evidence the policy names and records it, and a shadow comparison of the version is evidence."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.stats import norm

from cairn.core.predictions import Outcome
from cairn.rollouts.controller import CanaryController
from cairn.rollouts.quality import candidate_shadow, stage_scores
from cairn.rollouts.service import RolloutService
from cairn.serving.log_reader import PredictionLog, connect
from cairn.serving.log_records import OUTCOME_SCHEMA, PREDICTION_SCHEMA, outcome_row
from tests.rollouts import _rollout
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    return _rollout.build(tmp_path_factory.mktemp("quality") / "credit", mlflow_template, 7)


@pytest.fixture
def root(template: Path, tmp_path: Path) -> Path:
    return _rollout.copy(template, tmp_path / "credit")


def _scores(rng: np.random.Generator, n: int, auc: float, shift: float = 0.0) -> tuple:
    y = rng.random(n) < 0.2
    signal = rng.normal(0.0, 1.0, n) + y * np.sqrt(2) * norm.ppf(auc) + shift
    return 1 / (1 + np.exp(-(signal - 2.0))), y


def write_scored(
    root: Path,
    rng: np.random.Generator,
    counts: dict[str, int],
    *,
    auc: dict[str, float],
    shift: dict[str, float] | None = None,
    labeled: float = 1.0,
    shadow_of_control: bool = False,
    refer: bool = False,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """One Parquet segment of canary rows per arm with their scores, and the labels of the
    first ``labeled`` share of them as outcomes; returns each arm's (scores, labels)."""
    now = time.time_ns() // 1000
    rows: list[dict[str, object]] = []
    outcomes: list[dict[str, object]] = []
    out = {}
    for arm, n in counts.items():
        scores, y = _scores(rng, n, auc[arm], (shift or {}).get(arm, 0.0))
        out[arm] = (scores, y)
        for i in range(n):
            pid = uuid.uuid4().hex
            base = {
                "prediction_id": pid, "time": now, "deployment": "credit",
                "strategy": "canary", "arm": arm, "model_name": _rollout.MODEL,
                "model_version": "1" if arm == "control" else "3", "unit_id": uuid.uuid4().hex,
                "entity": "{}", "features": "{}", "score": float(scores[i]),
                "decision": "decline" if scores[i] >= 0.5 else "approve",
                "positive": bool(scores[i] >= 0.5), "latency_ms": 1.0, "reason_codes": "[]",
                "explained": False, "fallback": None, "entity_unknown": False, "seed": "s",
                "exposed": True, "shadow": False, "error": None,
            }  # fmt: skip
            if refer:  # the coverage guard referred it: scored, but a person decides
                base.update(decision="refer", positive=None)
            rows.append(base)
            if shadow_of_control and arm == "control":  # v3 scored the same request, off path
                near = float(np.clip(scores[i] + rng.normal(0, 0.01), 0, 1))
                rows.append({**base, "arm": "shadow:credit-default/3", "model_version": "3",
                             "shadow": True, "score": near})  # fmt: skip
            if i < labeled * n:
                outcomes.append(outcome_row(Outcome(float(y[i]), now, prediction_id=pid)))
    for folder, table in (
        ("predictions", pa.Table.from_pylist(rows, schema=PREDICTION_SCHEMA)),
        ("outcomes", pa.Table.from_pylist(outcomes, schema=OUTCOME_SCHEMA)),
    ):
        path = root / ".cairn" / folder
        path.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path / f"{uuid.uuid4().hex}.parquet")
    return out


def _canary(svc: RolloutService, stages: list[float], **gate: object) -> None:
    svc.create(
        "credit",
        {
            "strategy": "canary",
            "candidate": "credit-default/3",
            "stages": stages,
            "gate": {"min_samples": 60, "interval_s": 1, **gate},
            "seed": "s",
        },
        principal=_rollout.ANA,
    )


def test_the_stage_scores_are_the_rows_written(root: Path) -> None:
    written = write_scored(
        root, np.random.default_rng(1), {"control": 300, "canary": 100},
        auc={"control": 0.8, "canary": 0.8}, labeled=0.5,
    )  # fmt: skip
    write_scored(  # referrals: the model decided none of them, so no gate counts them
        root, np.random.default_rng(11), {"control": 50, "canary": 50},
        auc={"control": 0.5, "canary": 0.5}, shift={"canary": 3.0}, refer=True,
    )  # fmt: skip
    with connect(root) as con:
        arms = stage_scores(con, "credit", "s", 0)
    for arm, (scores, y) in written.items():
        got = arms[arm]
        assert sorted(got.scores.tolist()) == pytest.approx(sorted(scores.tolist()))
        assert got.labeled == len(scores) // 2
        assert int(got.positive.sum()) == int((scores >= 0.5).sum())
        assert np.nansum(got.labels) == int(y[: len(y) // 2].sum())


def test_a_model_with_lower_auc_rolls_back_on_matured_labels(root: Path) -> None:
    svc = _rollout.service(root)
    _canary(svc, [50, 100])
    write_scored(
        root, np.random.default_rng(2), {"control": 3000, "canary": 3000},
        auc={"control": 0.85, "canary": 0.65},
    )  # fmt: skip
    (step,) = CanaryController(svc, PredictionLog(root), settle_s=0).run_once()
    d = step.decision
    assert (d.action, d.gate) == ("rollback", "auc"), d.reason
    assert d.numbers["auc_upper"] < 0 and d.numbers["canary_labeled"] == 3000
    entry = svc.registry.audit.entries(subject="deployment/credit")[-1]
    assert entry.action == "rollout.rolled_back" and entry.details["gate"]["gate"] == "auc"
    assert "model: score PSI" in step.line()


def test_a_shifted_score_distribution_holds_for_review(root: Path) -> None:
    svc = _rollout.service(root)
    _canary(svc, [50, 100])
    write_scored(
        root, np.random.default_rng(3), {"control": 800, "canary": 800},
        auc={"control": 0.8, "canary": 0.8}, shift={"canary": 1.5}, labeled=0.0,
    )  # fmt: skip
    (step,) = CanaryController(svc, PredictionLog(root), settle_s=0).run_once()
    d = step.decision
    assert (d.action, d.gate) == ("hold", "score_psi"), d.reason
    assert d.numbers["score_psi"] > 0.2 and d.numbers["score_psi_p"] < 0.001
    assert svc.current("credit").state == "held"


def test_promotion_waits_for_label_evidence_and_records_it(root: Path) -> None:
    svc = _rollout.service(root)
    _canary(svc, [50, 100], evidence="labels")
    controller = CanaryController(svc, PredictionLog(root), settle_s=0)
    rng = np.random.default_rng(4)
    same = {"control": 0.8, "canary": 0.8}
    write_scored(root, rng, {"control": 300, "canary": 300}, auc=same)
    (step,) = controller.run_once()
    assert (step.decision.action, step.decision.gate) == ("wait", "evidence")
    assert "promotion needs matured labels" in step.decision.reason
    write_scored(root, rng, {"control": 9000, "canary": 9000}, auc=same)
    (step,) = controller.run_once()
    assert (step.decision.action, step.decision.gate) == ("promote", "passed"), step.decision
    assert step.decision.numbers["evidence"] == "labels"
    assert step.decision.numbers["auc_lower"] > -0.03
    entry = svc.registry.audit.entries(subject="deployment/credit")[-1]
    assert entry.details["gate"]["numbers"]["evidence_required"] == "labels"


def test_without_required_evidence_a_promotion_says_so(root: Path) -> None:
    svc = _rollout.service(root)
    _canary(svc, [50, 100])
    write_scored(
        root, np.random.default_rng(5), {"control": 100, "canary": 100},
        auc={"control": 0.8, "canary": 0.8}, labeled=0.0,
    )  # fmt: skip
    (step,) = CanaryController(svc, PredictionLog(root), settle_s=0).run_once()
    assert step.decision.action == "promote"
    assert step.decision.numbers["evidence"] == "none"
    assert "no label or shadow evidence required" in step.decision.reason


def test_a_shadow_comparison_of_the_version_is_evidence(root: Path) -> None:
    write_scored(
        root, np.random.default_rng(6), {"control": 6000},
        auc={"control": 0.8}, shadow_of_control=True,
    )  # fmt: skip
    with connect(root) as con:
        evidence = candidate_shadow(con, "credit", (_rollout.MODEL, "3"), alpha=0.05, n_star=1e4)
    assert evidence is not None
    numbers = evidence.to_numbers()
    assert numbers["shadow_labeled"] == 6000
    assert numbers["shadow_auc_lower"] > -0.03  # the shadow scores track the champion's
