"""The Deployment page's data: one deployment's current rollout, its history, the canary
stages with every gate decision and its numbers, the A/B split with its sample-ratio check,
each shadow's agreement with the served model, and the arms' traffic over time.

Every number comes from the place the CLI and the HTTP API read it:

- the rollout is ``GET /v1/deployments/{name}/rollout``
  (:meth:`cairn.rollouts.RolloutService.status`) and the history
  ``GET /v1/deployments/{name}/rollout/history`` (:meth:`~cairn.rollouts.RolloutService.history`);
- the gate decisions are the audit entries the canary controller writes with each change it
  makes (:meth:`cairn.rollouts.RolloutService.decisions`: the gate, its numbers, its reason and
  the spec it judged, hence the stage); a ``wait`` changes nothing and is not recorded;
- the split and its sample-ratio test are those of ``cairn experiment analyze``
  (:func:`cairn.experiments.analyze_deployment`, whose check is
  :func:`cairn.experiments.stats.srm`), for the rollout's own assignment seed;
- a shadow's decision agreement and mean absolute score difference with the primaries it
  shadowed are :func:`cairn.retraining.promotion.shadow_progress` (what the retraining loop
  judges a shadow by), since the shadow joined the rollout;
- the arms' traffic is one DuckDB query over the prediction log (primary rows of the rollout's
  seed, per arm, in :data:`BUCKETS` equal slices of its time span).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cairn.core.deployments import Deployment, UnknownDeploymentError
from cairn.core.timeutil import to_micros
from cairn.rollouts import RolloutService
from cairn.rollouts.spec import RolloutSpec
from cairn.ui.web.overview import Arm
from cairn.ui.web.paging import Page, PageNotFound, paginate

if TYPE_CHECKING:
    from cairn.app.project import Project
    from cairn.experiments.analysis_results import ArmUnits
    from cairn.experiments.stats.results import SrmResult
    from cairn.registry.audit import AuditEntry
    from cairn.retraining.promotion import ShadowProgress
    from cairn.rollouts.store import RolloutChange

__all__ = [
    "BUCKETS",
    "DeploymentPage",
    "GateRecord",
    "ShadowRow",
    "Split",
    "Stage",
    "actions_for",
    "arm_traffic",
    "gather_deployment",
]

BUCKETS = 24
"""Slices of the rollout's time span in the arms' traffic."""


@dataclass(frozen=True)
class GateRecord:
    """One audited gate decision: what the gate decided, which gate, its numbers, and the
    change the controller made (``rollout.advanced``, ``.rolled_back``, ``.held`` ...)."""

    seq: int
    at: datetime
    change: str
    action: str
    gate: str
    reason: str
    numbers: dict[str, Any]
    stage: int | None
    percent: float | None
    blocked: str | None = None


@dataclass(frozen=True)
class Stage:
    """One canary stage: its traffic share (%), whether it is ``done``, ``current`` or
    ``ahead``, and the gate decisions taken at it."""

    index: int
    percent: float
    state: str
    decisions: list[GateRecord]


@dataclass(frozen=True)
class Split:
    """The A/B split of the rollout's experiment: units per arm with their configured weights,
    the sample-ratio test (None: not run, ``note`` says why)."""

    seed: str | None
    arms: list[ArmUnits]
    srm: SrmResult | None
    note: str | None


@dataclass(frozen=True)
class ShadowRow:
    """One shadow: its reference, the version it resolves to, since when it shadows, and
    its agreement with the primaries (None when it resolves to no version)."""

    model: str
    version: str | None
    since: datetime | None
    progress: ShadowProgress | None
    problem: str | None = None


@dataclass(frozen=True)
class DeploymentPage:
    """The whole Deployment page."""

    name: str
    model: str
    spec: RolloutSpec
    stored: bool
    arms: list[Arm]
    status: dict[str, Any]
    history: Page[RolloutChange]
    stages: list[Stage]
    decisions: list[GateRecord]
    split: Split | None
    shadows: list[ShadowRow]
    traffic: dict[str, list[tuple[int, int]]]
    actions: list[str]


def gather_deployment(project: Project, name: str, page: int = 1) -> DeploymentPage:
    """The Deployment page of ``name`` with page ``page`` of its rollout history (newest
    first); an unknown deployment is :class:`PageNotFound`."""
    every = project.deployments()  # read once for the page, not once per service call
    service = RolloutService(project.rollout_store, project.registry, every)
    try:
        dep = service.deployment(name)
    except UnknownDeploymentError as exc:
        raise PageNotFound(str(exc)) from None
    status = service.status(name)
    spec = RolloutSpec.from_dict(status["rollout"])
    changes = service.history(name)
    arms = [
        Arm(a["name"], a["model"], a.get("version"), a["weight"], a.get("error"))
        for a in status["arms"]
    ]
    decisions = [_record(e) for e in service.decisions(name) if _same_rollout(e, spec)]
    return DeploymentPage(
        name=name,
        model=dep.model,
        spec=spec,
        stored=bool(changes),
        arms=arms,
        status=status,
        history=paginate(list(reversed(changes)), page),
        stages=_stages(spec, decisions),
        decisions=decisions,
        split=_split(project, name, spec, every) if spec.strategy == "ab" else None,
        shadows=_shadows(project, name, status, changes),
        traffic=arm_traffic(project, name, spec.seed) if spec.strategy != "single" else {},
        actions=actions_for(spec, stored=bool(changes)),
    )


def actions_for(spec: RolloutSpec, *, stored: bool = True) -> list[str]:
    """The actions that apply to ``spec``: ``switch`` (blue-green), ``rollback`` (a canary,
    blue-green or A/B rollout still running), ``promote`` (a canary's or A/B test's candidate).

    Example
    -------
    >>> actions_for(RolloutSpec.blue_green("credit", "m/1", "m/2"))
    ['switch', 'rollback']
    >>> actions_for(RolloutSpec.single("credit", "m@champion"))
    []
    """
    if not stored or spec.strategy == "single":
        return []
    if spec.strategy == "blue-green":
        return ["switch", "rollback"]
    if spec.state in ("rolled_back", "promoted"):
        return []
    return ["rollback", "promote"]


def arm_traffic(project: Project, name: str, seed: str | None) -> dict[str, list[tuple[int, int]]]:
    """Per arm, ``(slice start in µs, predictions)`` over :data:`BUCKETS` equal slices of the
    time span of the primary rows logged under ``seed`` (empty: none)."""
    if seed is None:
        return {}
    result = project.predictions.query(
        "WITH r AS (SELECT arm, epoch_us(time) AS t FROM predictions WHERE deployment = "
        f"{_quote(name)} AND seed = {_quote(seed)} AND NOT coalesce(shadow, false)), "
        "b AS (SELECT min(t) AS lo, max(t) - min(t) + 1 AS span FROM r) "
        f"SELECT arm, lo, span, least(floor((t - lo) * {BUCKETS} / span), {BUCKETS - 1}) AS k, "
        "count(*) FROM r, b GROUP BY arm, lo, span, k ORDER BY arm, k"
    )
    if not result.rows:
        return {}
    lo, span = int(result.rows[0][1]), int(result.rows[0][2])
    counts: dict[str, dict[int, int]] = {}
    for arm, _, _, k, n in result.rows:
        counts.setdefault(str(arm), {})[int(k)] = int(n)
    starts = [lo + k * span // BUCKETS for k in range(BUCKETS)]
    return {
        arm: [(starts[k], by_k.get(k, 0)) for k in range(BUCKETS)] for arm, by_k in counts.items()
    }


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _same_rollout(entry: AuditEntry, spec: RolloutSpec) -> bool:
    before = entry.details.get("before") or {}
    return bool(before.get("seed") == spec.seed and before.get("strategy") == spec.strategy)


def _record(entry: AuditEntry) -> GateRecord:
    gate = entry.details["gate"]
    before = entry.details.get("before") or {}
    stage = before.get("stage")
    stages = before.get("stages") or []
    percent = stages[stage] if isinstance(stage, int) and stage < len(stages) else None
    return GateRecord(
        seq=entry.seq,
        at=entry.at,
        change=entry.action,
        action=str(gate.get("action", "")),
        gate=str(gate.get("gate", "")),
        reason=str(gate.get("reason", "")),
        numbers=dict(gate.get("numbers") or {}),
        stage=stage if isinstance(stage, int) else None,
        percent=percent,
        blocked=gate.get("blocked"),
    )


def _stages(spec: RolloutSpec, decisions: list[GateRecord]) -> list[Stage]:
    if spec.strategy != "canary":
        return []
    stages = []
    for i, percent in enumerate(spec.stages):
        if spec.state == "promoted" or i < spec.stage:
            state = "done"
        elif i == spec.stage:
            state = "current" if spec.state in ("active", "held") else spec.state
        else:
            state = "ahead"
        stages.append(Stage(i, percent, state, [d for d in decisions if d.stage == i]))
    return stages


def _split(
    project: Project, name: str, spec: RolloutSpec, deployments: Mapping[str, Deployment]
) -> Split:
    """What ``cairn experiment analyze NAME --experiment SEED`` says of the split."""
    from cairn.core.errors import ConfigError
    from cairn.experiments import MetricCatalog, analyze_deployment

    catalog = MetricCatalog.load(project.root)
    # the units per arm and their check do not depend on the metrics: analyze one, not all
    first = next(iter(catalog.for_deployment(deployments.get(name)).metrics))
    try:
        analysis = analyze_deployment(
            project.predictions,
            name,
            [first],
            catalog=catalog,
            splits=project.rollout_store,
            seed=spec.seed,
            deployments=deployments,
        )
    except ConfigError as exc:  # no prediction logged under this rollout's seed yet
        return Split(spec.seed, [], None, str(exc))
    return Split(analysis.experiment, list(analysis.arms), analysis.srm, analysis.srm_note)


def _shadows(
    project: Project, name: str, status: dict[str, Any], changes: list[RolloutChange]
) -> list[ShadowRow]:
    from cairn.retraining.promotion import shadow_progress

    rows = []
    now = datetime.now(UTC)
    for shadow in status["shadows"]:
        ref, version = shadow["model"], shadow.get("version")
        since = _shadowing_since(ref, changes)
        if version is None:
            rows.append(ShadowRow(ref, None, since, None, shadow.get("error")))
            continue
        pinned = f"{ref.partition('@')[0].partition('/')[0]}/{version}"
        start = to_micros(since) if since is not None else 0
        progress = shadow_progress(project, name, pinned, since=start, now=to_micros(now))
        rows.append(ShadowRow(ref, version, since, progress))
    return rows


def _shadowing_since(ref: str, changes: list[RolloutChange]) -> datetime | None:
    """When ``ref`` joined the shadows of the rollout it is still in (None: implicit)."""
    since = None
    for change in changes:
        since = (since or change.at) if ref in change.spec.shadows else None
    return since
