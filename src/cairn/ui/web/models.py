"""The Models pages' data: the registered models (paged), and one model's versions with their
run metrics side by side, review decisions, awaiting reviews and alias history.

Everything is read through :class:`cairn.registry.models.ModelRegistry` (``list_models``,
``show``, ``policy``) — what ``cairn models list|show`` and ``GET /v1/models/{name}`` show —
and each version's training run through the project's tracker (its metrics). Metrics are read
for the versions on the page only, in one search of the tracking store
(:meth:`cairn.tracking.Tracker.get_runs`), so a model with a thousand versions costs one query
for one page of runs; review decisions are read in one query for all versions
(:meth:`cairn.registry.ApprovalStore.latest_by_version`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cairn.ui.web.overview import PendingReview, pending_reviews
from cairn.ui.web.paging import Page, PageNotFound, paginate

if TYPE_CHECKING:
    from cairn.app.project import Project
    from cairn.registry.aliases import AliasMove
    from cairn.registry.models import ModelSummary
    from cairn.registry.promotion import PromotionPolicy

__all__ = [
    "MetricRow",
    "ModelPage",
    "VersionRow",
    "gather_model",
    "gather_models",
    "metric_rows",
]


@dataclass(frozen=True)
class VersionRow:
    """One version as the model page lists it."""

    version: str
    family: str
    author: str | None
    created: datetime | None
    run_id: str | None
    aliases: list[str]
    decision: str | None
    reviewer: str | None
    ticket: str | None
    reviewed: datetime | None


@dataclass(frozen=True)
class MetricRow:
    """One metric across the page's versions: ``values[i]`` of ``versions[i]`` (None: not
    logged), and whether each differs from the reference version's value."""

    name: str
    values: list[float | None]
    differs: list[bool]


@dataclass(frozen=True)
class ModelPage:
    """One model: its versions (paged, newest first), their metrics side by side against the
    ``reference`` version (the champion, else the newest), its alias history, awaiting
    reviews and promotion policy."""

    name: str
    aliases: dict[str, str]
    policy: PromotionPolicy
    versions: Page[VersionRow]
    reference: str | None
    metrics: list[MetricRow]
    history: list[AliasMove]
    pending: list[PendingReview]
    warnings: list[str]


def gather_models(project: Project, page: int) -> Page[ModelSummary]:
    """Page ``page`` of the registered models, by name."""
    return paginate(sorted(project.registry.list_models(), key=lambda m: m.name), page)


def gather_model(project: Project, name: str, page: int) -> ModelPage:
    """The page of model ``name`` (:class:`PageNotFound` when no such model is registered)."""
    from cairn.tracking import UnknownModelError

    registry = project.registry
    try:
        details = registry.show(name)
    except UnknownModelError as exc:
        raise PageNotFound(str(exc)) from None
    rows = [
        VersionRow(
            v.version.version,
            v.version.tags.get("cairn.flavor", "lightgbm"),
            v.version.author,
            v.version.created_at,
            v.version.run_id,
            list(v.version.aliases),
            None if v.approval is None else v.approval.decision,
            None if v.approval is None else v.approval.reviewer,
            None if v.approval is None else v.approval.ticket,
            None if v.approval is None else v.approval.at,
        )
        for v in reversed(details.versions)
    ]
    versions = paginate(rows, page)
    aliases = dict(sorted(details.model.aliases.items()))
    shown = [r.version for r in versions.items]
    reference = aliases.get("champion", shown[0] if shown else None)
    wanted = {r.version: r.run_id for r in versions.items}
    if reference is not None and reference not in wanted:
        wanted[reference] = next((r.run_id for r in rows if r.version == reference), None)
    found = project.tracker.get_runs(r for r in wanted.values() if r is not None)  # one search
    runs = {
        v: dict(found[r].metrics) if r is not None and r in found else {} for v, r in wanted.items()
    }
    return ModelPage(
        name,
        aliases,
        registry.policy(name),
        versions,
        reference,
        metric_rows(shown, runs, reference),
        list(details.history),
        pending_reviews(project, name, details),
        list(details.warnings),
    )


def metric_rows(
    versions: list[str], metrics: dict[str, dict[str, float]], reference: str | None
) -> list[MetricRow]:
    """Every metric logged by any of ``versions``, their values side by side, and which differ
    from the ``reference`` version's value (a difference of more than 1e-12).

    Example
    -------
    >>> rows = metric_rows(["2", "1"], {"2": {"auc": 0.8}, "1": {"auc": 0.7, "ks": 0.4}}, "1")
    >>> [(r.name, r.values, r.differs) for r in rows]
    [('auc', [0.8, 0.7], [True, False]), ('ks', [None, 0.4], [True, False])]
    """
    names = sorted({k for v in versions for k in metrics.get(v, {})})
    base = metrics.get(reference, {}) if reference is not None else {}
    out = []
    for name in names:
        values = [metrics.get(v, {}).get(name) for v in versions]
        ref = base.get(name)
        differs = [
            (value is None) != (ref is None)
            or (value is not None and ref is not None and abs(value - ref) > 1e-12)
            for value in values
        ]
        out.append(MetricRow(name, values, differs))
    return out
