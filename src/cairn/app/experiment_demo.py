"""Experiment analysis on a project: wiring (log, metrics, rollout, threshold) and the demo.

:func:`analyze_deployment` opens the project's prediction log and its metric catalog
(``experiments.yaml``), picks the experiment (by its seed in the log; default the latest),
takes its A/B weights from the rollout history for the sample-ratio check, then runs
:func:`cairn.experiments.analyze`. :func:`compare_deployment` judges a shadow challenger at the
deployment's threshold (``deployments.yaml``), with labels mature by the ``default_rate``
window. :func:`run_experiment_demo` does both on the quickstart's ``credit`` deployment and
writes the HTML report; with one arm or no shadow it says what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy.exc import SQLAlchemyError

from cairn.app.predictions import connect
from cairn.core.errors import CairnError
from cairn.core.timeutil import utcnow
from cairn.experiments.analysis import analyze
from cairn.experiments.analysis_results import ExperimentAnalysis
from cairn.experiments.champion.compare import ChampionComparison, compare_champion
from cairn.experiments.metrics import EXPERIMENTS_FILE, MetricCatalog
from cairn.experiments.report import write_html
from cairn.experiments.scope import logged_experiments, resolve_scope
from cairn.experiments.stats.corrections import Correction

DEMO_METRICS = (
    "approval_rate",
    "default_rate",
    "bad_rate_among_approved",
    "score",
    "latency_ms",
    "error_rate",
)
REPORT = Path(".cairn/reports/experiment-credit.html")
EXAMPLE_EXPERIMENTS = """\
# Experiment metrics of the example credit project (`cairn experiment analyze credit`).
# Built-ins: approval_rate, default_rate, bad_rate_among_approved, score, latency_ms, error_rate.
min_completeness: 0.5            # labeled share of mature units an outcome metric needs
metrics:
  default_rate:
    maturity: 0s                 # the example's labels arrive at once; real defaults take 60-90d
  bad_rate_among_approved:
    maturity: 0s
  high_risk_share:               # a project metric: units scored at or above 0.3
    type: proportion
    sql: score >= 0.3
    direction: decrease
    family: risk
"""


def rollout_weights(
    root: Path, deployment: str, seed: str | None
) -> tuple[dict[str, float] | None, str | None]:
    """The A/B weights of the experiment ``seed`` from the rollout history, or why there are none.

    A canary's split changes by stage (its gates check SRM per stage); an A/B test whose
    weights changed midway cannot be checked against one split.
    """
    try:
        from cairn.app.feature_store import FeatureStore
        from cairn.serving.routing.store import RolloutStore

        store = FeatureStore(root)
        history = RolloutStore(store.metadata.engine, project=store.project).history(deployment)
    except (CairnError, ImportError, OSError, SQLAlchemyError):
        return None, None
    specs = [c.spec for c in history if c.spec.state != "rolled_back"]
    specs = [x for x in specs if x.seed == seed] if seed is not None else specs[-1:]
    if not specs:
        return None, None
    if specs[-1].strategy == "canary":
        return None, "not checked: a canary's split changes by stage (its gates check each stage)"
    if specs[-1].strategy != "ab":
        return None, None
    splits = {tuple(sorted(x.weights().items())) for x in specs}
    if len(splits) > 1:
        return None, "not checked: the A/B weights changed during the experiment"
    return dict(specs[-1].weights()), None


def analyze_deployment(
    root: str | Path,
    deployment: str,
    metrics: Sequence[str] = (),
    *,
    seed: str | None = None,
    weights: Mapping[str, float] | None = None,
    start: datetime | None = None,
    as_of: datetime | None = None,
    **options: Any,
) -> ExperimentAnalysis:
    """Analyze a project's deployment (``options`` go to :func:`cairn.experiments.analyze`).

    Without ``metrics``, every metric of the catalog; without ``seed``, the deployment's latest
    experiment; without ``weights``, the A/B split the rollout history recorded for it.
    """
    root = Path(root)
    catalog = MetricCatalog.load(root)
    chosen = catalog.select(list(metrics) or list(catalog.metrics))
    as_of = as_of or utcnow()
    options.setdefault("min_completeness", catalog.min_completeness)
    with connect(root) as con:
        scope = resolve_scope(con, deployment, as_of, seed=seed, start=start)
        note = None
        if weights is None:
            weights, note = rollout_weights(root, deployment, scope.seed)
        result = analyze(
            con, deployment, chosen, seed=scope.seed, start=scope.start, as_of=as_of,
            weights=weights, **options,
        )  # fmt: skip
    return replace(result, srm_note=note) if note and result.srm is None else result


def compare_deployment(
    root: str | Path,
    deployment: str,
    challenger: str | None = None,
    *,
    as_of: datetime | None = None,
    protected: str | Path | None = None,
    attribute: str | None = None,
    key: str | None = None,
    threshold: float | None = None,
) -> ChampionComparison:
    """Champion vs a shadow challenger at the deployment's threshold."""
    root = Path(root)
    if threshold is None:
        from cairn.serving.deployments import DEPLOYMENTS_FILE, load_deployments

        found = load_deployments(root / DEPLOYMENTS_FILE).get(deployment)
        threshold = found.threshold if found is not None else 0.5
    maturity = MetricCatalog.load(root).get("default_rate").maturity
    with connect(root) as con:
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


