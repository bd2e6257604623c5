"""Experiment metrics: what is measured per unit, how units are pooled, when a unit is mature.

A metric is a SQL expression over one row of the prediction log joined with its outcome. The
row has every prediction column (``decision``, ``positive``, ``score``, ``latency_ms``,
``features``, ``entity``, ``error`` ...) plus the outcome columns ``label`` (null until a label
was observed by the analysis time) and ``observed_at``. ``positive`` is true when the row got
the deployment's positive decision (``score >= threshold``: ``decline`` for credit,
``follow_up`` for an outreach model), so metrics need no decision names. Per unit
(``unit_id``, else the prediction id):

- ``proportion``: 1 when the expression holds for any of the unit's rows (GrowthBook's
  binomial metric), e.g. ``positive``;
- ``mean``: the expression aggregated over the unit's rows with ``unit_aggregate``
  (``sum``, ``avg``, ``max`` or ``min``), e.g. ``score``;
- ``ratio``: the sum of ``sql`` over the sum of ``denominator`` (delta method), e.g. positive
  labels among the predictions that got the negative decision.

Rows whose expression is null do not count, so ``label = 1`` counts only labeled rows. A
metric with a ``maturity`` window counts only rows whose ``time + maturity <= as_of``; an
outcome metric that sets none matures with its deployment's label (``label.maturity`` in
``deployments.yaml``). The built-ins are :func:`builtin_metrics`. Projects declare more
metrics, or adjust the built-ins, in ``experiments.yaml``::

    min_completeness: 0.8          # labeled share of mature units needed for a verdict
    metrics:
      high_risk_share:
        type: proportion
        sql: score >= 0.3
        direction: decrease        # the good direction
        family: risk               # corrections run within a family
      label_rate:
        maturity: 60d              # adjust a built-in (default: the deployment's label maturity)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import yaml
from pydantic import Field

from cairn.core.deployments import Decisions, Deployment, Label
from cairn.core.errors import ConfigError
from cairn.core.file_model import Bool, Duration, FileModel, Number, json_schema, key, parse
from cairn.core.timeutil import format_duration
from cairn.experiments.covariates import Covariate, CupedSpec, resolve

MetricKind = Literal["proportion", "mean", "ratio"]
UnitAggregate = Literal["sum", "avg", "max", "min"]
Direction = Literal["increase", "decrease"]
EXPERIMENTS_FILE = "experiments.yaml"
DEFAULT_FAMILY = "goals"

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
_OUTCOME = re.compile(r"\b(label|observed_at)\b")
_KINDS = ("proportion", "mean", "ratio")
_AGGREGATES = ("sum", "avg", "max", "min")
_DIRECTIONS = ("increase", "decrease")
_UNKNOWN = "Unknown key {key!r}{inside}; allowed: {allowed}."


def reads_outcome(sql: str) -> bool:
    """Whether a SQL expression reads the outcome columns (``label``, ``observed_at``).

    Example
    -------
    >>> reads_outcome("label > 0"), reads_outcome("score")
    (True, False)
    """
    return bool(_OUTCOME.search(sql))


def _choice(value: Any, allowed: tuple[str, ...], owner: str) -> None:
    if value not in allowed:
        raise ConfigError(f"{owner} must be one of {', '.join(allowed)}; got {value!r}.")


@dataclass(frozen=True)
class Metric:
    """One metric: a per-row SQL expression, its kind, maturity window and role.

    Parameters
    ----------
    name
        An identifier (letters, digits, ``_``).
    kind
        ``proportion``, ``mean`` or ``ratio``.
    sql
        The value per row (the numerator of a ratio).
    denominator
        A ratio's denominator per row (required for ratios only).
    unit_aggregate
        How a mean metric pools a unit's rows.
    maturity
        Microseconds a row must age before it counts.
    guardrail
        Tested one-sided for harm, outside the correction family.
    direction
        The good direction of change.
    family
        Corrections for multiple comparisons run within a family.
    cuped
        The CUPED covariate declared for it (None: never CUPED-adjusted).

    Example
    -------
    >>> m = Metric("high_risk", "proportion", "score >= 0.3", direction="decrease")
    >>> m.uses_outcome, m.maturity_text
    (False, '0s')
    """

    name: str
    kind: MetricKind
    sql: str
    denominator: str | None = None
    unit_aggregate: UnitAggregate = "sum"
    maturity: int = 0
    guardrail: bool = False
    direction: Direction = "increase"
    family: str = DEFAULT_FAMILY
    description: str = ""
    cuped: Covariate | None = None

    def __post_init__(self) -> None:
        where = f"Metric {self.name!r}"
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ConfigError(
                f"A metric name must be an identifier (letters, digits, _); got {self.name!r}."
            )
        _choice(self.kind, _KINDS, f"{where} type")
        _choice(self.unit_aggregate, _AGGREGATES, f"{where} unit_aggregate")
        _choice(self.direction, _DIRECTIONS, f"{where} direction")
        if not isinstance(self.sql, str) or not self.sql.strip():
            raise ConfigError(f"{where} needs a SQL expression in 'sql'; got {self.sql!r}.")
        if (self.kind == "ratio") != (self.denominator is not None):
            raise ConfigError(
                f"{where}: a 'denominator' is required for ratio metrics and only for them; "
                f"got type {self.kind!r} with denominator {self.denominator!r}."
            )
        if self.maturity < 0:
            raise ConfigError(f"{where} maturity must not be negative; got {self.maturity} us.")
        if self.cuped is not None and self.kind == "ratio":
            raise ConfigError(
                f"{where}: cuped is for proportion and mean metrics; got a ratio metric."
            )

    @property
    def uses_outcome(self) -> bool:
        """Whether the metric reads outcome columns (so label completeness matters)."""
        return reads_outcome(f"{self.sql} {self.denominator or ''}")

    @property
    def maturity_text(self) -> str:
        """The maturity window as text (``90d``)."""
        return format_duration(self.maturity)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``maturity`` as text)."""
        data = asdict(self)
        data["maturity"] = self.maturity_text
        data["cuped"] = None if self.cuped is None else self.cuped.to_dict()
        return data


