"""The rollout step of the quickstart on the example project: shadow, A/B, a canary promoted
through four eyes, a slow canary rolled back by its gates; no request fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from cairn.quickstart.printers import print_rollout_demo
from cairn.quickstart.run import run_quickstart

pytestmark = pytest.mark.slow


def test_rollout_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = run_quickstart(tmp_path / "demo").rollout  # the quickstart runs the rollout demo
    assert demo is not None
    assert demo.failed == 0 and demo.requests > 500
    assert demo.shadow_rows == demo.shadow_ids == 100  # one shadow row per primary, same id
    assert set(demo.ab_counts) == {"champion", "challenger"}
    assert sum(demo.ab_counts.values()) == 400 and demo.ab_srm_p > 0.001
    assert demo.ab_labeled == 400 and demo.outcomes == demo.requests
    assert [s.decision.action for s in demo.canary_steps] == ["advance", "promote"]
    assert demo.champion == demo.challenger.split("/")[1]
    rollback = demo.rollback
    assert rollback is not None and rollback.decision.gate in ("latency", "p99_floor")
    numbers = rollback.decision.numbers
    assert numbers["canary_latency_mean_ms"] > numbers["control_latency_mean_ms"]
    assert demo.audit_ok
    print_rollout_demo(demo)
    text = capsys.readouterr().out
    assert "0 failed" in text and "rolled back by gate" in text and "Audit chain intact" in text
