"""Where each retraining policy stands (``cairn retrain status``): its next scheduled slot, the
cooldown and budget left, what monitoring saw last, its ledger, and what the decision engine
would decide now. Read-only: nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cairn.core.timeutil import from_micros, to_micros
from cairn.core.types import Micros
from cairn.retraining.decide import decide
from cairn.retraining.entry import LedgerEntry
from cairn.retraining.inputs import Observation
from cairn.retraining.policy import Policy

__all__ = ["PolicyStatus", "policy_status"]


@dataclass(frozen=True)
class PolicyStatus:
    """One policy's state at ``now`` (times in µs since the epoch, UTC)."""

    policy: str
    deployment: str
    now: Micros
    next_slot: Micros | None
    """The next schedule slot after ``now`` (None without a schedule)."""
    cooldown_left_s: float
    """Seconds until the cooldown since the last run ends (0: none left)."""
    runs_in_period: int
    """Runs decided in the budget's period up to ``now``."""
    max_runs: int
    last_observation: Observation | None
    ledger: list[LedgerEntry] = field(default_factory=list)
    """The latest entries, newest first."""
    would_decide: list[dict[str, Any]] = field(default_factory=list)
    """What the engine would decide now (not recorded)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        last = self.last_observation
        slot = None if self.next_slot is None else from_micros(self.next_slot).isoformat()
        return {
            "policy": self.policy,
            "deployment": self.deployment,
            "now": from_micros(self.now).isoformat(),
            "next_slot": slot,
            "cooldown_left_s": self.cooldown_left_s,
            "budget": {"used": self.runs_in_period, "max_runs": self.max_runs},
            "last_monitoring": None
            if last is None
            else {
                "run_id": last.run_id,
                "window_end": from_micros(last.at).isoformat(),
                "signals": [f"{s.kind}:{s.subject}:{s.band}" for s in last.signals],
                "labeled": last.labeled,
            },
            "ledger": [e.to_dict() for e in self.ledger],
            "would_decide": self.would_decide,
        }


def policy_status(
    name: str,
    policy: Policy,
    *,
    now: Micros,
    observations: Sequence[Observation] = (),
    past: Sequence[LedgerEntry] = (),
    show: int = 5,
) -> PolicyStatus:
    """The status of policy ``name`` at ``now`` from its monitoring ``observations`` and its
    ledger entries ``past`` (oldest first, as :meth:`Ledger.entries` returns them).

    Example
    -------
    >>> from cairn.retraining.policy import parse_policies
    >>> policy = parse_policies({"policies": {"credit": {
    ...     "deployment": "credit", "schedule": {"cron": "0 6 * * MON"}}}})["credit"]
    >>> s = policy_status("credit", policy, now=1_773_039_600_000_000)  # Mon 2026-03-09 07:00
    >>> s.to_dict()["next_slot"], s.cooldown_left_s, [d["action"] for d in s.would_decide]
    ('2026-03-16T06:00:00+00:00', 0.0, ['run'])
    """
    runs = [e for e in past if e.runs]
    last = max(runs, key=lambda e: e.decided_at, default=None)
    cooldown_left = 0.0 if last is None else max(0, last.decided_at + policy.cooldown - now) / 1e6
    period_start = now - policy.budget.period
    used = sum(1 for e in runs if period_start < e.decided_at <= now)
    next_slot = None
    if policy.schedule is not None:
        next_slot = to_micros(policy.schedule.value().next_after(from_micros(now)))
    decisions = decide(name, policy, now=now, observations=observations, past=past)
    return PolicyStatus(
        policy=name,
        deployment=policy.deployment,
        now=now,
        next_slot=next_slot,
        cooldown_left_s=cooldown_left,
        runs_in_period=used,
        max_runs=policy.budget.max_runs,
        last_observation=max(observations, key=lambda o: o.at, default=None),
        ledger=sorted(past, key=lambda e: e.decided_at, reverse=True)[:show],
        would_decide=[d.to_dict() for d in decisions],
    )