_DAY = 86_400_000_000
CREDIT_MATURITY = 90 * _DAY
"""When the credit names' outcome metrics count a prediction (90 days: 0.1's default), unless the
deployment declares its label's maturity."""
CREDIT_NAMES: dict[str, str] = {
    "approval_rate": "negative_rate",
    "default_rate": "label_rate",
    "bad_rate_among_approved": "label_rate_among_negative",
}
"""0.1's credit names -> the generic built-in each one is (for deployments that decide
``decline``/``approve``, and anywhere ``experiments.yaml`` declares them)."""


def builtin_metrics(
    decisions: Decisions | None = None, maturity: int | None = None
) -> dict[str, Metric]:
    """The built-in metrics of a deployment that makes ``decisions`` and whose labels mature
    after ``maturity`` µs (None: it declares no label maturity; 0 then, 90 days for the credit
    names).

    - ``positive_rate`` / ``negative_rate``: units that got the positive (``score >=
      threshold``) / negative decision at least once (the log's ``positive`` column);
    - ``label_rate``: labeled mature units with ``label > 0``;
    - ``label_rate_among_negative``: ``label > 0`` among labeled mature predictions that got the
      negative decision (what the negative decision missed: defaults among approved loans,
      subscribers among customers an outreach model skipped);
    - ``score``, ``latency_ms`` and ``error_rate`` (guardrails: latency and errors).

    The good direction of the rates and of the score follows the favorable decision: when the
    positive decision is the favorable one (an outreach model follows up on whom it expects to
    respond) more positives and more labels are better; otherwise (credit, fraud: the label is
    the bad outcome) fewer are. Set ``direction`` in ``experiments.yaml`` when a label means
    otherwise (e.g. churn). A deployment with 0.1's credit vocabulary (``decline`` /
    ``approve``) also has the credit names: ``approval_rate``, ``default_rate`` and
    ``bad_rate_among_approved``.

    Example
    -------
    >>> m = builtin_metrics(Decisions("follow_up", "skip", favorable="positive"), 7 * _DAY)
    >>> m["positive_rate"].direction, m["label_rate"].maturity_text, "approval_rate" in m
    ('increase', '7d', False)
    >>> builtin_metrics()["default_rate"].maturity_text
    '90d'
    """
    d = decisions or Decisions()
    up: Direction = "increase" if d.favorable == "positive" else "decrease"
    down: Direction = "decrease" if up == "increase" else "increase"
    label = maturity or 0
    miss_sql = "CASE WHEN NOT positive THEN CAST(label > 0 AS DOUBLE) END"
    miss_den = "CASE WHEN NOT positive AND label IS NOT NULL THEN 1.0 ELSE 0.0 END"
    metrics = [
        Metric("positive_rate", "proportion", "positive", direction=up,
               description=f"Units that got {d.positive} (the positive decision) at least once."),
        Metric("negative_rate", "proportion", "NOT positive", direction=down,
               description=f"Units that got {d.negative} (the negative decision) at least once."),
        Metric("label_rate", "proportion", "label > 0", maturity=label, direction=up,
               description="Labeled mature units with a positive label (label > 0)."),
        Metric("label_rate_among_negative", "ratio", miss_sql, denominator=miss_den,
               maturity=label, direction="decrease",
               description=f"Positive labels among labeled mature predictions that got "
               f"{d.negative} (the negative decision)."),
        Metric("score", "mean", "score", unit_aggregate="avg", direction=up,
               description=f"Mean model score per unit (score >= threshold: {d.positive})."),
        Metric("latency_ms", "ratio", "latency_ms", denominator="1.0", guardrail=True,
               direction="decrease", description="Server latency per prediction (ms)."),
        Metric("error_rate", "ratio", "CAST(error IS NOT NULL AS DOUBLE)", denominator="1.0",
               guardrail=True, direction="decrease",
               description="Predictions whose arm's model failed (answered by the fallback)."),
    ]  # fmt: skip
    if (d.positive, d.negative) == ("decline", "approve"):
        credit = CREDIT_MATURITY if maturity is None else maturity
        metrics += [
            Metric("approval_rate", "proportion", "NOT positive", direction="increase",
                   description="Units approved (at least once)."),
            Metric("default_rate", "proportion", "label > 0", maturity=credit,
                   direction="decrease",
                   description="Labeled mature units that defaulted (label > 0)."),
            Metric("bad_rate_among_approved", "ratio", miss_sql, denominator=miss_den,
                   maturity=credit, direction="decrease",
                   description="Defaults among approved, labeled, mature predictions."),
        ]  # fmt: skip
    return {m.name: m for m in metrics}


