"""The Experiments pages' data: every A/B test and canary in the prediction log, and one
experiment's results with intervals and power plans.

An experiment is what ``cairn experiment list`` lists: the rows of one deployment's log with
one assignment seed (:func:`cairn.experiments.scope.logged_experiments`, over the deployments
of ``deployments.yaml``). Its *status* comes from the deployment's rollout history
(:meth:`cairn.rollouts.RolloutStore.histories`): ``running`` while the current rollout carries
its seed and is active, else the state its last rollout version ended in (``promoted``,
``rolled_back``, ``held``), or ``ended`` when a later rollout replaced it.

Results are :func:`cairn.experiments.analyze_deployment` (what ``cairn experiment analyze``
runs, with the same defaults: every metric of ``experiments.yaml`` as the deployment measures
it, Holm's correction, the split recorded in the rollout history for the sample-ratio check),
rendered with the experiment report's own view and macros
(:func:`cairn.experiments.report.analysis_view`, ``_experiments.html``). The list shows each
experiment's *key metric* (:func:`key_metric`: the first metric ``experiments.yaml``
declares, else ``positive_rate``) and its guardrails (the metrics declared ``guardrail:
true``), from one analysis of those metrics alone. Power plans are
:mod:`cairn.experiments.power` on the experiment's own design (:mod:`~cairn.ui.web.plans`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from cairn.core.errors import CairnError
from cairn.core.timeutil import utcnow
from cairn.experiments.deployment import analyze_logged
from cairn.experiments.metrics import MetricCatalog
from cairn.experiments.report import AnalysisView, MetricView, analysis_view
from cairn.experiments.scope import (
    LoggedExperiment,
    experiments_by_deployment,
    logged_experiments,
)
from cairn.rollouts.store import InvalidRolloutError
from cairn.ui.web.paging import BadPageInput, Page, PageNotFound, paginate
from cairn.ui.web.plans import DEFAULT_MDE, MetricPlan, power_plans

if TYPE_CHECKING:
    from collections.abc import Mapping

    import duckdb

    from cairn.app.project import Project
    from cairn.core.deployments import Deployment
    from cairn.experiments.analysis_results import ExperimentAnalysis
    from cairn.rollouts.splits import Histories

__all__ = [
    "CORRECTIONS",
    "ExperimentPage",
    "ExperimentRow",
    "ExperimentsPage",
    "experiment_status",
    "gather_experiment",
    "gather_experiments",
    "key_metric",
    "parse_correction",
    "parse_mde",
]

CORRECTIONS = ("holm", "bh", "bonferroni", "none")
"""The ``?correction=`` values (``cairn experiment analyze --correction``); holm by default."""


@dataclass(frozen=True)
class ExperimentRow:
    """One experiment on the list: what the log holds of it, its status, and the report's
    view of its key metric and guardrails (``key`` None: the metric was not analysed;
    ``analysis`` None: the analysis failed, ``problem`` says why)."""

    deployment: str
    logged: LoggedExperiment
    status: str
    analysis: ExperimentAnalysis | None
    key: MetricView | None = None
    guardrails: list[MetricView] = field(default_factory=list)
    problem: str | None = None


@dataclass(frozen=True)
class ExperimentsPage:
    """The Experiments page: one page of the experiments, the one whose last prediction is
    the newest first, analysed as of ``as_of``."""

    experiments: Page[ExperimentRow]
    as_of: datetime


@dataclass(frozen=True)
class ExperimentPage:
    """One experiment: what the log holds of it, its status, the report's view of its
    analysis, and a power plan per metric that has one (``view`` None: the analysis
    failed, ``problem`` says why — an invalid ``experiments.yaml``, say)."""

    deployment: str
    logged: LoggedExperiment
    status: str
    view: AnalysisView | None
    plans: list[MetricPlan]
    mde: float
    correction: str
    problem: str | None = None


def parse_correction(text: str | None) -> str:
    """``?correction=`` (holm when absent; :class:`BadPageInput` when unknown)."""
    if text is None or text == "":
        return "holm"
    if text not in CORRECTIONS:
        raise BadPageInput(
            f"The query parameter 'correction' must be one of {', '.join(CORRECTIONS)}; "
            f"got {text!r}."
        )
    return text


def parse_mde(text: str | None) -> float:
    """``?mde=``: the relative lift the power plans aim at (:data:`DEFAULT_MDE` when absent;
    :class:`BadPageInput` unless a number above 0)."""
    if text is None or text == "":
        return DEFAULT_MDE
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1e6:  # also refuses NaN and infinity
        raise BadPageInput(
            f"The query parameter 'mde' must be a relative lift above 0 (0.05 = +5%); got {text!r}."
        )
    return value


def key_metric(catalog: MetricCatalog) -> str:
    """The key metric of a deployment's catalog: the first metric ``experiments.yaml``
    declares, else ``positive_rate`` (every deployment has it).

    Example
    -------
    >>> key_metric(MetricCatalog.from_mapping({}))
    'positive_rate'
    >>> fast = {"type": "proportion", "sql": "latency_ms < 9"}
    >>> key_metric(MetricCatalog.from_mapping({"metrics": {"fast": fast}}))
    'fast'
    """
    declared = [name for name in catalog.declared if name in catalog.metrics]
    return declared[0] if declared else "positive_rate"


def experiment_status(project: Project, deployment: str, seed: str) -> str:
    """The experiment's status from the deployment's rollout history (module docstring)."""
    return _status(project.rollout_store.histories([deployment]), deployment, seed)


def _status(histories: Histories, deployment: str, seed: str) -> str:
    """:func:`experiment_status` from histories already read."""
    try:
        specs = histories.of(deployment)
    except InvalidRolloutError:
        return "unknown (the stored rollout is invalid)"
    mine = [s for s in specs if s.seed == seed]
    if not mine:
        return "not in the rollout history"
    if specs[-1].seed == seed:
        return "running" if specs[-1].state == "active" else specs[-1].state
    return "ended" if mine[-1].state == "active" else mine[-1].state


def gather_experiments(
    project: Project, page: int, *, now: datetime | None = None
) -> ExperimentsPage:
    """Page ``page`` of the project's experiments, the latest first, each with its key
    metric and guardrails analysed as of ``now`` (default: the current time).

    One connection to the log serves the page: one scan lists every deployment's experiments,
    and only the page's experiments are analysed; the rollout histories of their deployments
    are read in one query (their statuses and A/B splits)."""
    as_of = now or utcnow()
    deployments = project.deployments()
    with project.predictions.connect() as con:
        listed = experiments_by_deployment(con, sorted(deployments), as_of)
        found = [(name, e) for name, logged in listed.items() for e in logged]
        found.sort(key=lambda item: item[1].end, reverse=True)
        shown = paginate(found, page)
        histories = project.rollout_store.histories(name for name, _ in shown.items)
        rows = _rows(project, con, shown.items, histories, deployments, as_of)
    return ExperimentsPage(Page(rows, shown.number, shown.pages, shown.total), as_of)


def _rows(
    project: Project,
    con: duckdb.DuckDBPyConnection,
    shown: list[tuple[str, LoggedExperiment]],
    histories: Histories,
    deployments: Mapping[str, Deployment],
    as_of: datetime,
) -> list[ExperimentRow]:
    """The list's rows of the ``shown`` experiments, analysed on ``con``."""
    try:
        catalog = MetricCatalog.load(project.root)
    except CairnError as exc:  # an invalid experiments.yaml: still list them, and say why
        return [
            ExperimentRow(name, e, _status(histories, name, e.seed), None, problem=str(exc))
            for name, e in shown
        ]
    rows = []
    for name, logged in shown:
        status = _status(histories, name, logged.seed)
        try:
            own = catalog.for_deployment(deployments[name])  # the deployment's metric names
            key = key_metric(own)
            guards = [m.name for m in own.metrics.values() if m.guardrail and m.name != key]
            analysis = _analyze(
                con, name, logged, as_of, metrics=[key, *guards], correction="holm",
                catalog=catalog, deployments=deployments, splits=histories,
            )  # fmt: skip
        except CairnError as exc:  # e.g. a metric's SQL the log cannot run: say why
            rows.append(ExperimentRow(name, logged, status, None, problem=str(exc)))
            continue
        views = {m.analysis.metric.name: m for m in analysis_view(analysis).metrics}
        rows.append(
            ExperimentRow(
                name,
                logged,
                status,
                analysis,
                views.get(key),
                [views[g] for g in guards if g in views],
            )
        )
    return rows


