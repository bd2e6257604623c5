"""Canary gates: quiet on identical arms (false-rollback rate over seeded runs), firing on an
injected error rate, a latency regression and a tail regression, holding on a sample-ratio
mismatch, waiting for the minimum sample."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core.errors import ConfigError
from cairn.experiments.gates import (
    ArmStats,
    GateDecision,
    GatePolicy,
    evaluate_gates,
    quantile_ranks,
)

STAGES = (0.05, 0.25, 0.5)  # the default 5 -> 25 -> 50 -> 100: passing 50 % promotes
POLICY = GatePolicy(min_samples=200)


@dataclass(frozen=True)
class Arms:
    """How each arm behaves: error rate, latency scale, share of very slow requests."""

    error: float = 0.005
    canary_error: float | None = None
    canary_scale: float = 1.0
    canary_slow_share: float = 0.0


def _latency(rng: np.random.Generator, n: int, scale: float, slow: float) -> np.ndarray:
    base = (1.0 + rng.lognormal(0.0, 0.5, n)) * scale
    return np.where(rng.random(n) < slow, base * 6.0, base)


def simulate(seed: int, arms: Arms, policy: GatePolicy = POLICY) -> list[GateDecision]:
    """One canary through every stage; the controller looks at growing checkpoints (each
    about 30 % more traffic), as it would every interval. Returns each stage's decision."""
    rng = np.random.default_rng(seed)
    decisions: list[GateDecision] = []
    for i, share in enumerate(STAGES):
        errors: dict[str, list[np.ndarray]] = {"control": [], "canary": []}
        latency: dict[str, list[np.ndarray]] = {"control": [], "canary": []}
        batch = 400
        decision = GateDecision("wait", "min_samples")
        for _ in range(40):
            canary = rng.random(batch) < share
            for arm, count in (("control", int((~canary).sum())), ("canary", int(canary.sum()))):
                is_canary = arm == "canary"
                rate = arms.canary_error if is_canary and arms.canary_error else arms.error
                errors[arm].append(rng.random(count) < rate)
                scale = arms.canary_scale if is_canary else 1.0
                slow = arms.canary_slow_share if is_canary else 0.0
                latency[arm].append(_latency(rng, count, scale, slow))
            stats = {
                arm: ArmStats.from_values(
                    np.concatenate(errors[arm]), np.concatenate(latency[arm]), alpha=policy.alpha
                )
                for arm in errors
            }
            decision = evaluate_gates(
                stats["control"],
                stats["canary"],
                canary_share=share,
                policy=policy,
                last=i == len(STAGES) - 1,
            )
            if decision.action != "wait":
                break
            batch = int(batch * 1.3)
        decisions.append(decision)
        if decision.action != "advance":
            break
    return decisions


def test_identical_arms_rarely_roll_back() -> None:
    runs = 200
    finals = Counter(simulate(seed, Arms())[-1].action for seed in range(runs))
    false_rollbacks = finals["rollback"] / runs
    print(f"identical arms over {runs} seeded runs: {dict(finals)}")
    assert false_rollbacks <= 0.05  # alpha = 0.05 per test; measured about 1 %
    assert finals["hold"] / runs <= 0.02
    assert finals["promote"] / runs >= 0.9  # and a healthy canary does not stall


def test_injected_error_rate_rolls_back() -> None:
    decisions = [simulate(seed, Arms(canary_error=0.04))[-1] for seed in range(30)]
    outcomes = Counter((d.action, d.gate) for d in decisions)
    assert outcomes[("rollback", "error_rate")] >= 28, outcomes  # seed 23 meets a chance SRM
    assert not any(d.action in ("advance", "promote") for d in decisions)
    first = decisions[0]
    assert first.numbers["canary_error_rate"] > first.numbers["control_error_rate"]
    assert first.numbers["error_rate_lower"] > 0


def test_latency_regression_rolls_back() -> None:
    decisions = [simulate(seed, Arms(canary_scale=1.3))[-1] for seed in range(30)]
    assert all(d.action == "rollback" and d.gate == "latency" for d in decisions)
    assert decisions[0].numbers["latency_lower"] > 0


def test_tail_regression_rolls_back_on_the_p99_floor() -> None:
    rng = np.random.default_rng(7)
    control = ArmStats.from_values([False] * 4000, _latency(rng, 4000, 1.0, 0.0))
    canary = ArmStats.from_values([False] * 1500, _latency(rng, 1500, 1.0, 0.05))
    decision = evaluate_gates(control, canary, canary_share=0.25, policy=POLICY)
    assert (decision.action, decision.gate) in {("rollback", "p99_floor"), ("rollback", "latency")}
    slow_tail = [simulate(seed, Arms(canary_slow_share=0.04))[-1] for seed in range(20)]
    assert all(d.action == "rollback" for d in slow_tail)


