"""The retraining controller: decide, record, train, gate, and walk a candidate to approval.

One evaluation (:meth:`RetrainController.run_once`), per policy of ``retraining.yaml``:

1. **decide** — read the deployment's monitoring runs (observations of the model it serves)
   and the policy's ledger, ask the pure engine (:func:`cairn.retraining.decide.decide`) what
   is due, and record each decision once under its key ``(policy, trigger, window)`` *before*
   acting: a decision and its audit entry (``retraining.decided`` / ``retraining.skipped``)
   commit together, and an occasion already in the ledger is never recorded again;
2. **act** — move every run in flight one step at a time along the ledger's states, each
   move a compare-and-set on the state read, committed with its audit entry
   (``retraining.<state>``, subject ``retraining/<policy>``, with the step's numbers):
   ``decided -> training`` (whoever wins this move trains: :mod:`~.training_step`),
   ``-> trained`` (or ``refused`` by a data quality suite), ``-> gated`` or ``refused`` (the
   gates on the common out-of-time window: :mod:`~.gates`, :mod:`~.evaluation`),
   ``-> challenger -> shadow -> canary_proposed -> approved | rejected``
   (:mod:`~.promotion`). A step that must wait (a shadow still collecting predictions, a
   second person's approval, another rollout under way) says why and changes nothing.

Runs as a singleton (:mod:`cairn.metadata.singleton`): :meth:`RetrainController.run` holds the
project's retraining lock (a PostgreSQL advisory lock, or a file lock beside an SQLite
database) for as long as it runs; a second controller waits on the lock and takes over within
a poll once the first one stops or dies (the lock dies with its connection or process). A
controller killed mid-step resumes from the ledger: a run found in ``training`` is not trained
twice (:mod:`~.training_step`).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cairn.auth.principal import Principal
from cairn.core.errors import CairnError
from cairn.core.timeutil import from_micros, to_micros, utcnow
from cairn.core.types import Micros
from cairn.retraining.decide import decide
from cairn.retraining.entry import TERMINAL, LedgerEntry, State
from cairn.retraining.inputs import ManualRequest
from cairn.retraining.ledger import Ledger, LedgerConflict
from cairn.retraining.policy import RETRAINING_FILE, Policy, choose, load_policies

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from cairn.app.project import Project

__all__ = ["LOCK_NAME", "RETRAINER", "RetrainController", "RetrainStep"]

logger = logging.getLogger("cairn.retraining")
logger.addHandler(logging.NullHandler())

RETRAINER = Principal("cairn-retrain", "deployer", via="system:retraining")
"""Who the controller acts as without a token: it may train, set the ``challenger`` alias and
change rollouts (deployer); it never approves, so every candidate needs a person's approval."""
LOCK_NAME = "cairn-retrain:{project}"
"""The singleton lock of a project's retraining controller."""

Notify = Callable[[LedgerEntry, str, dict[str, Any]], object]


@dataclass(frozen=True)
class RetrainStep:
    """One thing the controller did (or waits for) on one ledger entry."""

    policy: str
    entry: int
    event: str
    """The state reached (``decided``, ``training``... ``approved``), or ``waiting``."""
    text: str
    numbers: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """One line for people."""
        return f"{self.policy} #{self.entry} {self.event}: {self.text}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "policy": self.policy,
            "entry": self.entry,
            "event": self.event,
            "text": self.text,
            "numbers": dict(self.numbers),
        }


