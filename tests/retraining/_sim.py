"""A simulated clock, monitoring observations and an in-memory ledger for the decision tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cairn.core.signals import MonitoringSignal
from cairn.retraining import Decision, LedgerEntry, Observation, Policy, parse_policies
from cairn.retraining.entry import State

HOUR = 3_600_000_000
DAY = 24 * HOUR
T0 = 1_772_323_200_000_000  # 2026-03-01 00:00 UTC, a Sunday


def policy(**body: Any) -> Policy:
    """A policy of the deployment ``credit`` with ``body`` (no schedule, no trigger unless
    given; cooldown 0 and a large budget unless given)."""
    data = {"deployment": "credit", "cooldown": 0, "budget": {"max_runs": 100}, **body}
    return parse_policies({"policies": {"p": data}})["p"]


def drifted(run_id: int, at: int, *features: str, band: str = "drift") -> Observation:
    """A monitoring run of ``credit`` in which ``features`` drifted."""
    signals = tuple(
        MonitoringSignal("drift", "credit", "m", "1", f, 0.4, 0.25, band, at=at)  # type: ignore[arg-type]
        for f in features
    )
    return Observation(run_id, "credit", at, signals)


class FakeLedger:
    """The ledger's rules (one entry per key, compare-and-set moves) in memory."""

    def __init__(self) -> None:
        self.rows: list[LedgerEntry] = []

    def record(self, decisions: Sequence[Decision]) -> list[LedgerEntry]:
        out = []
        for d in decisions:
            found = [e for e in self.rows if e.key == d.key]
            if not found:
                state: State = "decided" if d.runs else "skipped"
                entry = LedgerEntry(
                    len(self.rows) + 1, d.policy, d.trigger, d.window, d.action, state,
                    d.reason, d.at, dict(d.numbers),
                )  # fmt: skip
                self.rows.append(entry)
                found = [entry]
            out.append(found[0])
        return out

    def finish(self) -> None:
        """Every run in flight ends (its candidate was refused), so the next may start."""
        self.rows = [
            e if not e.in_flight else LedgerEntry(**{**e.__dict__, "state": "refused"})
            for e in self.rows
        ]