def test_sample_ratio_mismatch_holds() -> None:
    rng = np.random.default_rng(3)
    control = ArmStats.from_values([False] * 3000, 1 + rng.random(3000))
    canary = ArmStats.from_values([False] * 700, 1 + rng.random(700))  # 19 %, configured 25 %
    decision = evaluate_gates(control, canary, canary_share=0.25, policy=POLICY)
    assert (decision.action, decision.gate) == ("hold", "srm")
    assert decision.numbers["srm_p"] < 0.001
    assert "sample-ratio mismatch" in decision.reason


def test_minimum_sample_waits_and_harm_does_not() -> None:
    rng = np.random.default_rng(5)
    control = ArmStats.from_values([False] * 1900, 1 + rng.random(1900))
    canary = ArmStats.from_values([False] * 100, 1 + rng.random(100))
    decision = evaluate_gates(control, canary, canary_share=0.05, policy=POLICY)
    assert (decision.action, decision.gate) == ("wait", "min_samples")
    broken = ArmStats.from_values([i % 2 == 0 for i in range(100)], 1 + rng.random(100))
    assert evaluate_gates(control, broken, canary_share=0.05, policy=POLICY).action == "rollback"


def test_a_floor_breach_waits_then_counts_as_noise() -> None:
    rng = np.random.default_rng(11)
    lat = 1 + rng.random(12_000)
    control = ArmStats.from_values([i % 200 == 0 for i in range(9000)], lat[:9000])
    canary = ArmStats.from_values([i % 150 == 0 for i in range(3000)], lat[9000:])
    waiting = evaluate_gates(control, canary, canary_share=0.25, policy=GatePolicy(min_samples=800))
    assert (waiting.action, waiting.gate) == ("wait", "error_floor")
    passed = evaluate_gates(control, canary, canary_share=0.25, policy=POLICY)
    assert (passed.action, passed.gate) == ("advance", "passed")
    assert passed.numbers["error_floor_waived"] is True


def test_last_stage_promotes() -> None:
    rng = np.random.default_rng(2)
    control = ArmStats.from_values([False] * 500, 1 + rng.random(500))
    canary = ArmStats.from_values([False] * 500, 1 + rng.random(500))
    decision = evaluate_gates(control, canary, canary_share=0.5, policy=POLICY, last=True)
    assert (decision.action, decision.gate) == ("promote", "passed")


def test_p99_bounds_are_order_statistics() -> None:
    values = np.arange(1, 1001, dtype=float)
    stats = ArmStats.from_values([False] * 1000, values[::-1])
    low, high = quantile_ranks(1000, 0.99, 0.05)
    assert (stats.p99_low, stats.p99_high) == (float(low), float(high))
    assert stats.p99_low < stats.p99 < stats.p99_high
    few = ArmStats.from_values([False] * 20, values[:20])
    assert few.p99_high == math.inf  # too few rows for an upper bound


@pytest.mark.parametrize(
    ("field", "value"),
    [("min_samples", 0), ("alpha", 0.7), ("error_ratio", 0.9), ("srm_p", 1.0), ("patience", 0)],
)
def test_bad_policy_is_one_clear_error(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=f"GatePolicy.{field} must be"):
        GatePolicy(**{field: value})  # type: ignore[arg-type]


def test_bad_share_is_one_clear_error() -> None:
    arm = ArmStats.from_values([False] * 3, [1.0, 2.0, 3.0])
    with pytest.raises(ConfigError, match="canary_share must be in"):
        evaluate_gates(arm, arm, canary_share=1.0, policy=POLICY)


_arm = st.builds(
    lambda n, errors, lat: ArmStats.from_values(
        [i < errors for i in range(n)], [lat[i % len(lat)] for i in range(n)]
    ),
    st.integers(0, 400),
    st.integers(0, 400),
    st.lists(st.floats(0.01, 1e4), min_size=1, max_size=30),
)


@settings(max_examples=150, deadline=None)
@given(control=_arm, canary=_arm, share=st.floats(0.01, 0.99))
def test_any_arms_give_a_decision_with_json_numbers(
    control: ArmStats, canary: ArmStats, share: float
) -> None:
    decision = evaluate_gates(control, canary, canary_share=share, policy=GatePolicy(min_samples=5))
    assert decision.action in {"wait", "advance", "promote", "rollback", "hold"}
    assert decision.reason
    json.dumps(decision.to_dict(), allow_nan=False)