class RetrainController:
    """Acts on a project's retraining policies (see the module).

    Parameters
    ----------
    project:
        The open project.
    principal:
        Who trains and changes rollouts (the author of retrained versions).
    clock:
        Now in µs since the epoch (tests and backtests pass a simulated one).
    notify:
        Called with ``(entry, event, numbers)`` after every recorded decision and move (a
        webhook); its failures are logged, never raised.
    """

    def __init__(
        self,
        project: Project,
        *,
        principal: Principal = RETRAINER,
        clock: Callable[[], Micros] | None = None,
        notify: Notify | None = None,
    ) -> None:
        from cairn.monitoring.history import MonitorHistory

        self.project = project
        self.principal = principal
        self.clock = clock or (lambda: to_micros(utcnow()))
        self.notify = notify
        self.ledger = Ledger(project.metadata, project=project.name)
        self.history = MonitorHistory(project.metadata, project=project.name)

    # -- the loop -----------------------------------------------------------------------------

    def policies(self) -> dict[str, Policy]:
        """The project's policies (read afresh: an edited file applies at the next evaluation)."""
        return load_policies(self.project.root / RETRAINING_FILE)

    def run(
        self,
        stop: threading.Event,
        *,
        interval: float = 60.0,
        on_steps: Callable[[list[RetrainStep]], None] | None = None,
        on_standby: Callable[[], None] | None = None,
        on_active: Callable[[], None] | None = None,
        on_lost: Callable[[], None] | None = None,
    ) -> bool:
        """Evaluate every ``interval`` seconds until ``stop`` is set, holding the project's
        retraining lock (waiting for it first: ``on_standby`` is called once while another
        controller holds it, ``on_active`` once it is taken; a lock lost with its database
        connection stops the evaluations, calls ``on_lost`` and stands by again:
        :func:`cairn.metadata.singleton.lead`). Returns False when ``stop`` was
        set before the lock was taken."""
        from cairn.metadata.singleton import lead

        def evaluate() -> list[RetrainStep]:
            try:
                return self._evaluate(None, None)
            except CairnError as exc:  # a bad policy file: say so, keep running
                logger.error("retraining evaluation failed: %s", exc)
                return []

        return lead(
            self._engine, self.lock_name, stop, evaluate=evaluate, pause=lambda: interval,
            on_steps=on_steps, on_standby=on_standby, on_active=on_active, on_lost=on_lost,
        )  # fmt: skip

    def run_once(
        self,
        *,
        policy: str | None = None,
        manual: ManualRequest | None = None,
        wait: float = 0.0,
    ) -> list[RetrainStep]:
        """One evaluation of every policy (or of ``policy``, with an optional ``manual``
        request for it): record what is due, then move each run in flight as far as it goes.

        Only the holder of the project's retraining lock acts (waiting up to ``wait``
        seconds for it): when another controller holds it, what is due is recorded and left
        to that controller, and the last step says so (event ``deferred``)."""
        from cairn.metadata.singleton import turn

        with turn(self._engine, self.lock_name, wait_s=wait) as held:
            if held:
                return self._evaluate(policy, manual)
        asked = [] if manual is None else [manual]
        steps = [
            s for name, p in self._chosen(policy).items() for s in self._decide(name, p, asked)
        ]
        steps.append(
            RetrainStep(
                policy or "*", 0, "deferred",
                "another retraining controller is active: what is due is recorded and it "
                "acts on it",
            )
        )  # fmt: skip
        return steps

    def _evaluate(self, policy: str | None, manual: ManualRequest | None) -> list[RetrainStep]:
        """One evaluation; the caller holds the lock (only the holder drives runs: a run
        found in ``training`` is then one whose controller died)."""
        policies = self._chosen(policy)
        steps: list[RetrainStep] = []
        for name, p in policies.items():
            steps += self._decide(name, p, [manual] if manual is not None else [])
            for entry in self.ledger.entries(name):
                if entry.in_flight:
                    steps += self.drive(name, p, entry)
        return steps

    @property
    def lock_name(self) -> str:
        """The project's retraining lock (:data:`LOCK_NAME`)."""
        return LOCK_NAME.format(project=self.project.name)

    @property
    def _engine(self) -> Engine:
        return self.project.metadata.engine

    def _chosen(self, policy: str | None) -> dict[str, Policy]:
        return choose(self.policies(), policy)

    # -- deciding -----------------------------------------------------------------------------

    def _decide(self, name: str, policy: Policy, manual: list[ManualRequest]) -> list[RetrainStep]:
        from cairn.retraining.observations import observations, served_model

        now = self.clock()
        model = served_model(self.project.deployments(), policy.deployment)
        seen = observations(self.history, policy.deployment, model=model)
        past = self.ledger.entries(name)
        out = []
        for d in decide(name, policy, now=now, observations=seen, past=past, manual=manual):
            entry, new = self.ledger.record_new(
                d, audit=self.project.audit, actor=self.principal.name
            )
            if new:
                out.append(self._said(entry, entry.state, d.reason, d.numbers))
        return out

    # -- acting -------------------------------------------------------------------------------

    def drive(self, name: str, policy: Policy, entry: LedgerEntry) -> list[RetrainStep]:
        """Move one entry as far as it goes now (a waiting step or a final state ends it)."""
        from cairn.retraining.actions import STEPS

        steps: list[RetrainStep] = []
        while entry.state not in TERMINAL:
            act = STEPS.get(entry.state)
            if act is None:
                break
            try:
                moved = act(self, policy, entry)
            except LedgerConflict:
                break  # another process moved it: it acts on it
            except CairnError as exc:
                moved = self._fail(entry, str(exc))
            except Exception as exc:
                logger.error(
                    "retraining %s #%d failed:\n%s", name, entry.id, traceback.format_exc()
                )
                moved = self._fail(entry, f"{type(exc).__name__}: {exc}")
            if isinstance(moved, RetrainStep):  # waiting
                steps.append(moved)
                break
            entry, step = moved
            steps.append(step)
        return steps

    def move(
        self,
        entry: LedgerEntry,
        state: State,
        text: str,
        numbers: dict[str, Any] | None = None,
        *,
        training_run_id: str | None = None,
    ) -> tuple[LedgerEntry, RetrainStep]:
        """Move ``entry`` to ``state`` with its audit entry, then notify."""
        numbers = dict(numbers or {})
        moved = self.ledger.advance(
            entry,
            state,
            numbers,
            reason=text,
            training_run_id=training_run_id,
            audit=self.project.audit,
            actor=self.principal.name,
            details={"text": text, "numbers": numbers},
        )
        return moved, self._said(moved, state, text, numbers)

    def wait(
        self, entry: LedgerEntry, text: str, numbers: dict[str, Any] | None = None
    ) -> RetrainStep:
        """A step that changes nothing: the entry waits (not audited, not notified)."""
        return RetrainStep(entry.policy, entry.id, "waiting", text, dict(numbers or {}))

    def _fail(self, entry: LedgerEntry, why: str) -> tuple[LedgerEntry, RetrainStep]:
        current = self.ledger.get(entry.id)
        if current.state != entry.state:
            raise LedgerConflict(f"entry #{entry.id} moved to {current.state} meanwhile")
        return self.move(current, "failed", f"failed in {entry.state}: {why}", {"error": why})

    def _said(
        self, entry: LedgerEntry, event: str, text: str, numbers: dict[str, Any]
    ) -> RetrainStep:
        if self.notify is not None:
            try:
                self.notify(entry, event, numbers)
            except Exception:
                logger.warning("retraining notification failed:\n%s", traceback.format_exc())
        return RetrainStep(entry.policy, entry.id, event, text, numbers)

    def holder(self) -> str:
        """``host:pid`` of this controller (kept with the runs it trains)."""
        return f"{socket.gethostname()}:{os.getpid()}"

    def at(self, micros: Micros) -> str:
        """An instant as ISO 8601 text."""
        return from_micros(micros).isoformat(timespec="seconds")
