"""The canary controller: judges every active canary from the prediction log, on a schedule.

Each evaluation reads one SQL aggregate per canary from the project's prediction log (primary
rows of the ``control`` and ``canary`` arms under the canary's assignment seed since the stage
began: rows, distinct units, errors, latency sums, p99 and its order-statistic bounds), and the
arms' scores, decisions and observed outcomes (:func:`cairn.rollouts.quality.stage_scores`;
at the last stage also the candidate's shadow comparison), hands them to
:func:`cairn.experiments.gates.evaluate_gates` (plumbing and model-quality gates), and acts
through the :class:`~cairn.rollouts.service.RolloutService`:

- ``advance`` moves to the next stage; passing the stage before 100 % **promotes** (the step
  to full traffic is the promotion: the candidate becomes champion under the governance
  rules and the deployment serves it alone); a candidate nobody approved yet holds instead,
  naming the approval it needs;
- ``rollback`` sends all traffic back to the control at once; ``hold`` pauses (a
  sample-ratio mismatch) until an operator resumes with ``cairn deploy set --state active``;
- ``wait`` changes nothing and is not audited (it repeats every interval).

Every change is written with the spec version it judged (``expected_version``), so an
operator's change in between wins and the controller's is dropped; and every change is an
audit event carrying the gate that decided and its numbers. Run it with
``cairn deploy watch`` (``--once`` for one evaluation).

Runs as a singleton (:mod:`cairn.metadata.singleton`): :meth:`CanaryController.run` holds the
project's canary-controller lock (:data:`LOCK_NAME`; a PostgreSQL advisory lock, or a file
lock beside an SQLite database) for as long as it runs, and :meth:`CanaryController.run_once`
for its one evaluation. A second controller stands by and takes over within a poll once the
first one stops or dies (the lock dies with its connection or process).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import duckdb

from cairn.auth.principal import AccessDeniedError, Principal
from cairn.core.gate_policy import GatePolicy
from cairn.core.predictions import LogReader
from cairn.experiments.gates import P99, ArmStats, GateDecision, evaluate_gates
from cairn.experiments.stats import Proportion, SampleMean
from cairn.registry.errors import GovernanceError
from cairn.rollouts.quality import canary_version, candidate_shadow, stage_scores
from cairn.rollouts.requests import RolloutUpdate
from cairn.rollouts.service import RolloutService
from cairn.rollouts.spec import RolloutSpec
from cairn.rollouts.store import ConflictError

logger = logging.getLogger("cairn.rollout")
ACTOR = "cairn-controller"
#: Who the controller acts as: a system principal that may promote (approver) — the candidate
#: still needs its approvals by people, so the controller never approves anything itself.
CONTROLLER = Principal(ACTOR, "approver", via="system:controller")
ARMS = ("control", "canary")
LOCK_NAME = "cairn-canary:{project}"
"""The singleton lock of a project's canary controller."""
DEFERRED = "deferred"
"""The note of the step :meth:`CanaryController.run_once` returns when another controller
holds the lock (it judges the canaries; nothing was judged here)."""
SETTLE_S = 2.0
"""Seconds at the start of a stage whose rows are not judged (two server polls)."""

ARM_STATS_SQL = """
WITH rows AS (
    SELECT arm, latency_ms, error IS NOT NULL AS failed,
           coalesce(unit_id, prediction_id) AS unit,
           row_number() OVER (PARTITION BY arm ORDER BY latency_ms) AS k,
           count(*) OVER (PARTITION BY arm) AS n
    FROM predictions
    WHERE deployment = $deployment AND strategy = 'canary' AND seed = $seed
      AND arm IN ('control', 'canary') AND NOT coalesce(shadow, false) AND epoch_us(time) >= $since
)
SELECT arm, count(*) AS n, count(DISTINCT unit) AS units, sum(failed::INTEGER) AS errors,
       sum(latency_ms) AS latency_sum, sum(latency_ms * latency_ms) AS latency_squares,
       quantile_cont(latency_ms, $q) AS p99,
       max(latency_ms) FILTER (WHERE k <= floor(n * $q - $z * sqrt(n * $q * (1 - $q)))) AS low,
       min(latency_ms) FILTER (WHERE k >= ceil(n * $q + $z * sqrt(n * $q * (1 - $q))) + 1)
           AS high
FROM rows GROUP BY arm
"""
"""Per-arm sufficient statistics; the p99 bounds use the ranks of
:func:`cairn.experiments.gates.quantile_ranks`."""


