"""The Overview page's data: every deployment with its rollout (strategy, arms, weights and
the versions they resolve to), the champion and challenger of its model, its traffic over the
last hour from the prediction log, its open monitoring signals; and the versions awaiting
review.

The rollout is what ``GET /v1/deployments/{name}/rollout`` shows
(:meth:`cairn.rollouts.RolloutService.routing`: the strategy, arms, weights and versions of its
``status``), the page's current rollouts read in one query
(:meth:`~cairn.rollouts.RolloutService.currents`); the traffic numbers are one DuckDB query
over the prediction log (:func:`traffic`; shadow rows are left out, as every reader of the log
does); open signals are those of each deployment's newest monitoring run
(:meth:`cairn.monitoring.history.MonitorHistory.latest`).

A version *awaits review* when no review decision is recorded for it and it is newer than its
model's champion (or the model has no champion): the champion move needs an approval under
four eyes (:mod:`cairn.registry.promotion`), so these are the versions a reviewer has not
looked at yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cairn.core.predictions import ModelRef
from cairn.core.timeutil import to_micros
from cairn.registry.resolver import RefResolver
from cairn.rollouts import RolloutService
from cairn.ui.web.paging import Page, paginate

if TYPE_CHECKING:
    from cairn.app.project import Project
    from cairn.core.signals import MonitoringSignal
    from cairn.registry.approvals import Approval
    from cairn.registry.models import ModelDetails
    from cairn.tracking import ModelVersionRecord, RegisteredModelRecord

__all__ = [
    "FEW",
    "WINDOW_SECONDS",
    "Arm",
    "DeploymentRow",
    "Overview",
    "PendingReview",
    "Traffic",
    "awaiting_review",
    "gather_overview",
    "pending_reviews",
    "traffic",
]

WINDOW_SECONDS = 3600
"""The traffic window of the Overview: the last hour."""

FEW = 10
"""Up to this many undecided versions newer than the champion are read one by one."""


@dataclass(frozen=True)
class Traffic:
    """One deployment's served predictions in a window (shadow scores left out)."""

    requests: int = 0
    errors: int = 0
    fallbacks: int = 0
    p99_ms: float | None = None
    seconds: int = WINDOW_SECONDS

    @property
    def per_minute(self) -> float:
        """Predictions per minute over the window."""
        return self.requests * 60 / self.seconds

    @property
    def error_rate(self) -> float | None:
        """Share of predictions whose arm failed and the control answered (None: none)."""
        return self.errors / self.requests if self.requests else None

    @property
    def fallback_share(self) -> float | None:
        """Share of predictions answered by a fallback (defaults or rules)."""
        return self.fallbacks / self.requests if self.requests else None


@dataclass(frozen=True)
class Arm:
    """One arm of a rollout: its model reference, the version it resolves to, its weight."""

    name: str
    model: str
    version: str | None
    weight: float
    problem: str | None = None
    """Why the reference resolves to no version (e.g. the model is not registered yet)."""


@dataclass(frozen=True)
class DeploymentRow:
    """One deployment on the Overview."""

    name: str
    model: str
    strategy: str
    state: str
    arms: list[Arm]
    shadows: list[str]
    champion: str | None
    challenger: str | None
    traffic: Traffic
    signals: list[MonitoringSignal] = field(default_factory=list)
    problem: str | None = None
    """Why the rollout could not be read (the deployment is still listed)."""


@dataclass(frozen=True)
class PendingReview:
    """A version no reviewer has decided on yet, newer than its model's champion."""

    model: str
    version: str
    author: str | None
    created: datetime | None
    aliases: list[str]


@dataclass(frozen=True)
class Overview:
    """The whole Overview page: one page of the deployments (by name), every review."""

    deployments: Page[DeploymentRow]
    pending: list[PendingReview]
    window_end: datetime