@dataclass
class ExperimentDemo:
    """What the experiment demo found: the arms' analysis and the champion comparison."""

    path: Path
    analysis: ExperimentAnalysis
    comparison: ChampionComparison | None
    comparison_note: str | None
    report: Path


def run_experiment_demo(
    project_path: str | Path,
    *,
    deployment: str = "credit",
    as_of: datetime | None = None,
    correction: Correction = "holm",
) -> ExperimentDemo:
    """Analyze ``deployment``'s latest A/B test and its shadow challenger; write the report."""
    path = Path(project_path).resolve()
    if not (path / EXPERIMENTS_FILE).exists():
        (path / EXPERIMENTS_FILE).write_text(EXAMPLE_EXPERIMENTS, encoding="utf-8")
    as_of = as_of or utcnow()
    catalog = MetricCatalog.load(path)
    names = [*DEMO_METRICS, *(n for n in catalog.metrics if n not in DEMO_METRICS)]
    with connect(path) as con:
        tests = [e for e in logged_experiments(con, deployment, as_of) if e.strategy == "ab"]
    analysis = analyze_deployment(
        path, deployment, names, seed=tests[0].seed if tests else None, as_of=as_of,
        segment=_segment(path), correction=correction,
    )  # fmt: skip
    comparison: ChampionComparison | None = None
    note: str | None = None
    protected = _age_bands(path)
    try:
        comparison = compare_deployment(
            path, deployment, as_of=as_of, protected=protected,
            attribute="age_band" if protected else None, key="customer_id" if protected else None,
        )  # fmt: skip
    except CairnError as exc:
        note = f"no champion vs challenger comparison: {exc}"
    report = write_html(path / REPORT, analysis, comparison)
    return ExperimentDemo(path, analysis, comparison, note, report)


def _age_bands(root: Path) -> Path | None:
    """A protected-attribute table for the adverse impact ratio: each customer's age band
    (under 25, 25 to 61, 62 and over, as US fair-lending reviews group age) from the latest
    profile, kept apart from the prediction log as a compliance team would supply it."""
    profiles = root / "data" / "profiles.parquet"
    if not profiles.is_file():  # not the example project: no protected attribute to judge
        return None
    out = root / ".cairn" / "reports" / "protected_age.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT customer_id, CASE WHEN age < 25 THEN 'under 25' WHEN age < 62 "
            "THEN '25-61' ELSE '62+' END AS age_band FROM read_parquet(?) "
            "QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY event_timestamp DESC) "
            "= 1) TO '" + str(out).replace("'", "''") + "' (FORMAT parquet)",
            [str(profiles)],
        )
    return out


def _segment(root: Path) -> str | None:
    """A categorical feature of the example model to break results down by (prior records)."""
    with connect(root) as con:
        try:
            rows = con.execute(
                "SELECT DISTINCT unnest(json_keys(features)) FROM "
                "(SELECT features FROM predictions WHERE features IS NOT NULL LIMIT 100)"
            ).fetchall()
        except duckdb.Error:  # an unreadable features column just means no breakdown
            return None
    keys = sorted(str(r[0]) for r in rows)
    for wanted in ("records", "home", "job"):
        for key in keys:
            if key == wanted or key.endswith(f"__{wanted}"):
                return f"features->>'{key}'"
    return None
