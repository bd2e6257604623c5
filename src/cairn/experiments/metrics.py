"""Experiment metrics: what is measured per unit, how units are pooled, when a unit is mature.

A metric is a SQL expression over one row of the prediction log joined with its outcome. The
row has every prediction column (``decision``, ``score``, ``latency_ms``, ``features``,
``entity``, ``error`` ...) plus the outcome columns ``label`` (null until a label was observed
by the analysis time) and ``observed_at``. Per unit (``unit_id``, else the prediction id):

- ``proportion``: 1 when the expression holds for any of the unit's rows (GrowthBook's
  binomial metric), e.g. ``decision = 'approve'``;
- ``mean``: the expression aggregated over the unit's rows with ``unit_aggregate``
  (``sum``, ``avg``, ``max`` or ``min``), e.g. ``score``;
- ``ratio``: the sum of ``sql`` over the sum of ``denominator`` (delta method), e.g. defaults
  among approved loans.

Rows whose expression is null do not count, so ``label = 1`` counts only labeled rows. A
metric with a ``maturity`` window counts only rows whose ``time + maturity <= as_of``.
Projects declare more metrics, or adjust the built-ins, in ``experiments.yaml``::

    min_completeness: 0.8          # labeled share of mature units needed for a verdict
    metrics:
      high_risk_share:
        type: proportion
        sql: score >= 0.3
        direction: decrease        # the good direction
        family: risk               # corrections run within a family
      default_rate:
        maturity: 60d              # adjust a built-in
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from cairn.core.errors import CairnError, ConfigError
from cairn.core.timeutil import format_duration, parse_duration

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
_KEYS = frozenset(
    {
        "type",
        "sql",
        "denominator",
        "unit_aggregate",
        "maturity",
        "guardrail",
        "direction",
        "family",
        "description",
    }
)


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

    @property
    def uses_outcome(self) -> bool:
        """Whether the metric reads outcome columns (so label completeness matters)."""
        return bool(_OUTCOME.search(f"{self.sql} {self.denominator or ''}"))

    @property
    def maturity_text(self) -> str:
        """The maturity window as text (``90d``)."""
        return format_duration(self.maturity)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``maturity`` as text)."""
        data = asdict(self)
        data["maturity"] = self.maturity_text
        return data


_DAY = 86_400_000_000

BUILTIN_METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "approval_rate",
            "proportion",
            "decision = 'approve'",
            description="Units approved (at least once).",
        ),
        Metric(
            "default_rate",
            "proportion",
            "label > 0",
            maturity=90 * _DAY,
            direction="decrease",
            description="Labeled mature units that defaulted (label > 0).",
        ),
        Metric(
            "bad_rate_among_approved",
            "ratio",
            "CASE WHEN decision = 'approve' THEN CAST(label > 0 AS DOUBLE) END",
            denominator="CASE WHEN decision = 'approve' AND label IS NOT NULL THEN 1.0 "
            "ELSE 0.0 END",
            maturity=90 * _DAY,
            direction="decrease",
            description="Defaults among approved, labeled, mature predictions.",
        ),
        Metric(
            "score",
            "mean",
            "score",
            unit_aggregate="avg",
            direction="decrease",
            description="Mean model score (probability of default) per unit.",
        ),
        Metric(
            "latency_ms",
            "ratio",
            "latency_ms",
            denominator="1.0",
            guardrail=True,
            direction="decrease",
            description="Server latency per prediction (ms).",
        ),
        Metric(
            "error_rate",
            "ratio",
            "CAST(error IS NOT NULL AS DOUBLE)",
            denominator="1.0",
            guardrail=True,
            direction="decrease",
            description="Predictions whose arm's model failed (answered by the fallback).",
        ),
    )
}
"""Metrics every credit deployment has; ``experiments.yaml`` may adjust or add to them."""


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

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any] | None, where: str = EXPERIMENTS_FILE
    ) -> MetricCatalog:
        """Built-ins adjusted and extended by an ``experiments.yaml`` mapping."""
        data = data or {}
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where} must be a mapping; got {type(data).__name__}.")
        unknown = set(data) - {"metrics", "min_completeness"}
        if unknown:
            raise ConfigError(
                f"Unknown key {sorted(unknown)[0]!r} in {where}; allowed: metrics, "
                "min_completeness."
            )
        threshold = data.get("min_completeness", 0.8)
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise ConfigError(f"{where} min_completeness must be a number; got {threshold!r}.")
        if not 0 < threshold <= 1:
            raise ConfigError(f"{where} min_completeness must be in (0, 1]; got {threshold}.")
        declared = data.get("metrics") or {}
        if not isinstance(declared, Mapping):
            raise ConfigError(f"{where} metrics must be a mapping of name -> spec.")
        metrics = dict(BUILTIN_METRICS)
        for name, spec in declared.items():
            metrics[str(name)] = metric_from_mapping(
                str(name), spec, BUILTIN_METRICS.get(str(name)), where
            )
        return cls(metrics, float(threshold))

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
            raise ConfigError("Name at least one metric (e.g. --metric approval_rate).")
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
    owner = f"{where} metrics.{name}"
    if not isinstance(spec, Mapping):
        raise ConfigError(f"{owner} must be a mapping (type, sql, ...); got {spec!r}.")
    unknown = set(spec) - _KEYS
    if unknown:
        raise ConfigError(
            f"Unknown key {sorted(unknown)[0]!r} in {owner}; allowed: {', '.join(sorted(_KEYS))}."
        )
    fields: dict[str, Any] = {}
    for key, value in spec.items():
        if key == "type":
            fields["kind"] = value
        elif key == "maturity":
            try:
                fields["maturity"] = parse_duration(value, owner=f"{owner}.maturity")
            except CairnError as exc:
                raise ConfigError(str(exc)) from None
        elif key == "guardrail":
            if not isinstance(value, bool):
                raise ConfigError(f"{owner}.guardrail must be true or false; got {value!r}.")
            fields[key] = value
        else:
            fields[key] = value if value is None else str(value)
    if base is not None:
        if "kind" in fields and fields["kind"] != base.kind and "denominator" not in fields:
            fields.setdefault("denominator", None)
        return replace(base, **fields)
    if "kind" not in fields or "sql" not in fields:
        raise ConfigError(f"{owner} needs 'type' (proportion, mean or ratio) and 'sql'.")
    return Metric(name=name, **fields)