def gather_overview(project: Project, page: int = 1, *, now: datetime | None = None) -> Overview:
    """The Overview of ``project`` at ``now`` (default: the current time), with page ``page``
    of its deployments (their current rollouts read from the rollout store in one query)."""
    end = now or datetime.now(UTC)
    every = project.deployments()
    shown = paginate(sorted(every), page)
    deployments = {name: every[name] for name in shown.items}
    # the deployments read once for the page, not once per deployment from deployments.yaml
    rollouts = RolloutService(project.rollout_store, project.registry, every)
    # every shown deployment's current rollout from one query, not one query per deployment
    specs, invalid = rollouts.currents(deployments) if deployments else ({}, {})
    counts = traffic(project, end) if deployments else {}
    signals = _open_signals(project) if deployments else {}
    mlflow = project.registry.mlflow
    listed = mlflow.list_models()  # one query, every model's aliases with it
    models = {m.name: m.aliases for m in listed}
    # each arm resolved from the models just listed: no MLflow read per arm (only a pinned
    # NAME/VERSION is read, once); made afresh for every render, so a moved alias shows
    resolver = RefResolver(mlflow, listed)
    rows = []
    for name, dep in deployments.items():
        aliases = models.get(ModelRef.parse(dep.model).name, {})
        base: dict[str, Any] = {
            "name": name,
            "model": dep.model,
            "champion": aliases.get("champion"),
            "challenger": aliases.get("challenger"),
            "traffic": counts.get(name, Traffic()),
            "signals": signals.get(name, []),
        }
        try:
            if name in invalid:
                raise invalid[name]
            status = rollouts.routing(name, resolve=resolver.version, spec=specs[name])
        except Exception as exc:  # an invalid stored rollout: show the deployment and why
            rows.append(
                DeploymentRow(
                    **base, strategy="?", state="?", arms=[], shadows=[], problem=str(exc)
                )
            )
            continue
        rollout = status["rollout"]
        arms = [
            Arm(a["name"], a["model"], a.get("version"), a["weight"], a.get("error"))
            for a in status["arms"]
        ]
        shadows = [s["model"] for s in status["shadows"]]
        rows.append(
            DeploymentRow(
                **base,
                strategy=rollout["strategy"],
                state=rollout.get("state", "active"),
                arms=arms,
                shadows=shadows,
            )
        )
    pending = [p for m in listed for p in _awaiting(project, m)]
    return Overview(Page(rows, shown.number, shown.pages, shown.total), pending, end)


def traffic(project: Project, end: datetime, seconds: int = WINDOW_SECONDS) -> dict[str, Traffic]:
    """Per deployment: predictions, errors, fallbacks and the p99 latency (ms) logged in the
    ``seconds`` before ``end`` (shadow scores left out)."""
    start_us, end_us = to_micros(end) - seconds * 1_000_000, to_micros(end)
    result = project.predictions.query(
        "SELECT deployment, count(*), count(error), count(fallback), "
        "quantile_cont(latency_ms, 0.99) FROM predictions "
        f"WHERE NOT coalesce(shadow, false) AND epoch_us(time) > {start_us} "
        f"AND epoch_us(time) <= {end_us} GROUP BY deployment"
    )
    return {
        str(name): Traffic(int(n), int(errors), int(fallbacks), p99, seconds)
        for name, n, errors, fallbacks, p99 in result.rows
    }


def pending_reviews(
    project: Project, model: str, details: ModelDetails | None = None
) -> list[PendingReview]:
    """The versions of ``model`` awaiting review (see the module docstring)."""
    details = details or project.registry.show(model)
    return awaiting_review(
        model,
        details.model.aliases.get("champion"),
        [v.version for v in details.versions],
        {v.version.version: v.approval for v in details.versions if v.approval is not None},
    )


def awaiting_review(
    model: str,
    champion: str | None,
    versions: Iterable[ModelVersionRecord],
    decided: Mapping[str, Approval],
) -> list[PendingReview]:
    """The ``versions`` of ``model`` with no review decision in ``decided`` (version -> its
    latest decision) and newer than the ``champion`` version (see the module docstring)."""
    floor = int(champion) if champion is not None and champion.isdigit() else 0
    return [
        PendingReview(model, v.version, v.author, v.created_at, list(v.aliases))
        for v in versions
        if v.version not in decided and v.version.isdigit() and int(v.version) > floor
    ]


def _awaiting(project: Project, model: RegisteredModelRecord) -> list[PendingReview]:
    """:func:`awaiting_review` of one listed model, reading as few versions as it can: only
    the version numbers between its champion and its newest version (from the listing) that
    have no decision can await review; when there are at most :data:`FEW` of those, each is
    read alone (a deleted one is skipped), else every version is listed in one search."""
    from cairn.tracking import UnknownModelError

    mlflow = project.registry.mlflow
    champion = model.aliases.get("champion")
    decided = project.registry.approvals.latest_by_version(model.name)
    versions: list[ModelVersionRecord] | None = None
    newest = model.latest_version
    if newest is not None and newest.isdigit():
        floor = int(champion) if champion is not None and champion.isdigit() else 0
        open_ = [str(n) for n in range(floor + 1, int(newest) + 1) if str(n) not in decided]
        if len(open_) <= FEW:
            versions = []
            for number in open_:
                try:
                    versions.append(mlflow.get_version(model.name, number))
                except UnknownModelError:
                    continue  # deleted
    if versions is None:
        versions = mlflow.versions(model.name, model)  # the aliases as listed: no second read
    return awaiting_review(model.name, champion, versions, decided)


def _open_signals(project: Project) -> dict[str, list[MonitoringSignal]]:
    """The signals of each deployment's newest monitoring run."""
    from cairn.monitoring.history import MonitorHistory

    history = MonitorHistory(project.metadata, project=project.name)
    return {run.deployment: list(run.signals) for run in history.latest()}