def declared_maturity(deployment: Deployment) -> int | None:
    """The label maturity ``deployment`` declares (µs), or None when it declares no label.

    Example
    -------
    >>> from cairn.core.deployments import Deployment
    >>> declared_maturity(Deployment.from_dict("credit", {"model": "m@champion"})) is None
    True
    """
    return None if deployment.label == Label() else deployment.label.maturity


BUILTIN_METRICS: dict[str, Metric] = builtin_metrics()
"""The built-ins of a deployment with 0.1's credit vocabulary and no declared label maturity:
the generic metrics and the credit names (see :func:`builtin_metrics`)."""


@dataclass(frozen=True)
class MetricCatalog:
    """The metrics a project can analyze, and its label-completeness threshold.

    Example
    -------
    >>> catalog = MetricCatalog.from_mapping({"metrics": {"default_rate": {"maturity": "30d"}}})
    >>> catalog.get("default_rate").maturity_text, catalog.min_completeness
    ('30d', 0.8)
    """

    metrics: Mapping[str, Metric]
    min_completeness: float = 0.8
    declared: Mapping[str, Any] = field(default_factory=dict)
    """The ``metrics`` of ``experiments.yaml`` as written (name -> spec), so
    :meth:`for_deployment` can apply them over each deployment's built-ins."""

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any] | None, where: str = EXPERIMENTS_FILE
    ) -> MetricCatalog:
        """Built-ins adjusted and extended by an ``experiments.yaml`` mapping."""
        data = data or {}
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where} must be a mapping; got {type(data).__name__}.")
        parsed = parse(ExperimentsFile, data, source=where)
        threshold = parsed.min_completeness
        declared = data.get("metrics") or {}
        metrics = dict(BUILTIN_METRICS)
        for name, spec in (parsed.metrics or {}).items():
            metrics[name] = _metric(name, spec, BUILTIN_METRICS.get(name), where)
        metrics = resolve_covariates(metrics)
        return cls(metrics, float(threshold), {str(k): v for k, v in declared.items()})

    def for_deployment(self, deployment: Deployment | None) -> MetricCatalog:
        """The metrics as ``deployment`` measures them (None: unchanged).

        The built-ins follow its decisions and its label's maturity (see
        :func:`builtin_metrics`); an ``experiments.yaml`` metric keeps what it sets, and an
        outcome metric that sets no ``maturity`` matures with the deployment's label.

        Example
        -------
        >>> from cairn.core.deployments import Deployment
        >>> dep = Deployment.from_dict("outreach", {"model": "m@champion", "decision": {
        ...     "positive": "follow_up", "negative": "skip"}, "label": {"maturity": "7d"}})
        >>> yaml_metrics = {"metrics": {"subscribed": {"type": "proportion", "sql": "label = 1"}}}
        >>> catalog = MetricCatalog.from_mapping(yaml_metrics).for_deployment(dep)
        >>> catalog.get("subscribed").maturity_text, catalog.get("label_rate").maturity_text
        ('7d', '7d')
        """
        if deployment is None:
            return self
        maturity = declared_maturity(deployment)
        base = builtin_metrics(deployment.decision, maturity)
        metrics = dict(base)
        for name, spec in self.declared.items():
            template = base.get(name) or BUILTIN_METRICS.get(name)
            metric = metric_from_mapping(name, spec, template)
            own = isinstance(spec, Mapping) and "maturity" in spec
            if base.get(name) is None and metric.uses_outcome and not own:
                metric = replace(metric, maturity=maturity or 0)
            metrics[name] = metric
        return replace(self, metrics=resolve_covariates(metrics))

    @classmethod
    def load(cls, project: str | Path) -> MetricCatalog:
        """The built-ins plus ``<project>/experiments.yaml`` when it exists."""
        path = Path(project) / EXPERIMENTS_FILE
        if not path.is_file():
            return cls(dict(BUILTIN_METRICS))
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {exc}") from None
        return cls.from_mapping(data, str(path))

    def get(self, name: str) -> Metric:
        """One metric by name; an unknown name lists the known ones."""
        try:
            return self.metrics[name]
        except KeyError:
            raise ConfigError(
                f"Unknown metric {name!r}; known: {', '.join(sorted(self.metrics))} "
                f"(declare more in {EXPERIMENTS_FILE})."
            ) from None

    def select(self, names: Sequence[str]) -> list[Metric]:
        """Metrics by name, in order, without duplicates."""
        if not names:
            raise ConfigError("Name at least one metric (e.g. --metric positive_rate).")
        return [self.get(n) for n in dict.fromkeys(names)]


