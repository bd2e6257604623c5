"""The replay loop of a backtest (:func:`cairn.retraining.backtest.backtest` sets it up).

At each simulated time ``t``: promotions due by ``t`` take effect; each strategy's model in
force scores the window ``[t - window, t)`` (hindsight AUC for the report); the policy's
model in force is monitored and the decision engine decides on the observations so far and
the simulated ledger; the fixed schedule decides on its due slot; each run trains a candidate
on the data known at ``t`` (one per ``t``, shared by the strategies: same data, same model),
is gated against the strategy's model in force and, when it passes, waits for its shadow
criteria.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from cairn.core.errors import CairnError, DataError
from cairn.core.timeutil import format_duration, from_micros, to_micros
from cairn.core.types import Micros
from cairn.retraining.backtest_data import History, Indices, load_history
from cairn.retraining.backtest_model import Candidate, SimModel, fit_at
from cairn.retraining.backtest_monitor import Watch, observe
from cairn.retraining.backtest_report import STRATEGIES, BacktestReport, DecisionLine, WindowResult
from cairn.retraining.backtest_strategy import Strategy, fixed_decisions
from cairn.retraining.decide import decide
from cairn.retraining.decision import Decision, window_of
from cairn.retraining.gates import GateReport, judge_gates
from cairn.retraining.inputs import Observation
from cairn.retraining.policy import Policy
from cairn.retraining.schedule import Schedule
from cairn.training.config import TrainConfig
from cairn.training.metrics import evaluate

if TYPE_CHECKING:
    from cairn.app.project import Project

__all__ = ["DAY", "DEFAULT_EVERY", "DEFAULT_FIXED", "Replay"]

SECOND: Micros = 1_000_000
DAY: Micros = 86_400 * SECOND
DEFAULT_EVERY: Micros = 30 * DAY
"""The default step of the simulated clock and width of a monitoring window."""
DEFAULT_FIXED: Micros = 90 * DAY
"""The default period of the fixed schedule (when the policy has no cron)."""


class Replay:
    """One backtest of policy ``name`` over ``[start, end)``; :meth:`run` plays it."""

    def __init__(
        self,
        project: Project,
        name: str,
        policy: Policy,
        *,
        start: Micros,
        end: Micros,
        every: Micros,
        window: Micros,
    ) -> None:
        self.name, self.policy = name, policy
        self.start, self.end, self.every, self.window = start, end, every, window
        self.root = project.root
        self.project = project
        self.deployment = project.deployment(policy.deployment)
        self.settings = project.settings.monitoring
        self.config = TrainConfig.from_yaml(project.root / policy.training)
        lag = self.deployment.label.maturity
        since = start - max(policy.data_window.lookback, window + lag)
        self.history: History = load_history(
            project.features, self.config, policy, since=since, until=end, root=project.root
        )
        self._candidates: dict[Micros, Candidate] = {}

    def candidate(self, at: Micros) -> Candidate:
        """The model a run at ``at`` trains (trained once per time)."""
        if at not in self._candidates:
            self._candidates[at] = fit_at(self.history, self.config, self.policy, at)
        return self._candidates[at]

    def run(self, fixed_every: Micros | None) -> BacktestReport:
        """Play every step and report."""
        try:
            initial = self.candidate(self.start).model
        except DataError as exc:
            raise DataError(
                f"cannot train the initial model at {from_micros(self.start):%Y-%m-%d}: {exc}."
            ) from None
        runs = {s: Strategy(s, served=[(self.start, initial)]) for s in STRATEGIES}
        schedule = self.policy.when if fixed_every is None else None
        fixed = fixed_every or DEFAULT_FIXED
        fixed_text = (
            f"cron {schedule.cron} ({schedule.timezone})"
            if schedule is not None
            else f"every {format_duration(fixed)}"
        )
        seen: list[Observation] = []
        windows: list[WindowResult] = []
        taken: set[Micros] = set()
        first = window_of(self.start)
        t = self.start + self.every
        while t <= self.end:
            for strategy in runs.values():
                strategy.promote(t)
            rows = self.history.rows(t - self.window, t)
            if len(rows) == 0:
                raise DataError(
                    f"the monitoring window [{from_micros(t - self.window):%Y-%m-%d}, "
                    f"{from_micros(t):%Y-%m-%d}) holds no entity row of "
                    f"{self.config.source}: nothing to monitor or score."
                )
            watch = self._monitor(runs["policy"], t, len(windows) + 1)
            if watch is not None:
                seen.append(watch.observation)
            windows.append(self._result(runs, rows, t, None if watch is None else watch.to_dict()))
            decided = decide(self.name, self.policy, now=t, observations=seen,
                             past=runs["policy"].ledger)  # fmt: skip
            self._act(runs["policy"], [d for d in decided if not _stale(d, first)], t)
            slot = self._slot(t, fixed, schedule)
            if slot is not None and slot not in taken:
                taken.add(slot)
                self._act(runs["fixed"], fixed_decisions(
                    self.name, self.policy, runs["fixed"], now=t, slot=slot, text=fixed_text
                ), t)  # fmt: skip
            t += self.every
        return self._report(initial.to_dict(), windows, runs, fixed_text)

    # -- one step ----------------------------------------------------------------------------

    def _monitor(self, strategy: Strategy, t: Micros, run_id: int) -> Watch | None:
        """The policy's monitoring run at ``t``, on its model in force's own traffic."""
        h = self.history
        index, model = strategy.serving(t)
        rows = h.rows(t - self.window, t)
        lag = self.deployment.label.maturity
        judged = h.rows(t - self.window - lag, t - lag)
        return observe(
            model, h, rows=rows[strategy.assign(h.times[rows]) == index],
            judged=judged[strategy.assign(h.times[judged]) == index], at=t, run_id=run_id,
            deployment=self.deployment, model_name=self.config.model_name,
            settings=self.settings,
        )  # fmt: skip

    def _result(
        self, runs: dict[str, Strategy], rows: Indices, t: Micros, watch: dict[str, Any] | None
    ) -> WindowResult:
        labels = self.history.labels[rows]
        has = ~np.isnan(labels)
        auc: dict[str, float | None] = {}
        for name, strategy in runs.items():
            y, scores = labels[has], strategy.scores(self.history, rows)[has]
            both = len(np.unique(y)) == 2
            auc[name] = evaluate(y.astype(np.int64), scores)["auc"] if both else None
        return WindowResult(
            t - self.window, t, rows=len(rows), labeled=int(has.sum()),
            known=int((self.history.known_at[rows] <= t).sum()), auc=auc,
            model={name: s.serving(t)[1].name for name, s in runs.items()}, watch=watch,
        )  # fmt: skip

    def _slot(self, t: Micros, every: Micros, schedule: Schedule | None) -> Micros | None:
        """The fixed schedule's latest slot at or before ``t`` (None: none after start)."""
        if schedule is not None:
            latest = schedule.latest(from_micros(t))
            slot = None if latest is None else to_micros(latest)
        else:
            slot = self.start + (t - self.start) // every * every
        return slot if slot is not None and slot > self.start else None

    def _act(self, strategy: Strategy, decisions: list[Decision], t: Micros) -> None:
        for d in decisions:
            if not d.runs:
                strategy.record(DecisionLine(strategy.name, d, "skipped"))
                continue
            _, champion = strategy.serving(t)
            try:
                found = self.candidate(t)
            except CairnError as exc:
                strategy.record(DecisionLine(strategy.name, d, "failed", error=str(exc)))
                continue
            gate = self._gate(found, champion)
            name = found.model.name
            if not gate.passed:
                strategy.record(DecisionLine(strategy.name, d, "refused", name, gate))
                continue
            when = self._promotion(t)
            if when is not None:
                strategy.pending.append((len(strategy.lines), when, found.model))
            strategy.record(DecisionLine(strategy.name, d, "shadow", name, gate))

    def _gate(self, found: Candidate, champion: SimModel) -> GateReport:
        h, test, spec = self.history, found.test, self.policy.gates
        groups = None
        if spec.fairness_attribute is not None and spec.fairness_attribute in h.frame.columns:
            groups = h.frame[spec.fairness_attribute].iloc[test].astype("string").fillna("(none)")
        return judge_gates(
            spec, labels=h.labels[test], candidate=found.model.score(h, test),
            champion=champion.score(h, test), threshold=self.deployment.threshold,
            favorable=self.deployment.decision.favorable, groups=groups,
            quality=self._quality(found) if spec.quality else None,
            window={"start": from_micros(int(h.times[test[0]])).isoformat(),
                    "end": from_micros(int(h.times[test[-1]])).isoformat(),
                    "champion": champion.name},
        )  # fmt: skip

    def _quality(self, found: Candidate) -> dict[str, str | None]:
        """Each quality suite of the gates on its source's rows known at the candidate's time
        (as the controller runs them; results are not kept in the quality history)."""
        from cairn.retraining.training_step import quality_gate

        try:
            return quality_gate(self.project, self.policy, found.model.trained_at, record=False)
        except (CairnError, OSError) as exc:
            return {suite: str(exc).splitlines()[0] for suite in self.policy.gates.quality}

    def _promotion(self, t: Micros) -> Micros | None:
        """When a candidate that passed its gates at ``t`` is approved (None: not by the
        end): ``min_days`` after ``t`` and once it shadowed ``min_predictions`` rows."""
        shadow = self.policy.promotion.shadow
        when = t + round(shadow.min_days * DAY)
        if shadow.min_predictions:
            times = self.history.times
            nth = int(np.searchsorted(times, t, side="left")) + shadow.min_predictions - 1
            if nth >= len(times):
                return None
            when = max(when, (int(times[nth]) // SECOND + 1) * SECOND)
        return when if when <= self.end else None

    # -- the report --------------------------------------------------------------------------

    def _report(
        self,
        initial: dict[str, Any],
        windows: list[WindowResult],
        runs: dict[str, Strategy],
        fixed_text: str,
    ) -> BacktestReport:
        h = self.history
        lines = sorted(
            (line for s in ("policy", "fixed") for line in runs[s].lines),
            key=lambda line: (line.decision.at, line.strategy != "policy"),
        )
        assumptions = self._assumptions(fixed_text)
        return BacktestReport(
            policy=self.name, deployment=self.deployment.name, start=self.start, end=self.end,
            every=self.every, window=self.window, fixed=fixed_text, labels=h.rule.describe(),
            history={"rows": len(h), "from": from_micros(int(h.times[0])).isoformat(),
                     "to": from_micros(int(h.times[-1])).isoformat(), "digest": h.digest},
            initial=initial, windows=windows, decisions=lines, assumptions=assumptions,
        )  # fmt: skip

    def _assumptions(self, fixed_text: str) -> list[str]:
        shadow, first = self.policy.promotion.shadow, self.start + self.every
        out = [
            f"The initial model is trained at {from_micros(self.start):%Y-%m-%d} on the data "
            "known then (not the live champion, which saw data from the backtest's future).",
            f"Every {format_duration(self.every)} from {from_micros(first):%Y-%m-%d}, the "
            f"window of the last {format_duration(self.window)} is the traffic of each "
            "strategy's model in force; the policy's is monitored with the project's "
            "monitoring settings and the decision engine decides on it.",
            "Decisions, training and gates use only the labels known at the simulated time "
            f"({self.history.rule.describe()}); the AUC per window uses every label, also "
            "those known later (hindsight), to compare the strategies.",
            "A candidate that passes its gates is approved once its shadow criteria are met "
            f"({shadow.min_predictions} predictions and {shadow.min_days:g} days after the "
            "decision): the four-eyes approval is assumed given then, canary stages are not "
            "simulated, and it serves from that time.",
            f"The fixed schedule retrains {fixed_text}, gated and approved the same way, "
            "without triggers, cooldown or budget.",
            "Nothing is written: no MLflow run, registry version, ledger or audit entry.",
        ]
        if self.policy.gates.quality:
            out.append(
                "Quality gates run each suite on the rows of its source known at the "
                "candidate's time, as the controller does."
            )
        return out


def _stale(decision: Decision, first: str) -> bool:
    """A schedule slot at or before the start: the initial model was trained then."""
    return decision.trigger == "schedule" and decision.window <= first
