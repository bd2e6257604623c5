"""A strategy of a backtest on its simulated clock: the models it put in force and since
when, its simulated ledger (plain :class:`~cairn.retraining.entry.LedgerEntry` values, never
the database), its decisions and the promotions waiting for their time.

Rows are scored by the model in force at their own time, so a window in which a candidate was
promoted is scored partly by each model, as the traffic was.

Example
-------
>>> import numpy as np
>>> s = Strategy("never", served=[(0, "initial"), (100, "new")])  # type: ignore[list-item]
>>> s.assign(np.array([-5, 50, 100, 150])).tolist(), s.serving(120)
([0, 0, 1, 1], (1, 'new'))
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from cairn.core.types import Micros
from cairn.retraining.backtest_data import History, Indices
from cairn.retraining.backtest_model import SimModel
from cairn.retraining.backtest_report import DecisionLine
from cairn.retraining.decide import decide
from cairn.retraining.decision import Decision, window_of
from cairn.retraining.entry import LedgerEntry, State
from cairn.retraining.inputs import ManualRequest
from cairn.retraining.policy import Policy, TriggersSpec

__all__ = ["Strategy", "fixed_decisions"]

_FINAL: dict[str, State] = {"skipped": "skipped", "refused": "refused", "failed": "failed"}
"""The ledger states of runs that ended at once (a passed candidate is in ``shadow``)."""


@dataclass
class Strategy:
    """One strategy's state on the simulated clock: the models it served since when, its
    simulated ledger, its decisions and the promotions waiting for their time."""

    name: str
    served: list[tuple[Micros, SimModel]]
    ledger: list[LedgerEntry] = field(default_factory=list)
    lines: list[DecisionLine] = field(default_factory=list)
    pending: list[tuple[int, Micros, SimModel]] = field(default_factory=list)
    """(line index, promotion time, model) of runs whose candidate passed its gates."""

    def assign(self, times: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """Per time, the position in :attr:`served` of the model in force then."""
        since = np.array([s for s, _ in self.served], dtype=np.int64)
        return np.maximum(np.searchsorted(since, times, side="right") - 1, 0)

    def serving(self, at: Micros) -> tuple[int, SimModel]:
        """The position and model in force at ``at``."""
        i = int(self.assign(np.array([at], dtype=np.int64))[0])
        return i, self.served[i][1]

    def scores(self, history: History, rows: Indices) -> npt.NDArray[np.float64]:
        """Each row scored by the model in force at its time."""
        out = np.zeros(len(rows), dtype=np.float64)
        which = self.assign(history.times[rows])
        for i in np.unique(which):
            mine = which == i
            out[mine] = self.served[int(i)][1].score(history, rows[mine])
        return out

    def promote(self, at: Micros) -> None:
        """Put in force every passed candidate whose promotion time came by ``at``."""
        for index, when, model in [p for p in self.pending if p[1] <= at]:
            self.served.append((when, model))
            line = self.lines[index]
            self.lines[index] = replace(line, state="approved", promoted_at=when)
            self._move(line, "approved")
        self.pending = [p for p in self.pending if p[1] > at]

    def record(self, line: DecisionLine) -> None:
        """Keep a decision and its ledger entry (the state its run reached)."""
        d = line.decision
        state = _FINAL.get(line.state, "shadow")
        self.ledger.append(
            LedgerEntry(
                len(self.ledger) + 1, d.policy, d.trigger, d.window, d.action, state, d.reason,
                d.at, dict(d.numbers),
            )
        )  # fmt: skip
        self.lines.append(line)

    def _move(self, line: DecisionLine, state: State) -> None:
        self.ledger = [
            replace(e, state=state) if e.key == line.decision.key else e for e in self.ledger
        ]


def fixed_decisions(
    name: str, policy: Policy, strategy: Strategy, *, now: Micros, slot: Micros, text: str
) -> list[Decision]:
    """The fixed schedule's decision for a due ``slot``: a run, or a skip while a run of the
    strategy is in flight (the engine's one-at-a-time rule; no trigger, cooldown or budget)."""
    calendar = policy.model_copy(update={"triggers": TriggersSpec(), "schedule": None})
    request = ManualRequest(window_of(slot), reason=f"fixed schedule ({text})")
    out = []
    for d in decide(name, calendar, now=now, past=strategy.ledger, manual=[request]):
        skipped = d.reason.partition("; skipped: ")[2]
        reason = f"slot {d.window} of the fixed schedule ({text}) is due"
        reason += f"; skipped: {skipped}" if skipped else ""
        numbers = {"slot": d.window, "schedule": text}
        out.append(replace(d, trigger="schedule", reason=reason, numbers=numbers))
    return out