def metric_from_mapping(
    name: str, spec: Any, base: Metric | None = None, where: str = EXPERIMENTS_FILE
) -> Metric:
    """A metric from its YAML mapping; ``base`` (a built-in) supplies fields not given.

    Example
    -------
    >>> metric_from_mapping("big", {"type": "mean", "sql": "score", "unit_aggregate": "max"}).kind
    'mean'
    """
    parsed = parse(MetricSpec, spec, source=where, prefix=("metrics", name))
    return _metric(name, parsed, base, where)


def resolve_covariates(metrics: Mapping[str, Metric]) -> dict[str, Metric]:
    """``metrics`` with each declared CUPED covariate resolved to its metric's SQL.

    Example
    -------
    >>> m = replace(BUILTIN_METRICS["score"], cuped=Covariate("approval_rate", _DAY))
    >>> resolve_covariates({**BUILTIN_METRICS, "score": m})["score"].cuped.sql
    'NOT positive'
    """
    out = dict(metrics)
    for name, metric in metrics.items():
        if metric.cuped is not None:
            covariate = resolve(name, metric.cuped, metrics.get(metric.cuped.metric))
            out[name] = replace(metric, cuped=covariate)
    return out


def with_covariates(metrics: Sequence[Metric]) -> list[Metric]:
    """``metrics`` with covariates not yet resolved (a :class:`Metric` built by hand, not by a
    catalog) resolved against ``metrics`` and the built-ins.

    Example
    -------
    >>> m = Metric("s", "mean", "score", cuped=Covariate("s", _DAY))
    >>> with_covariates([m])[0].cuped.sql
    'score'
    """
    if all(m.cuped is None or m.cuped.sql for m in metrics):
        return list(metrics)
    resolved = resolve_covariates({**BUILTIN_METRICS, **{m.name: m for m in metrics}})
    return [resolved[m.name] if m.cuped and not m.cuped.sql else m for m in metrics]