def arm_stats(
    con: duckdb.DuckDBPyConnection,
    deployment: str,
    seed: str,
    since: int,
    *,
    alpha: float = 0.05,
) -> dict[str, ArmStats]:
    """Both arms' numbers from the ``predictions`` relation of ``con``: primary rows of the
    canary with assignment ``seed`` (rows a previous rollout served do not count, however long
    the servers took to load the new one) logged since ``since`` (epoch µs). An arm without
    rows is empty.

    Example
    -------
    >>> import tempfile
    >>> from cairn.serving.log_reader import PredictionLog
    >>> with PredictionLog(tempfile.mkdtemp()).connect() as con:
    ...     stats = arm_stats(con, "credit", "credit-canary-1", 0)
    >>> stats["canary"].n, stats["control"].p99
    (0, 0.0)
    """
    z = NormalDist().inv_cdf(1 - alpha)
    params = {"deployment": deployment, "seed": seed, "since": since, "q": P99, "z": z}
    found = {row[0]: row for row in con.execute(ARM_STATS_SQL, params).fetchall()}
    out: dict[str, ArmStats] = {}
    for arm in ARMS:
        _, n, units, errors, total, squares, p99, low, high = found.get(
            arm, (arm, 0, 0, 0, 0.0, 0.0, 0.0, None, None)
        )
        out[arm] = ArmStats(
            units=int(units),
            errors=Proportion(int(n), float(errors or 0)),
            latency=SampleMean(int(n), float(total or 0.0), float(squares or 0.0)),
            p99=float(p99 or 0.0),
            p99_low=-math.inf if low is None else float(low),
            p99_high=math.inf if high is None else float(high),
        )
    return out


def gate_policy(gate: GatePolicy) -> GatePolicy:
    """The gate thresholds of a rollout (a rollout's ``gate`` is the
    :class:`~cairn.core.gate_policy.GatePolicy` itself; kept for 0.1 callers).

    Example
    -------
    >>> gate_policy(GatePolicy(min_samples=50)).min_samples
    50
    """
    return gate


@dataclass(frozen=True)
class ControllerStep:
    """One canary judged once: what the gates decided, and what was stored (None: nothing,
    a wait, or a conflict named in ``note``)."""

    deployment: str
    version: int
    percent: float
    decision: GateDecision
    update: RolloutUpdate | None = None
    note: str = ""

    def line(self) -> str:
        """One line for a terminal or a log."""
        d = self.decision
        if self.note == DEFERRED:
            return d.reason
        done = f" -> {self.update.spec.strategy} v{self.update.spec.version}" if self.update else ""
        extra = f" ({self.note})" if self.note else ""
        model = d.model_line()
        model = f" | model: {model}" if model else ""
        return (
            f"{self.deployment} @ {self.percent:g}%: {d.action} [{d.gate}] {d.reason}{done}{extra}"
            f"{model}"
        )


