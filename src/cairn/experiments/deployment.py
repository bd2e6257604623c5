"""Experiments of a deployment, read from its prediction log: what ``cairn experiment analyze``
and ``cairn experiment compare`` run.

:func:`analyze_deployment` (:func:`analyze_logged` on an open connection) picks the
experiment (by its assignment seed in the log; default the latest), takes its A/B weights from
the rollout history for the sample-ratio check (any :class:`SplitHistory`;
``Project.rollout_store`` is the project's), then runs
:func:`cairn.experiments.analyze` with the metrics as the deployment measures them (its
decisions and label maturity: :meth:`MetricCatalog.for_deployment`).
:func:`compare_deployment` judges a shadow challenger at the deployment's threshold, in its
decision vocabulary, with labels mature by the deployment's label maturity (or ``maturity=``)
and says which maturity it used. ``cairn.app.Project`` hands both the project's log, catalog,
deployments and rollout store.

Example
-------
>>> import tempfile
>>> from cairn.serving.log_reader import PredictionLog
>>> log = PredictionLog(tempfile.mkdtemp())
>>> analyze_deployment(log, "credit", catalog=MetricCatalog.from_mapping({})).status
'not enough data'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import duckdb

from cairn.core.deployments import Decisions, Deployment
from cairn.core.errors import ConfigError
from cairn.core.predictions import LogReader
from cairn.core.timeutil import utcnow
from cairn.experiments.analysis import analyze
from cairn.experiments.analysis_results import ExperimentAnalysis
from cairn.experiments.champion.compare import ChampionComparison, compare_champion
from cairn.experiments.metrics import MetricCatalog, declared_maturity
from cairn.experiments.scope import LoggedExperiment, Scope, resolve_scope

DEFAULT_THRESHOLD = 0.5
"""The operating point of a deployment that declares none."""
MATURITY_METRIC = "default_rate"
"""0.1's source of a comparison's maturity: used only for a deployment with the credit
vocabulary that declares no label maturity (90 days unless ``experiments.yaml`` changes it)."""


class SplitHistory(Protocol):
    """Where the traffic split of an experiment is recorded (``cairn.rollouts.RolloutStore``)."""

    def experiment_weights(
        self, deployment: str, seed: str | None
    ) -> tuple[dict[str, float] | None, str | None]:
        """The weights per arm of experiment ``seed``, or None and why there are none."""
        ...


def analyze_deployment(
    log: LogReader,
    deployment: str,
    metrics: Sequence[str] = (),
    *,
    catalog: MetricCatalog,
    splits: SplitHistory | None = None,
    seed: str | None = None,
    weights: Mapping[str, float] | None = None,
    start: datetime | None = None,
    as_of: datetime | None = None,
    deployments: Mapping[str, Deployment] | None = None,
    **options: Any,
) -> ExperimentAnalysis:
    """Analyze ``deployment``'s experiment from the prediction ``log``.

    Without ``metrics``, every metric of ``catalog``; without ``seed``, the deployment's latest
    experiment; without ``weights``, the A/B split ``splits`` recorded for it (its note says
    why a split was not checked). With ``deployments`` (``deployments.yaml``), the metrics
    follow the deployment's decisions and label maturity (see
    :meth:`MetricCatalog.for_deployment`); without, the credit vocabulary of 0.1. ``options``
    go to :func:`cairn.experiments.analyze` (``segment``, ``correction``, ``method`` ...).
    """
    with log.connect() as con:
        return analyze_logged(
            con, deployment, metrics, catalog=catalog, splits=splits, seed=seed,
            weights=weights, start=start, as_of=as_of, deployments=deployments, **options,
        )  # fmt: skip


def analyze_logged(
    con: duckdb.DuckDBPyConnection,
    deployment: str,
    metrics: Sequence[str] = (),
    *,
    catalog: MetricCatalog,
    splits: SplitHistory | None = None,
    seed: str | None = None,
    weights: Mapping[str, float] | None = None,
    start: datetime | None = None,
    as_of: datetime | None = None,
    deployments: Mapping[str, Deployment] | None = None,
    experiment: LoggedExperiment | None = None,
    **options: Any,
) -> ExperimentAnalysis:
    """:func:`analyze_deployment` on an open connection to the log (``con``: the views
    ``predictions`` and ``outcomes``), so a page that analyses several experiments opens one.
    ``experiment`` is experiment ``seed`` as :func:`~cairn.experiments.scope.logged_experiments`
    listed it on ``con`` up to ``as_of`` (then not read from the log again)."""
    catalog = catalog.for_deployment((deployments or {}).get(deployment))
    chosen = catalog.select(list(metrics) or list(catalog.metrics))
    as_of = as_of or utcnow()
    options.setdefault("min_completeness", catalog.min_completeness)
    note = None
    if experiment is not None and experiment.seed == seed:  # what resolve_scope would find
        scope = Scope(seed, start or experiment.start, experiment.strategy)
    else:
        scope = resolve_scope(con, deployment, as_of, seed=seed, start=start)
    if weights is None and splits is not None:
        weights, note = splits.experiment_weights(deployment, scope.seed)
    result = analyze(
        con, deployment, chosen, seed=scope.seed, start=scope.start, as_of=as_of,
        weights=weights, scope=scope, **options,
    )  # fmt: skip
    return replace(result, srm_note=note) if note and result.srm is None else result


def compare_deployment(
    log: LogReader,
    deployment: str,
    challenger: str | None = None,
    *,
    catalog: MetricCatalog,
    threshold: float | None = None,
    deployments: Mapping[str, Deployment] | None = None,
    as_of: datetime | None = None,
    protected: str | Path | None = None,
    attribute: str | None = None,
    key: str | None = None,
    maturity: int | None = None,
) -> ChampionComparison:
    """Champion vs a shadow ``challenger`` of ``deployment`` at ``threshold`` (default: the
    deployment's own in ``deployments``, else 0.5), in the deployment's decision vocabulary.

    Labels count for requests at least ``maturity`` old (µs); by default the deployment's label
    maturity (see :func:`comparison_maturity`). The result states the maturity it used and why
    (``maturity``, ``maturity_source``, :meth:`ChampionComparison.describe_maturity`).
    """
    found = (deployments or {}).get(deployment)
    if threshold is None:
        threshold = found.threshold if found is not None else DEFAULT_THRESHOLD
    window, source = comparison_maturity(deployment, found, catalog, maturity)
    with log.connect() as con:
        result = compare_champion(
            con,
            deployment,
            challenger=challenger,
            threshold=threshold,
            as_of=as_of,
            maturity=window,
            protected=protected,
            attribute=attribute,
            key=key,
            decisions=found.decision if found is not None else None,
        )
    return replace(result, maturity_source=source)


def comparison_maturity(
    name: str, deployment: Deployment | None, catalog: MetricCatalog, maturity: int | None = None
) -> tuple[int, str]:
    """The label maturity (µs) a comparison of deployment ``name`` uses, and where it is from.

    In order: ``maturity`` when given (``--maturity``); the label maturity the deployment
    declares in ``deployments.yaml``; for a deployment with 0.1's credit vocabulary that
    declares none (or one not in ``deployments.yaml``), ``catalog``'s ``default_rate`` window
    as in 0.1 (90 days unless ``experiments.yaml`` sets it); else 0.

    Example
    -------
    >>> from cairn.core.deployments import Deployment
    >>> dep = Deployment.from_dict("outreach", {"model": "m@champion", "label": {"maturity": "7d"}})
    >>> catalog = MetricCatalog.from_mapping({})
    >>> comparison_maturity("outreach", dep, catalog)
    (604800000000, 'the label maturity of deployment outreach')
    >>> comparison_maturity("outreach", dep, catalog, 0)
    (0, 'given with --maturity')
    >>> comparison_maturity("credit", None, catalog)[1]
    "no label maturity declared for deployment credit: default_rate's window, as in 0.1"
    """
    if maturity is not None:
        if maturity < 0:
            raise ConfigError(f"--maturity must not be negative; got {maturity} µs.")
        return maturity, "given with --maturity"
    if deployment is not None:
        declared = declared_maturity(deployment)
        if declared is not None:
            return declared, f"the label maturity of deployment {name}"
    credit = deployment is None or deployment.decision == Decisions()
    if credit and MATURITY_METRIC in catalog.metrics:
        return catalog.get(MATURITY_METRIC).maturity, (
            f"no label maturity declared for deployment {name}: {MATURITY_METRIC}'s window, "
            "as in 0.1"
        )
    return 0, f"deployment {name} declares no label maturity"
