"""The experiment step of the quickstart: the A/B test analyzed, the shadow challenger judged.

:func:`run_experiment_demo` runs :func:`cairn.experiments.analyze_deployment` and
:func:`cairn.experiments.compare_deployment` on the quickstart's ``credit`` deployment (through
:class:`cairn.app.Project`) and writes the HTML report; with one arm or no shadow it says what
is missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from cairn.app.project import Project
from cairn.core.errors import CairnError
from cairn.core.timeutil import utcnow
from cairn.experiments.analysis_results import ExperimentAnalysis
from cairn.experiments.champion.compare import ChampionComparison
from cairn.experiments.deployment import analyze_deployment, compare_deployment
from cairn.experiments.metrics import EXPERIMENTS_FILE, MetricCatalog
from cairn.experiments.report import write_html
from cairn.experiments.scope import logged_experiments
from cairn.experiments.stats.corrections import Correction
from cairn.serving.log_reader import PredictionLog

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
# Built-ins of every deployment: positive_rate, negative_rate, label_rate,
# label_rate_among_negative, score, latency_ms, error_rate (`positive` is true when the row got
# the positive decision: decline). The credit names below are those metrics in credit words.
min_completeness: 0.5            # labeled share of mature units an outcome metric needs
metrics:
  approval_rate:                 # units approved (the negative decision) at least once
    type: proportion
    sql: NOT positive
    direction: increase
    cuped:                       # CUPED: only metrics that declare a covariate are adjusted
      covariate: approval_rate   # each customer's approval before the test started,
      window: 28d                # over 28 days of non-experiment traffic (no A/B or canary)
      min_units: 30              # fewer customers with a pre-period per arm: unadjusted
  score:                         # the built-in mean score, CUPED-adjusted by the prior score
    cuped: {covariate: score, window: 28d}
  default_rate:                  # labeled mature units that defaulted
    type: proportion
    sql: label > 0
    maturity: 0s                 # the example's labels arrive at once; real defaults take 60-90d
    direction: decrease
  bad_rate_among_approved:       # defaults among approved, labeled, mature predictions
    type: ratio
    sql: CASE WHEN NOT positive THEN CAST(label > 0 AS DOUBLE) END
    denominator: CASE WHEN NOT positive AND label IS NOT NULL THEN 1.0 ELSE 0.0 END
    maturity: 0s
    direction: decrease
  high_risk_share:               # a project metric: units scored at or above 0.3
    type: proportion
    sql: score >= 0.3
    direction: decrease
    family: risk
"""


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
    project = Project.open(path)
    log = project.predictions
    catalog = MetricCatalog.load(path)
    names = [*DEMO_METRICS, *(n for n in catalog.declared if n not in DEMO_METRICS)]
    with log.connect() as con:
        tests = [e for e in logged_experiments(con, deployment, as_of) if e.strategy == "ab"]
    analysis = analyze_deployment(
        log, deployment, names, catalog=catalog, splits=project.rollout_store,
        seed=tests[0].seed if tests else None, as_of=as_of, segment=_segment(log),
        correction=correction, deployments=project.deployments(),
    )  # fmt: skip
    comparison: ChampionComparison | None = None
    note: str | None = None
    protected = _age_bands(path)
    try:
        comparison = compare_deployment(
            log, deployment, catalog=catalog, deployments=project.deployments(),
            as_of=as_of, protected=protected, attribute="age_band" if protected else None,
            key="customer_id" if protected else None,
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


def _segment(log: PredictionLog) -> str | None:
    """A categorical feature of the example model to break results down by (prior records)."""
    with log.connect() as con:
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