class CanaryController:
    """Evaluates the gates of every active canary and moves them.

    Parameters
    ----------
    service:
        The project's rollout service (stores, audits, promotes under governance).
    log:
        The project's prediction log (``Project.predictions``), read with DuckDB.
    principal:
        Who the controller acts as (default :data:`CONTROLLER`, a system principal with the
        approver role; the audit log names it for every change).
    settle_s:
        Rows logged in the first ``settle_s`` seconds of a stage are not judged: servers apply
        a new stage when they next poll the rollout store (``CAIRN_ROLLOUT_POLL_SECONDS``,
        default 1 s), so those rows may still follow the previous stage's weights and would
        look like a sample-ratio mismatch.
    """

    def __init__(
        self,
        service: RolloutService,
        log: LogReader,
        *,
        principal: Principal = CONTROLLER,
        settle_s: float = SETTLE_S,
    ) -> None:
        self.service = service
        self.log = log
        self._reported: set[str] = set()
        self.principal = principal
        self.settle_s = settle_s

    def evaluate(self, spec: RolloutSpec, con: duckdb.DuckDBPyConnection) -> GateDecision:
        """The gates' decision on ``spec``'s current stage (changes nothing)."""
        policy = spec.gate
        since = spec.since + round(self.settle_s * 1_000_000)
        stats = arm_stats(con, spec.deployment, spec.seed, since, alpha=policy.alpha)
        percent = spec.stages[spec.stage]
        if percent >= 100.0:
            return GateDecision(
                "wait",
                "full_traffic",
                {"canary_n": stats["canary"].n},
                "the canary serves all traffic: no control to compare with; promote or roll "
                "back by hand (cairn deploy promote|rollback)",
            )
        last = spec.stages[spec.stage + 1] >= 100.0
        scores = stage_scores(con, spec.deployment, spec.seed, since)
        shadow = None
        if last and policy.evidence in ("shadow", "labels_or_shadow"):
            version = canary_version(con, spec.deployment, spec.seed)
            if version is not None:
                shadow = candidate_shadow(
                    con, spec.deployment, version, alpha=policy.alpha, n_star=policy.n_star
                )
        return evaluate_gates(
            stats["control"],
            stats["canary"],
            canary_share=percent / 100,
            policy=policy,
            last=last,
            quality=(scores["control"], scores["canary"]),
            shadow=shadow,
        )

    def step(self, spec: RolloutSpec, con: duckdb.DuckDBPyConnection) -> ControllerStep:
        """Judge ``spec`` once and act on the decision."""
        decision = self.evaluate(spec, con)
        percent = spec.stages[spec.stage]
        step = ControllerStep(spec.deployment, spec.version, percent, decision)
        if decision.action == "wait":
            return step
        details = decision.to_dict()
        args: dict[str, Any] = {
            "principal": self.principal,
            "reason": f"gate {decision.gate}: {decision.reason}",
            "expected_version": spec.version,
            "decision": details,
        }
        svc = self.service
        try:
            if decision.action == "advance":
                update = svc.advance(spec.deployment, **args)
            elif decision.action == "rollback":
                update = svc.rollback(spec.deployment, **args)
            elif decision.action == "hold":
                update = svc.hold(spec.deployment, **args)
            else:
                try:
                    update = svc.promote(spec.deployment, **args)
                except (GovernanceError, AccessDeniedError) as exc:
                    args["decision"] = {**details, "blocked": str(exc)}
                    args["reason"] = f"every gate passed; promotion refused: {exc}"
                    update = svc.hold(spec.deployment, **args)
                    return ControllerStep(
                        spec.deployment, spec.version, percent, decision, update, f"held: {exc}"
                    )
        except ConflictError as exc:
            return ControllerStep(
                spec.deployment, spec.version, percent, decision, None, f"skipped: {exc}"
            )
        return ControllerStep(spec.deployment, spec.version, percent, decision, update)

    def active(self) -> list[RolloutSpec]:
        """Every canary the controller is in charge of (strategy canary, state active)."""
        specs, _ = self.service.store.read_current()
        return [s for s in specs.values() if s.strategy == "canary" and s.state == "active"]

    def invalid(self) -> list[ControllerStep]:
        """A step for each stored rollout that no longer validates and was not reported yet:
        it is never judged (its gate policy cannot be trusted), and said once, not retried
        silently every interval."""
        _, invalid = self.service.store.read_current()
        steps = []
        for name, exc in sorted(invalid.items()):
            if str(exc) in self._reported:
                continue
            self._reported.add(str(exc))
            logger.error("%s", exc)
            decision = GateDecision("wait", "evaluation", {}, str(exc))
            steps.append(ControllerStep(name, 0, 0.0, decision, note="invalid stored rollout"))
        return steps

    @property
    def lock_name(self) -> str:
        """The project's canary-controller lock (:data:`LOCK_NAME`)."""
        return LOCK_NAME.format(project=self.service.store.project)

    def run_once(self, *, wait: float = 0.0) -> list[ControllerStep]:
        """Judge every active canary once, holding the project's canary-controller lock
        (waiting up to ``wait`` seconds for it); report each invalid stored rollout once.

        When another controller holds the lock, nothing is judged: the one step returned says
        so (note :data:`DEFERRED`)."""
        from cairn.metadata.singleton import turn

        with turn(self.service.store.engine, self.lock_name, wait_s=wait) as held:
            if held:
                return self._judge()
        reason = (
            f"another canary controller is active (waited {wait:g} s for its lock): it judges "
            "the canaries"
        )
        decision = GateDecision("wait", "evaluation", {"waited_s": wait}, reason)
        return [ControllerStep("*", 0, 0.0, decision, note=DEFERRED)]

    def _judge(self) -> list[ControllerStep]:
        """One evaluation of every active canary (one DuckDB connection over the log); the
        caller holds the lock."""
        canaries = self.active()
        steps: list[ControllerStep] = self.invalid()
        if not canaries:
            return steps
        with self.log.connect() as con:
            for spec in canaries:
                try:
                    steps.append(self.step(spec, con))
                except Exception as exc:  # one broken canary must not stop the others
                    logger.exception("Canary of %s: evaluation failed", spec.deployment)
                    failed = GateDecision("wait", "evaluation", {}, f"evaluation failed: {exc}")
                    steps.append(
                        ControllerStep(spec.deployment, spec.version, 0.0, failed, note="error")
                    )
        for s in steps:
            (logger.info if s.update else logger.debug)("%s", s.line())
        return steps

    def interval(self, default: float = 30.0) -> float:
        """Seconds until the next evaluation: the shortest gate interval of the canaries."""
        return min((s.gate.interval_s for s in self.active()), default=default)

    def run(
        self,
        stop: threading.Event,
        *,
        interval: float | None = None,
        on_steps: Callable[[list[ControllerStep]], None] | None = None,
        on_standby: Callable[[], None] | None = None,
        on_active: Callable[[], None] | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> bool:
        """Evaluate until ``stop`` is set, every ``interval`` seconds (default: the canaries'
        own gate intervals), holding the project's canary-controller lock (waiting for it
        first: ``on_standby`` is called once while another controller holds it, ``on_active``
        once it is taken; a lock lost with its database connection stops the evaluations,
        calls ``on_lost`` and stands by again: :func:`cairn.metadata.singleton.lead`). Returns
        False when ``stop`` was set before the lock was taken."""
        from cairn.metadata.singleton import lead

        def evaluate() -> list[ControllerStep]:
            try:
                return self._judge()
            except Exception:  # the log or the database is unreachable: try again later
                logger.exception("Canary evaluation failed")
                return []

        def pause() -> float:
            try:
                return interval if interval is not None else self.interval()
            except Exception:  # the database is unreachable: the default interval
                logger.exception("Canary interval unreadable")
                return 30.0

        return lead(
            self.service.store.engine, self.lock_name, stop, evaluate=evaluate, pause=pause,
            on_steps=on_steps, on_standby=on_standby, on_active=on_active, on_lost=on_lost,
        )  # fmt: skip
