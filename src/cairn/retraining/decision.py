"""A retraining decision: run or skip one trigger of one policy, with its reason and numbers.

The decision engine (:func:`cairn.retraining.decide.decide`) returns them; the ledger
(:class:`cairn.retraining.ledger.Ledger`) records each once under its **key**
``(policy, trigger, window)``. The window names the occasion deterministically, so evaluating
the same situation twice, or in two processes, gives the same key, and the ledger keeps one:

=============== ===========================================================================
trigger         window
=============== ===========================================================================
``schedule``    the slot, ``2026-03-09T05:00:00Z`` (UTC)
``drift``       the end of the latest monitoring window of the persistent streak
``performance`` the end of the judged monitoring window
``volume``      the end of the latest monitoring window counted
``manual``      what the caller names (an external scheduler's run id or logical date)
=============== ===========================================================================

Example
-------
>>> d = Decision("credit", "schedule", "2026-03-09T05:00:00Z", "run", "slot due", at=1)
>>> d.key, d.runs
(('credit', 'schedule', '2026-03-09T05:00:00Z'), True)
>>> Decision.from_dict(d.to_dict()) == d
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from cairn.core.timeutil import from_micros
from cairn.core.types import Micros

__all__ = ["ACTIONS", "TRIGGERS", "Action", "Decision", "Trigger", "window_of"]

Trigger = Literal["manual", "performance", "drift", "volume", "schedule"]
"""What started a decision, in the order the engine prefers them when several are due at once
(a person first, then the strongest evidence, then the calendar)."""
TRIGGERS: tuple[str, ...] = get_args(Trigger)

Action = Literal["run", "skip"]
"""``run``: retrain now; ``skip``: the trigger fired but a rule held it back (the reason says
which); both are recorded, so a skipped occasion is not reconsidered."""
ACTIONS: tuple[str, ...] = get_args(Action)


def window_of(at: Micros) -> str:
    """The window text of an instant: UTC, to the second, ``Z``-suffixed.

    Example
    -------
    >>> window_of(1_773_032_400_000_000)
    '2026-03-09T05:00:00Z'
    """
    return from_micros(at).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Decision:
    """What the engine decided for one trigger of one policy.

    Parameters
    ----------
    policy:
        The policy's name (its key in ``retraining.yaml``).
    trigger:
        What fired: ``schedule``, ``drift``, ``performance``, ``volume`` or ``manual``.
    window:
        The occasion, deterministic (see the module): with ``policy`` and ``trigger`` the
        ledger's unique key.
    action:
        ``run`` or ``skip``.
    reason:
        One sentence for people and the audit log (``"3 features in band drift for 3
        monitoring runs: age, income, score"``, ``"cooldown: 2d 4h left"``).
    at:
        When it was decided: the engine's clock (µs since the epoch, UTC).
    numbers:
        The evidence, JSON-ready (PSI values, drop, labeled rows, runs in the budget...).
    """

    policy: str
    trigger: Trigger
    window: str
    action: Action
    reason: str
    at: Micros
    numbers: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.trigger not in TRIGGERS:
            raise ValueError(
                f"Decision.trigger must be one of {', '.join(TRIGGERS)}; got {self.trigger!r}."
            )
        if self.action not in ACTIONS:
            raise ValueError(f"Decision.action must be run or skip; got {self.action!r}.")
        if not self.window:
            raise ValueError("Decision.window must be non-empty text.")

    @property
    def key(self) -> tuple[str, str, str]:
        """``(policy, trigger, window)``: what the ledger keeps once."""
        return (self.policy, self.trigger, self.window)

    @property
    def runs(self) -> bool:
        """Whether it says to retrain."""
        return self.action == "run"

    def describe(self) -> str:
        """One line for logs and people."""
        return f"{self.policy}: {self.action} {self.trigger} [{self.window}]: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "policy": self.policy,
            "trigger": self.trigger,
            "window": self.window,
            "action": self.action,
            "reason": self.reason,
            "at": self.at,
            "numbers": dict(self.numbers),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Decision:
        """The decision :meth:`to_dict` wrote."""
        return cls(
            policy=str(data["policy"]),
            trigger=data["trigger"],
            window=str(data["window"]),
            action=data["action"],
            reason=str(data["reason"]),
            at=int(data["at"]),
            numbers=dict(data.get("numbers") or {}),
        )
