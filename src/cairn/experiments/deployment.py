"""Experiments of a deployment, read from its prediction log: what ``cairn experiment analyze``
and ``cairn experiment compare`` run.

:func:`analyze_deployment` picks the experiment (by its assignment seed in the log; default
the latest), takes its A/B weights from the rollout history for the sample-ratio check (any
:class:`SplitHistory`; ``Project.rollout_store`` is the project's), then runs
:func:`cairn.experiments.analyze`. :func:`compare_deployment` judges a shadow challenger at
the deployment's threshold, with labels mature by the catalog's ``default_rate`` window.
``cairn.app.Project`` hands both the project's log, catalog and rollout store.

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

from cairn.core.deployments import Deployment
from cairn.core.predictions import LogReader
from cairn.core.timeutil import utcnow
from cairn.experiments.analysis import analyze
from cairn.experiments.analysis_results import ExperimentAnalysis
from cairn.experiments.champion.compare import ChampionComparison, compare_champion
from cairn.experiments.metrics import MetricCatalog
from cairn.experiments.scope import resolve_scope

DEFAULT_THRESHOLD = 0.5
"""The operating point of a deployment that declares none."""
MATURITY_METRIC = "default_rate"
"""The metric whose maturity window decides when a comparison's labels count."""


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
    **options: Any,
) -> ExperimentAnalysis:
    """Analyze ``deployment``'s experiment from the prediction ``log``.

    Without ``metrics``, every metric of ``catalog``; without ``seed``, the deployment's latest
    experiment; without ``weights``, the A/B split ``splits`` recorded for it (its note says
    why a split was not checked). ``options`` go to :func:`cairn.experiments.analyze`
    (``segment``, ``correction``, ``method`` ...).
    """
    chosen = catalog.select(list(metrics) or list(catalog.metrics))
    as_of = as_of or utcnow()
    options.setdefault("min_completeness", catalog.min_completeness)
    note = None
    with log.connect() as con:
        scope = resolve_scope(con, deployment, as_of, seed=seed, start=start)
        if weights is None and splits is not None:
            weights, note = splits.experiment_weights(deployment, scope.seed)
        result = analyze(
            con, deployment, chosen, seed=scope.seed, start=scope.start, as_of=as_of,
            weights=weights, **options,
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
) -> ChampionComparison:
    """Champion vs a shadow ``challenger`` of ``deployment`` at ``threshold`` (default: the
    deployment's own in ``deployments``, else 0.5), labels mature by ``catalog``'s
    ``default_rate`` window."""
    if threshold is None:
        found = (deployments or {}).get(deployment)
        threshold = found.threshold if found is not None else DEFAULT_THRESHOLD
    maturity = catalog.get(MATURITY_METRIC).maturity
    with log.connect() as con:
        return compare_champion(
            con,
            deployment,
            challenger=challenger,
            threshold=threshold,
            as_of=as_of,
            maturity=maturity,
            protected=protected,
            attribute=attribute,
            key=key,
        )
