"""A ledger entry and the states it moves through.

A decision to run enters the ledger ``decided``; the controller then moves it along the path
below, one step at a time, each step adding its numbers. A decision to skip enters ``skipped``
and stays there. The graph is the one place the order is written: the ledger refuses any other
move.

.. code-block:: text

    decided -> training -> trained -> gated -> challenger -> shadow -> canary_proposed -> approved
                      \\-> refused  \\-> refused                                     \\-> rejected
    (any state before approved) -> failed          skipped (a skip decision; final)

* ``gated``: every gate passed; ``refused``: a gate failed (the numbers say which): a data
  quality suite before training, or a model gate after it;
* ``challenger``: registered under the ``challenger`` alias; ``shadow``: scored beside the
  champion; ``canary_proposed``: its shadow criteria met, a canary proposed, waiting for the
  four-eyes approval; ``approved`` / ``rejected``: what the second person said.

Example
-------
>>> can_move("training", "trained"), can_move("decided", "approved")
(True, False)
>>> sorted(TERMINAL)
['approved', 'failed', 'refused', 'rejected', 'skipped']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from cairn.core.types import Micros
from cairn.retraining.decision import Action, Trigger

__all__ = ["IN_FLIGHT", "STATES", "TERMINAL", "TRANSITIONS", "LedgerEntry", "State", "can_move"]

State = Literal[
    "decided",
    "training",
    "trained",
    "gated",
    "refused",
    "challenger",
    "shadow",
    "canary_proposed",
    "approved",
    "rejected",
    "failed",
    "skipped",
]
STATES: tuple[str, ...] = get_args(State)

TRANSITIONS: dict[str, frozenset[str]] = {
    "decided": frozenset({"training", "failed"}),
    "training": frozenset({"trained", "refused", "failed"}),
    "trained": frozenset({"gated", "refused", "failed"}),
    "gated": frozenset({"challenger", "failed"}),
    "challenger": frozenset({"shadow", "failed"}),
    "shadow": frozenset({"canary_proposed", "failed"}),
    "canary_proposed": frozenset({"approved", "rejected", "failed"}),
    "approved": frozenset(),
    "rejected": frozenset(),
    "refused": frozenset(),
    "failed": frozenset(),
    "skipped": frozenset(),
}
"""State -> the states it may move to."""
TERMINAL = frozenset(s for s, nexts in TRANSITIONS.items() if not nexts)
"""States an entry never leaves."""
IN_FLIGHT = frozenset(STATES) - TERMINAL
"""States of a run still under way: a policy starts no other run meanwhile."""


def can_move(state: str, to: str) -> bool:
    """Whether an entry in ``state`` may move to ``to``."""
    return to in TRANSITIONS.get(state, frozenset())


@dataclass(frozen=True)
class LedgerEntry:
    """One recorded decision and how far its run got.

    Parameters
    ----------
    id:
        The row's id.
    policy, trigger, window:
        The decision's key (unique in a project).
    action:
        ``run`` or ``skip``.
    state:
        Where its run is (see the module).
    reason:
        The decision's reason, or the latest step's.
    decided_at:
        When the engine decided it (its clock; µs since the epoch, UTC).
    numbers:
        The decision's evidence, merged with every step's numbers.
    created_at, updated_at:
        When the row was written and last changed (wall clock, UTC).
    training_run_id:
        The training run (MLflow run id) once training started.
    """

    id: int
    policy: str
    trigger: Trigger
    window: str
    action: Action
    state: State
    reason: str
    decided_at: Micros
    numbers: dict[str, Any] = field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    training_run_id: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """``(policy, trigger, window)``."""
        return (self.policy, self.trigger, self.window)

    @property
    def runs(self) -> bool:
        """Whether it records a run (not a skip)."""
        return self.action == "run"

    @property
    def in_flight(self) -> bool:
        """Whether its run is still under way."""
        return self.state in IN_FLIGHT

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601)."""
        return {
            "id": self.id,
            "policy": self.policy,
            "trigger": self.trigger,
            "window": self.window,
            "action": self.action,
            "state": self.state,
            "reason": self.reason,
            "decided_at": self.decided_at,
            "numbers": dict(self.numbers),
            "created_at": None if self.created_at is None else self.created_at.isoformat(),
            "updated_at": None if self.updated_at is None else self.updated_at.isoformat(),
            "training_run_id": self.training_run_id,
        }
