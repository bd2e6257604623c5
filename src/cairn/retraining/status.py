"""Where each retraining policy stands (``cairn retrain status``): its next scheduled slot, the
cooldown and budget left, what monitoring saw last, its ledger, and what the decision engine
would decide now. Read-only: nothing is recorded.

:func:`policy_status` is pure (a policy, a clock, observations and ledger entries in);
:func:`project_readings` reads them from a project — ``retraining.yaml``, the ledger, the
monitoring history — for ``cairn retrain status`` (:func:`project_status`) and the Prometheus
gauges (:mod:`cairn.retraining.gauges`), which also count the whole ledger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cairn.core.deployments import Deployment
from cairn.core.timeutil import from_micros, to_micros, utcnow
from cairn.core.types import Micros
from cairn.metadata import MetadataStore
from cairn.retraining.decide import decide
from cairn.retraining.entry import STATES, LedgerEntry
from cairn.retraining.inputs import Observation
from cairn.retraining.policy import RETRAINING_FILE, Policy, choose, load_policies

__all__ = [
    "PolicyReading",
    "PolicyStatus",
    "RetrainingProject",
    "policy_status",
    "project_readings",
    "project_status",
]


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


class RetrainingProject(Protocol):
    """What :func:`project_readings` reads of a project (:class:`cairn.app.Project` is one)."""

    @property
    def root(self) -> Path:
        """The project folder (``retraining.yaml`` is read there)."""
        ...

    @property
    def name(self) -> str:
        """The project's name (ledger and monitoring rows are kept under it)."""
        ...

    @property
    def metadata(self) -> MetadataStore:
        """The metadata database (the ledger and the monitoring history)."""
        ...

    def deployments(self) -> Mapping[str, Deployment]:
        """The deployments of ``deployments.yaml`` (which model a policy retrains)."""
        ...


@dataclass(frozen=True)
class PolicyReading:
    """One policy's status, with what its whole ledger holds (the status keeps only the
    latest entries).

    Parameters
    ----------
    status:
        The policy's :class:`PolicyStatus`.
    states:
        Entries per state, every state of :data:`~cairn.retraining.entry.STATES` (0: none).
    in_flight:
        Whether an entry's run is still under way.
    last_decided:
        ``(trigger, action)`` -> when the latest such decision was taken (µs, UTC).
    """

    status: PolicyStatus
    states: dict[str, int]
    in_flight: bool
    last_decided: dict[tuple[str, str], Micros]

    @classmethod
    def of(cls, status: PolicyStatus, entries: Sequence[LedgerEntry]) -> PolicyReading:
        """The reading of ``status`` over every ledger entry of its policy.

        Example
        -------
        >>> from cairn.retraining.policy import parse_policies
        >>> policy = parse_policies({"policies": {"credit": {"deployment": "credit"}}})["credit"]
        >>> r = PolicyReading.of(policy_status("credit", policy, now=10), [])
        >>> r.states["decided"], r.in_flight, r.last_decided
        (0, False, {})
        """
        states = dict.fromkeys(STATES, 0)
        last: dict[tuple[str, str], Micros] = {}
        for e in entries:
            states[e.state] = states.get(e.state, 0) + 1
            pair = (e.trigger, e.action)
            last[pair] = max(last.get(pair, e.decided_at), e.decided_at)
        return cls(status, states, any(e.in_flight for e in entries), last)


def project_readings(
    project: RetrainingProject, policy: str | None = None, *, now: Micros | None = None
) -> list[PolicyReading]:
    """Every policy of the project's ``retraining.yaml`` (or only ``policy``) at ``now``
    (default: the current time), from its ledger and the monitoring runs of the model its
    deployment serves. Nothing is recorded; without policies nothing else is read.

    Raises
    ------
    DataError
        When ``policy`` is not in ``retraining.yaml`` (the message names the policies).
    """
    from cairn.monitoring.history import MonitorHistory
    from cairn.retraining.ledger import Ledger
    from cairn.retraining.observations import observations, served_model

    chosen = choose(load_policies(project.root / RETRAINING_FILE), policy)
    if not chosen:
        return []
    ledger = Ledger(project.metadata, project=project.name)
    history = MonitorHistory(project.metadata, project=project.name)  # not the registry: fast
    deployments = project.deployments()
    at = to_micros(utcnow()) if now is None else now
    readings: list[PolicyReading] = []
    for name, p in chosen.items():
        model = served_model(deployments, p.deployment)
        seen = observations(history, p.deployment, model=model)
        past = ledger.entries(name)
        status = policy_status(name, p, now=at, observations=seen, past=past)
        readings.append(PolicyReading.of(status, past))
    return readings


def project_status(
    project: RetrainingProject, policy: str | None = None, *, now: Micros | None = None
) -> list[PolicyStatus]:
    """The status of every policy of the project (or only ``policy``) at ``now``: what
    ``cairn retrain status`` shows (see :func:`project_readings`).

    Example
    -------
    >>> import tempfile, pathlib
    >>> from cairn.app import Project
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (root / "cairn.yaml").write_text("project: demo")
    >>> _ = (root / "retraining.yaml").write_text(
    ...     "policies:\\n  monthly: {deployment: credit, schedule: {cron: '0 6 1 * *'}}\\n")
    >>> [s] = project_status(Project.open(root), now=1_773_039_600_000_000)
    >>> s.policy, s.to_dict()["next_slot"], s.ledger
    ('monthly', '2026-04-01T06:00:00+00:00', [])
    """
    return [r.status for r in project_readings(project, policy, now=now)]