def gather_experiment(
    project: Project,
    deployment: str,
    seed: str,
    *,
    correction: str = "holm",
    mde: float = DEFAULT_MDE,
    now: datetime | None = None,
) -> ExperimentPage:
    """Experiment ``seed`` of ``deployment`` analysed as of ``now`` on every metric
    (:class:`PageNotFound` when the deployment or the experiment does not exist)."""
    as_of = now or utcnow()
    deployments = project.deployments()
    if deployment not in deployments:
        known = ", ".join(sorted(deployments)) or "none"
        raise PageNotFound(f"No deployment {deployment!r}; deployments: {known}.")
    with project.predictions.connect() as con:
        logged = next((e for e in logged_experiments(con, deployment, as_of) if e.seed == seed),
                      None)  # fmt: skip
        if logged is None:
            raise PageNotFound(f"No experiment {seed!r} in deployment {deployment!r}'s log.")
        histories = project.rollout_store.histories([deployment])
        status = _status(histories, deployment, seed)
        try:
            analysis = _analyze(
                con, deployment, logged, as_of, metrics=[], correction=correction,
                catalog=MetricCatalog.load(project.root), deployments=deployments,
                splits=histories,
            )  # fmt: skip
        except CairnError as exc:
            return ExperimentPage(deployment, logged, status, None, [], mde, correction, str(exc))
    return ExperimentPage(
        deployment,
        logged,
        status,
        analysis_view(analysis),
        power_plans(analysis, logged, mde),
        mde,
        correction,
    )


def _analyze(
    con: duckdb.DuckDBPyConnection,
    deployment: str,
    logged: LoggedExperiment,
    as_of: datetime,
    *,
    metrics: list[str],
    correction: str,
    catalog: MetricCatalog,
    deployments: Mapping[str, Deployment],
    splits: Histories,
) -> ExperimentAnalysis:
    """``cairn experiment analyze DEPLOYMENT --experiment SEED`` (empty ``metrics``: all) on
    the page's connection to the log, with ``experiments.yaml``, ``deployments.yaml`` and the
    rollout histories read once per page and the experiment as the page listed it."""
    return analyze_logged(
        con,
        deployment,
        metrics,
        catalog=catalog,
        splits=splits,
        seed=logged.seed,
        as_of=as_of,
        correction=None if correction == "none" else correction,
        deployments=deployments,
        experiment=logged,
    )
