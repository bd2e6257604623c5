"""Rollout specs: constructors, weights now, round trips, and one clear error per mistake."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cairn.core.errors import ConfigError
from cairn.serving.routing import Arm, CanaryGate, RolloutSpec


def test_constructors_name_their_arms() -> None:
    assert [a.name for a in RolloutSpec.single("credit", "m@champion").arms] == ["main"]
    assert [a.name for a in RolloutSpec.blue_green("credit", "m/1", "m/2").arms] == [
        "blue",
        "green",
    ]
    canary = RolloutSpec.canary("credit", "m@champion", "m@challenger")
    assert [a.name for a in canary.arms] == ["control", "canary"]
    assert canary.seed.startswith("credit-canary-")
    assert canary.stages == (5.0, 25.0, 50.0, 100.0)


def test_weights_follow_stage_and_state() -> None:
    canary = RolloutSpec.canary("credit", "m@champion", "m@challenger", seed="s")
    assert canary.with_changes(stage=2).weights() == {"control": 0.5, "canary": 0.5}
    assert canary.with_changes(state="rolled_back").weights() == {"control": 1.0, "canary": 0.0}
    assert canary.with_changes(state="promoted").weights() == {"control": 0.0, "canary": 1.0}
    assert canary.with_changes(state="held", stage=1).weights()["canary"] == 0.25
    ab = RolloutSpec.ab("credit", [Arm("a", "m/1", 0.2), Arm("b", "m/2", 0.8)], "s", coverage=0.5)
    assert ab.weights() == pytest.approx({"a": 0.6, "b": 0.4})
    assert RolloutSpec.blue_green("credit", "m/1", "m/2").weights() == {"blue": 1.0, "green": 0.0}


def test_control_is_the_first_arm_or_the_live_slot() -> None:
    bg = RolloutSpec.blue_green("credit", "m/1", "m/2", live="green")
    assert bg.control.name == "green"
    assert RolloutSpec.canary("credit", "m/1", "m/2").control.name == "control"


def test_models_lists_arms_then_shadows_once() -> None:
    spec = RolloutSpec.canary("credit", "m/1", "m/2", shadows=("m/3", "m/1"))
    assert spec.models() == ["m/1", "m/2", "m/3"]


SPECS = st.one_of(
    st.builds(RolloutSpec.single, st.just("credit"), st.sampled_from(["m@champion", "m/3"])),
    st.builds(
        RolloutSpec.blue_green,
        st.just("credit"),
        st.just("m/1"),
        st.just("m/2"),
        st.sampled_from(["blue", "green"]),
    ),
    st.builds(
        lambda stage, state, seed: RolloutSpec.canary(
            "credit", "m@champion", "m@challenger", seed=seed, shadows=("m/9",)
        ).with_changes(stage=stage, state=state, since=1_700_000_000_000_000),
        st.integers(0, 3),
        st.sampled_from(["active", "promoted", "rolled_back", "held"]),
        st.text(min_size=1, max_size=20),
    ),
    st.builds(
        lambda k, coverage: RolloutSpec.ab(
            "credit",
            [Arm(f"arm{i}", f"m/{i + 1}", 1 / k) for i in range(k)],
            "seed",
            coverage=coverage,
        ),
        st.integers(2, 7),
        st.floats(0, 1),
    ),
)


@given(SPECS)
def test_specs_round_trip_through_dicts(spec: RolloutSpec) -> None:
    assert RolloutSpec.from_dict(spec.to_dict()) == spec


BAD: list[tuple[dict[str, Any], str]] = [
    (
        {"strategy": "rainbow"},
        "strategy must be one of single, blue-green, canary, ab; got 'rainbow'",
    ),
    (
        {
            "strategy": "ab",
            "arms": [
                {"name": "a", "model": "m/1", "weight": 0.5},
                {"name": "b", "model": "m/2", "weight": 0.4},
            ],
        },
        "arm weights must sum to 1; got a=0.5, b=0.4 (sum 0.9)",
    ),
    (
        {"stages": [5, 25, 25, 100]},
        "stages must be strictly increasing; got [5.0, 25.0, 25.0, 100.0]",
    ),
    ({"stages": [50, 10, 100]}, "stages must be strictly increasing"),
    ({"stages": [5, 50]}, "stages must end at 100 (full rollout); got [5.0, 50.0]"),
    ({"stages": [0, 100]}, "stages must be percentages in (0, 100]"),
    ({"stages": [5, 150]}, "stages must be percentages in (0, 100]"),
    ({"stage": 4}, "stage must be an index in 0..3"),
    (
        {
            "strategy": "ab",
            "arms": [
                {"name": "a", "model": "m/1", "weight": 0.5},
                {"name": "a", "model": "m/2", "weight": 0.5},
            ],
        },
        "arm names must be unique; 'a' appears 2 times",
    ),
    (
        {
            "arms": [
                {"name": "control", "model": "m@champion"},
                {"name": "canary", "model": "not a ref"},
            ]
        },
        "arm 'canary': A model reference must be MODEL@ALIAS",
    ),
    (
        {
            "strategy": "blue-green",
            "arms": [{"name": "blue", "model": "m/1"}, {"name": "green", "model": "m/2"}],
            "live": "red",
        },
        "live must name a slot (blue, green); got 'red'",
    ),
    (
        {"arms": [{"name": "x", "model": "m/1"}, {"name": "y", "model": "m/2"}]},
        "a canary rollout has arms control and canary",
    ),
    ({"strategy": "single"}, "a single rollout has exactly one arm; got 2"),
    ({"shadows": ["m/1", "m/1"]}, "shadow models must be unique"),
    ({"shadows": ["bad ref"]}, "shadow: A model reference must be"),
    ({"coverage": 1.5}, "coverage must be a number in [0, 1]; got 1.5"),
    ({"state": "paused"}, "state must be one of active, promoted, rolled_back, held; got 'paused'"),
    ({"gate": {"alpha": 0}}, "gate.alpha must be in (0, 0.5); got 0"),
    ({"gate": {"alpha": 0.6}}, "gate.alpha must be in (0, 0.5); got 0.6"),
    ({"gate": {"min_samples": 0}}, "gate.min_samples must be an integer of at least 1; got 0"),
    ({"gate": {"interval_s": -1}}, "gate.interval_s must be above 0; got -1"),
    ({"gate": {"patience": 0.5}}, "gate.patience must be at least 1; got 0.5"),
    ({"gate": {"alpah": 0.1}}, "gate must be a mapping of min_samples, alpha"),
    ({"gate": {"bogus": 1}}, "gate must be a mapping of"),
    ({"colour": "blue"}, "unknown field 'colour'"),
    ({"arms": "m/1"}, "arms must be a list; got 'm/1'"),
    ({"seed": ""}, "seed must be a non-empty string"),
]


@pytest.mark.parametrize(("change", "message"), BAD, ids=[m[:40] for _, m in BAD])
def test_bad_specs_fail_with_one_clear_line(change: dict[str, Any], message: str) -> None:
    data = RolloutSpec.canary("credit", "m@champion", "m@challenger", seed="s").to_dict()
    data.update(change)
    with pytest.raises(ConfigError) as info:
        RolloutSpec.from_dict(data)
    text = str(info.value)
    assert text.startswith("Rollout of 'credit': ")
    assert message in text
    assert "\n" not in text


def test_weights_within_tolerance_pass() -> None:
    third = 1 / 3
    spec = RolloutSpec.ab("credit", [Arm(n, "m/1", third) for n in "abc"], "s")
    assert sum(spec.weights().values()) == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="sum to 1"):
        RolloutSpec.ab("credit", [Arm("a", "m/1", 0.5), Arm("b", "m/1", 0.5 + 1e-8)], "s")


def test_direct_construction_is_validated_too() -> None:
    with pytest.raises(ConfigError, match="live must name a slot"):
        RolloutSpec("credit", "blue-green", (Arm("blue", "m/1"), Arm("green", "m/2")), "s")
    with pytest.raises(ConfigError, match="GatePolicy.p99_ratio must be at least 1"):
        RolloutSpec.canary("credit", "m/1", "m/2", gate=CanaryGate(p99_ratio=-1))
