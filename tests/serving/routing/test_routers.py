"""Routers: each strategy's decision, splits converging to their weights, stickiness."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from cairn.serving.routing import (
    Arm,
    RolloutSpec,
    RolloutStore,
    Route,
    bucket_ranges,
    bucket_v2,
    choose_variation,
    hash_v2,
    router_for,
)

UNITS = [f"customer-{i}" for i in range(20_000)]
FALSE_FAILURE = 1e-6


def _tolerance(n: int, p: float, tests: int) -> float:
    """Half-width of a two-sided binomial band with family-wise error ``FALSE_FAILURE``."""
    z = float(norm.isf(FALSE_FAILURE / (2 * tests)))
    return float(z * (n * p * (1 - p)) ** 0.5 + 1)


def test_single_and_blue_green_send_everything_to_one_arm() -> None:
    single = router_for(RolloutSpec.single("credit", "m@champion"))
    assert {single.choose(u) for u in UNITS[:500]} == {Route("main", "m@champion", "single")}
    spec = RolloutSpec.blue_green("credit", "m/1", "m/2")
    assert {router_for(spec).choose(u).arm for u in UNITS[:500]} == {"blue"}
    flipped = router_for(spec.with_changes(live="green"))
    assert {flipped.choose(u).model for u in UNITS[:500]} == {"m/2"}
    assert flipped.control.model == "m/2"


def test_canary_is_bucket_below_stage() -> None:
    spec = RolloutSpec.canary("credit", "m/1", "m/2", seed="s", stages=(5, 25, 100))
    router = router_for(spec)
    for unit in UNITS[:2000]:
        expected = "canary" if bucket_v2("s", unit) < 500 else "control"
        assert router.choose(unit).arm == expected
    assert {
        router_for(spec.with_changes(state="rolled_back")).choose(u).arm for u in UNITS[:500]
    } == {"control"}
    assert {router_for(spec.with_changes(state="promoted")).choose(u).arm for u in UNITS[:500]} == {
        "canary"
    }
    assert {router_for(spec.with_changes(stage=2)).choose(u).arm for u in UNITS[:500]} == {"canary"}


@settings(max_examples=15, deadline=None)
@given(seed=st.text(min_size=1, max_size=12), low=st.integers(0, 2), high=st.integers(0, 3))
def test_canary_is_monotone_across_stages(seed: str, low: int, high: int) -> None:
    """A unit in the canary at one stage stays in it at every later stage."""
    spec = RolloutSpec.canary("credit", "m/1", "m/2", seed=seed)
    low, high = min(low, high), max(low, high)
    early, late = (
        router_for(spec.with_changes(stage=low)),
        router_for(spec.with_changes(stage=high)),
    )
    for unit in UNITS[:1000]:
        if early.choose(unit).arm == "canary":
            assert late.choose(unit).arm == "canary"


def test_ab_matches_growthbook_choose_variation() -> None:
    arms = [Arm("a", "m/1", 0.2), Arm("b", "m/2", 0.3), Arm("c", "m/3", 0.5)]
    spec = RolloutSpec.ab("credit", arms, "exp-7", coverage=0.8)
    router = router_for(spec)
    ranges = bucket_ranges(3, 0.8, [0.2, 0.3, 0.5])
    for unit in UNITS[:3000]:
        index = choose_variation(hash_v2("exp-7", unit), ranges)
        route = router.choose(unit)
        if index < 0:
            assert (route.arm, route.exposed) == ("a", False)
        else:
            assert (route.arm, route.exposed) == (arms[index].name, True)


def test_ab_rolled_back_sends_everyone_to_the_first_arm_unexposed() -> None:
    arms = [Arm("a", "m/1", 0.5), Arm("b", "m/2", 0.5)]
    router = router_for(RolloutSpec.ab("credit", arms, "s").with_changes(state="rolled_back"))
    assert {(router.choose(u).arm, router.choose(u).exposed) for u in UNITS[:300]} == {("a", False)}


WEIGHTS = st.lists(st.integers(1, 20), min_size=2, max_size=5).map(
    lambda xs: [x / sum(xs) for x in xs]
)


@settings(max_examples=12, deadline=None)
@given(weights=WEIGHTS, seed=st.text(min_size=1, max_size=16), coverage=st.sampled_from([1.0, 0.7]))
def test_ab_splits_converge_to_their_weights(
    weights: list[float], seed: str, coverage: float
) -> None:
    total = sum(weights)
    weights[-1] += 1.0 - total  # exact sum within the 1e-9 tolerance
    arms = [Arm(f"arm{i}", f"m/{i + 1}", w) for i, w in enumerate(weights)]
    router = router_for(RolloutSpec.ab("credit", arms, seed, coverage=coverage))
    counts = Counter((r.arm, r.exposed) for r in map(router.choose, UNITS))
    n = len(UNITS)
    for arm in arms:
        p = arm.weight * coverage
        assert abs(counts[(arm.name, True)] - n * p) <= _tolerance(n, p, len(arms) + 1)
    p_out = 1 - coverage
    unexposed = counts[(arms[0].name, False)]
    assert abs(unexposed - n * p_out) <= _tolerance(n, p_out, len(arms) + 1)


@settings(max_examples=10, deadline=None)
@given(seed=st.text(min_size=1, max_size=16), stage=st.integers(0, 2))
def test_canary_share_converges_to_the_stage(seed: str, stage: int) -> None:
    spec = RolloutSpec.canary("credit", "m/1", "m/2", seed=seed).with_changes(stage=stage)
    router = router_for(spec)
    p = spec.stages[stage] / 100
    canary = sum(router.choose(u).arm == "canary" for u in UNITS)
    assert abs(canary - len(UNITS) * p) <= _tolerance(len(UNITS), p, 1)


SCRIPT = """
import json, sys
from cairn.serving.routing import RolloutSpec, router_for
for data in json.loads(sys.argv[1]):
    router = router_for(RolloutSpec.from_dict(data))
    print(json.dumps([router.choose(f"customer-{i}").arm for i in range(1000)]))
"""


def test_assignment_is_the_same_in_another_process() -> None:
    """A fresh interpreter with another PYTHONHASHSEED assigns every unit identically."""
    arms = [Arm("a", "m/1", 0.25), Arm("b", "m/2", 0.25), Arm("c", "m/3", 0.5)]
    specs = [
        RolloutSpec.ab("credit", arms, "sticky-seed", coverage=0.9),
        RolloutSpec.canary("credit", "m/1", "m/2", seed="sticky-canary").with_changes(stage=2),
    ]
    here = [[router_for(s).choose(f"customer-{i}").arm for i in range(1000)] for s in specs]
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps([s.to_dict() for s in specs])],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert [json.loads(line) for line in out.stdout.splitlines()] == here


def test_assignment_survives_a_restart(tmp_path: Path) -> None:
    """A router rebuilt from the stored spec (a restarted server) assigns identically."""
    url = f"sqlite:///{tmp_path}/metadata.db"
    spec = RolloutSpec.canary("credit", "m/1", "m/2").with_changes(stage=1)
    stored = RolloutStore(url).put(spec, actor="a", reason="r")
    before = [router_for(stored).choose(u).arm for u in UNITS[:2000]]
    reloaded = RolloutStore(url).current("credit")
    assert reloaded is not None and reloaded.seed == spec.seed
    assert [router_for(reloaded).choose(u).arm for u in UNITS[:2000]] == before
