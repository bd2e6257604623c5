"""What a backtest reports: per window, each strategy's model in force and its AUC; every
decision of the policy and of the fixed schedule with its reason and gate numbers; a summary.

Three strategies are replayed over the same windows: ``policy`` (the policy's triggers,
cooldown, budget and gates), ``never`` (the initial model throughout) and ``fixed`` (a fixed
schedule, gated the same way). Times are µs since the epoch (UTC) on the values and ISO 8601 in
:meth:`BacktestReport.to_dict`.

Example
-------
>>> w = WindowResult(0, 10, rows=5, labeled=5, known=5, auc={"policy": 0.8, "never": 0.7,
...                  "fixed": None}, model={"policy": "m", "never": "m", "fixed": "m"})
>>> r = BacktestReport("p", "credit", 0, 10, 10, 10, "every 90d", "at once", {}, {}, [w], [])
>>> r.summary()["policy"]["mean_auc"], r.summary()["fixed"]["mean_auc"]
(0.8, None)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cairn.core.timeutil import format_duration, from_micros
from cairn.core.types import Micros
from cairn.retraining.decision import Decision
from cairn.retraining.gates import GateReport

__all__ = ["STRATEGIES", "BacktestReport", "DecisionLine", "WindowResult"]

STRATEGIES = ("policy", "never", "fixed")
"""The strategies replayed: the policy, never retraining, a fixed schedule."""


def _iso(at: Micros | None) -> str | None:
    return None if at is None else from_micros(at).isoformat()


@dataclass(frozen=True)
class WindowResult:
    """One monitoring window ``[start, end)`` of the replay."""

    start: Micros
    end: Micros
    rows: int
    labeled: int
    """Rows with a label (hindsight: every label, also those known later)."""
    known: int
    """Rows whose label was known at the window's end."""
    auc: Mapping[str, float | None]
    """Strategy -> AUC of the scores of its models in force, on hindsight labels (None: one
    class only)."""
    model: Mapping[str, str]
    """Strategy -> the model serving at the window's end."""
    watch: Mapping[str, Any] | None = None
    """What the policy's monitoring run saw (None: its model scored no row)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "start": _iso(self.start),
            "end": _iso(self.end),
            "rows": self.rows,
            "labeled": self.labeled,
            "known": self.known,
            "auc": dict(self.auc),
            "model": dict(self.model),
            "monitoring": None if self.watch is None else dict(self.watch),
        }


@dataclass(frozen=True)
class DecisionLine:
    """One decision of a strategy, and what became of its run."""

    strategy: str
    decision: Decision
    state: str
    """``skipped``, ``failed`` (training could not run), ``refused`` (a gate failed),
    ``shadow`` (passed, not promoted by the end) or ``approved`` (promoted)."""
    candidate: str | None = None
    gate: GateReport | None = None
    promoted_at: Micros | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        d = self.decision
        return {
            "strategy": self.strategy,
            "at": _iso(d.at),
            "trigger": d.trigger,
            "window": d.window,
            "action": d.action,
            "reason": d.reason,
            "numbers": dict(d.numbers),
            "state": self.state,
            "candidate": self.candidate,
            "gate": None if self.gate is None else self.gate.to_dict(),
            "promoted_at": _iso(self.promoted_at),
            "error": self.error,
        }


@dataclass(frozen=True)
class BacktestReport:
    """The replay of one policy over ``[start, end)``."""

    policy: str
    deployment: str
    start: Micros
    end: Micros
    every: Micros
    window: Micros
    fixed: str
    """The fixed schedule compared with (``every 90d`` or the policy's cron)."""
    labels: str
    """When a label counts as known (decisions and training use only known labels)."""
    history: Mapping[str, Any]
    """The rows replayed: count, time range, the training set's digest."""
    initial: Mapping[str, Any]
    """The initial model, trained at ``start`` on the data known then."""
    windows: list[WindowResult]
    decisions: list[DecisionLine]
    assumptions: list[str] = field(default_factory=list)

    def lines(self, strategy: str) -> list[DecisionLine]:
        """The decisions of one strategy, in time order."""
        return [line for line in self.decisions if line.strategy == strategy]

    def summary(self) -> dict[str, dict[str, Any]]:
        """Per strategy: runs, promotions, refusals, skips, the mean and the last AUC."""
        out: dict[str, dict[str, Any]] = {}
        for name in STRATEGIES:
            lines = self.lines(name)
            aucs = [w.auc.get(name) for w in self.windows]
            known = [a for a in aucs if a is not None]
            states = [line.state for line in lines]
            out[name] = {
                "runs": sum(1 for line in lines if line.decision.runs),
                "promoted": states.count("approved"),
                "refused": states.count("refused"),
                "failed": states.count("failed"),
                "skipped": states.count("skipped"),
                "promoted_at": [_iso(line.promoted_at) for line in lines if line.promoted_at],
                "mean_auc": sum(known) / len(known) if known else None,
                "last_auc": aucs[-1] if aucs else None,
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the same input gives the same dict)."""
        return {
            "policy": self.policy,
            "deployment": self.deployment,
            "start": _iso(self.start),
            "end": _iso(self.end),
            "every": format_duration(self.every),
            "window": format_duration(self.window),
            "fixed": self.fixed,
            "labels": self.labels,
            "history": dict(self.history),
            "initial": dict(self.initial),
            "summary": self.summary(),
            "windows": [w.to_dict() for w in self.windows],
            "decisions": [line.to_dict() for line in self.decisions],
            "assumptions": list(self.assumptions),
        }