def _metric(name: str, spec: MetricSpec, base: Metric | None, where: str) -> Metric:
    """The metric ``spec`` declares: ``base`` changed where it says, or a new one."""
    fields = {("kind" if k == "type" else k): getattr(spec, k) for k in spec.model_fields_set}
    if "cuped" in fields:
        declared = fields["cuped"]
        fields["cuped"] = None if declared is None else declared.to_covariate(name)
    if base is not None:
        if "kind" in fields and fields["kind"] != base.kind and "denominator" not in fields:
            fields.setdefault("denominator", None)
        return replace(base, **fields)
    if "kind" not in fields or "sql" not in fields:
        raise ConfigError(
            f"{where}: metrics.{name} needs 'type' (proportion, mean or ratio) and 'sql'."
        )
    return Metric(name=name, **fields)


# The file's model: what experiments.yaml accepts, and its JSON Schema.

_Sql = Annotated[str, Field(pattern=r"\S")]
_MetricName = Annotated[
    str,
    Field(
        pattern=_NAME.pattern,
        json_schema_extra={"expected": "an identifier: a letter, then letters, digits or _"},
    ),
]


class MetricSpec(FileModel):
    """metrics.NAME: a new metric (type and sql required), or changes to a built-in (only the
    keys given change it)."""

    unknown_key: ClassVar[str] = _UNKNOWN

    type: MetricKind = key(
        None,
        "proportion (1 when sql holds for any of the unit's rows), mean (sql pooled per unit "
        "with unit_aggregate) or ratio (sum of sql over sum of denominator).",
    )
    sql: _Sql = key(
        None,
        "The value per row: SQL over a prediction-log row (decision, positive, score, "
        "latency_ms, ...) and its outcome (label, observed_at); a ratio's numerator.",
        expected="a SQL expression",
        examples=["score >= 0.3"],
    )
    denominator: str | None = key(None, "A ratio's denominator per row (ratios only).")
    unit_aggregate: UnitAggregate = key("sum", "How a mean metric pools a unit's rows.")
    maturity: Duration = key(
        0,
        "How old a row must be before it counts (e.g. 90d); an outcome metric without one "
        "matures with its deployment's label.",
        examples=["30d"],
    )
    guardrail: Bool = key(False, "Tested one-sided for harm, outside the correction family.")
    direction: Direction = key("increase", "The good direction of change.")
    family: str = key(DEFAULT_FAMILY, "Corrections for multiple comparisons run within a family.")
    description: str = key("", "What it measures, for people.")
    cuped: CupedSpec | None = key(
        None,
        "The CUPED covariate: which metric over which pre-period window (non-experiment "
        "traffic only). Without it the metric is not CUPED-adjusted.",
        examples=[{"covariate": "approval_rate", "window": "28d"}],
    )


class ExperimentsFile(FileModel):
    """experiments.yaml: the metrics experiments are analyzed with (the built-ins, adjusted and
    extended), and the label completeness a verdict needs."""

    unknown_key: ClassVar[str] = _UNKNOWN

    min_completeness: Annotated[Number, Field(gt=0, le=1)] = key(
        0.8, "The labeled share of mature units an outcome metric needs for a verdict."
    )
    metrics: dict[_MetricName, MetricSpec] | None = key(
        None,
        "Metric name -> its declaration; a built-in's name adjusts it. Names: a letter, then "
        "letters, digits or _.",
    )


def experiments_schema() -> dict[str, Any]:
    """The JSON Schema of ``experiments.yaml``."""
    return json_schema(
        ExperimentsFile,
        title=EXPERIMENTS_FILE,
        description="Experiment metrics: SQL over the prediction log and its outcomes, per "
        "unit; declare new metrics or adjust the built-ins (cairn experiment analyze).",
    )
