"""The one gate policy: validated once when made, shared by the rollout spec and the gate
statistics, and a stored policy that no longer validates is reported, never judged."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

import cairn.experiments.gates as gate_statistics
from cairn.core.errors import ConfigError
from cairn.core.gate_policy import GatePolicy
from cairn.rollouts import CanaryGate, InvalidRolloutError, RolloutSpec, RolloutStore
from cairn.rollouts.store import rollouts as rollouts_table


def test_the_spec_the_alias_and_the_gate_statistics_share_one_type() -> None:
    spec = RolloutSpec.canary("credit", "m@champion", "m@challenger", seed="s")
    assert type(spec.gate) is GatePolicy
    assert CanaryGate is GatePolicy and gate_statistics.GatePolicy is GatePolicy
    assert RolloutSpec.from_dict(spec.to_dict()).gate == spec.gate


def test_a_stored_spec_from_before_patience_existed_still_reads() -> None:
    data = RolloutSpec.canary("credit", "m@champion", "m@challenger", seed="s").to_dict()
    del data["gate"]["patience"], data["gate"]["interval_s"]
    assert RolloutSpec.from_dict(data).gate == GatePolicy()


@given(alpha=st.floats(allow_nan=True, allow_infinity=True))
def test_alpha_outside_the_open_interval_is_refused_at_creation(alpha: float) -> None:
    if 0 < alpha < 0.5:
        assert GatePolicy(alpha=alpha).alpha == alpha
        return
    with pytest.raises(ConfigError, match=r"^GatePolicy\.alpha must be in \(0, 0\.5\); got"):
        GatePolicy(alpha=alpha)


@pytest.mark.parametrize("value", [True, "0.05", None])
def test_non_numbers_are_refused(value: object) -> None:
    with pytest.raises(ConfigError, match="GatePolicy.alpha must be in"):
        GatePolicy(alpha=value)  # type: ignore[arg-type]


def _store_raw(store: RolloutStore, deployment: str, version: int, body: dict[str, object]) -> None:
    """Write a spec row as an older release (or a hand edit) would: no validation."""
    with store.engine.begin() as conn:
        conn.execute(
            rollouts_table.insert().values(
                project=store.project, deployment=deployment, version=version,
                spec=json.dumps(body), actor="old-release", reason="",
                at=sa.func.current_timestamp(),
            )
        )  # fmt: skip


def test_an_invalid_stored_policy_is_reported_and_the_others_still_read(
    metadata_url: str, project_name: str
) -> None:
    store = RolloutStore(metadata_url, project=project_name)
    good = store.put(RolloutSpec.single("fraud", "f@champion"), actor="ana", reason="new")
    body = RolloutSpec.canary("credit", "m@champion", "m@challenger", seed="s").to_dict()
    body["gate"]["alpha"] = 0.6
    body.pop("version")
    _store_raw(store, "credit", 1, body)
    specs, invalid = store.read_current()
    assert specs == {"fraud": good}
    assert list(invalid) == ["credit"]
    message = str(invalid["credit"])
    assert "stored rollout of 'credit' (version 1) is invalid" in message
    assert "gate.alpha must be in (0, 0.5); got 0.6" in message and "\n" not in message
    with pytest.raises(InvalidRolloutError, match="gate.alpha"):
        store.current("credit")
    with pytest.raises(InvalidRolloutError):
        store.all_current()
    weights, note = store.experiment_weights("credit", "s")
    assert weights is None and note is not None and "invalid" in note
