"""Plain result objects of an experiment analysis (frozen dataclasses with ``to_dict``).

:class:`ExperimentAnalysis` holds the arms, the sample-ratio check and one
:class:`MetricAnalysis` per metric; a metric holds its per-arm values, label completeness and
one :class:`Comparison` per treatment arm against the control (and per segment). Whatever the
data cannot support is said in ``status``/``reason``/``error`` text, never raised.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import Any, Literal

from cairn.experiments.maturity import Completeness
from cairn.experiments.metrics import Metric
from cairn.experiments.stats import BayesResult, SrmResult, TestResult

Verdict = Literal["better", "worse", "flat", "harm", "no harm", "error"]
"""``better``/``worse``: significant in the good/bad direction; ``flat``: not significant;
guardrails say ``harm`` or ``no harm``; ``error``: the test could not run (see ``error``)."""
MetricStatus = Literal["ok", "immature", "no data"]
AnalysisStatus = Literal["ok", "not enough data"]


def plain(value: Any) -> Any:
    """A JSON-ready copy: dataclasses to dicts, tuples to lists, datetimes to ISO text,
    non-finite floats to None.

    Example
    -------
    >>> plain({"ci": (1.0, math.inf)})
    {'ci': [1.0, None]}
    """
    if hasattr(value, "to_dict") and not isinstance(value, type):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class ArmMetric:
    """One arm's value of one metric: units counted and the (unadjusted) mean."""

    arm: str
    n: int
    mean: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"arm": self.arm, "n": self.n, "mean": plain(self.mean)}


@dataclass(frozen=True)
class Estimates:
    """The arms' means and the relative and absolute lift tests, raw or CUPED-adjusted.

    Adjusted means are centred on the pooled pre-period mean: ``mean - θ (arm pre-period mean
    - pooled pre-period mean)``, so their difference is the adjusted absolute lift and they stay
    on the metric's scale; the relative lift divides by the control's raw mean (gbstats).
    """

    control_mean: float
    treatment_mean: float
    relative: TestResult
    absolute: TestResult

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class CupedResult:
    """Whether CUPED adjusted a comparison, why not, and both sets of estimates.

    ``applied`` False: the verdict rests on ``raw`` and ``reason`` says why (none declared,
    too few units with a pre-period, θ not finite, near-zero residual variance ...).
    ``variance_reduction`` is ``1 - adjusted variance / raw variance`` of the relative lift.

    Example
    -------
    >>> CupedResult(False, "not declared: experiments.yaml declares no cuped for score").applied
    False
    """

    applied: bool
    reason: str | None = None
    covariate: str | None = None
    window: str | None = None
    theta: float | None = None
    variance_reduction: float | None = None
    pre_units: tuple[int, int] | None = None
    """Units with a pre-period value in (control, treatment)."""
    raw: Estimates | None = None
    adjusted: Estimates | None = None

    def __bool__(self) -> bool:
        return self.applied

    @property
    def basis(self) -> str:
        """What the verdict rests on, in words."""
        if self.applied:
            return f"CUPED-adjusted ({self.covariate} over {self.window} before the start)"
        return "unadjusted"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class Comparison:
    """A treatment arm against the control on one metric (overall, or in one segment).

    ``relative``/``absolute`` are the frequentist (or sequential) tests of the relative and
    absolute lift; ``p_value`` is the relative test's (one-sided toward harm for guardrails)
    and ``adjusted_p_value`` its multiple-comparison correction within the metric's family.
    When ``cuped.applied`` these are the CUPED-adjusted tests and the verdict rests on them;
    ``cuped.raw`` always holds the unadjusted ones, ``control_mean``/``treatment_mean`` are raw.
    ``chance_to_win`` and ``risk`` are oriented by the metric's good direction: chance that
    the treatment is better, expected loss of (keeping control, shipping the treatment).
    """

    metric: str
    arm: str
    control: str
    control_mean: float
    treatment_mean: float
    control_n: int
    treatment_n: int
    relative: TestResult
    absolute: TestResult
    bayes: BayesResult
    chance_to_win: float
    risk: tuple[float, float]
    cuped: CupedResult
    p_value: float | None
    adjusted_p_value: float | None
    verdict: Verdict
    segment: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``verdict_basis``: unadjusted or CUPED-adjusted)."""
        data = {f.name: plain(getattr(self, f.name)) for f in fields(self)}
        data["verdict_basis"] = self.cuped.basis
        return data


@dataclass(frozen=True)
class MetricAnalysis:
    """Everything about one metric: definition, arms, completeness, comparisons, segments."""

    metric: Metric
    status: MetricStatus
    arms: list[ArmMetric]
    completeness: list[Completeness]
    comparisons: list[Comparison]
    segments: list[Comparison] = field(default_factory=list)
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class ArmUnits:
    """Units per arm in the experiment, and the traffic weight the SRM check expected."""

    arm: str
    units: int
    weight: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"arm": self.arm, "units": self.units, "weight": self.weight}


@dataclass(frozen=True)
class ExperimentAnalysis:
    """The analysis of one deployment's arms.

    ``status`` is ``not enough data`` (with ``reason``) when there is nothing to compare;
    ``srm`` is None with ``srm_note`` saying why when the split was not checked.
    """

    deployment: str
    status: AnalysisStatus
    control: str | None
    arms: list[ArmUnits]
    start: datetime
    as_of: datetime
    method: Literal["frequentist", "sequential"]
    alpha: float
    correction: str | None
    metrics: list[MetricAnalysis]
    srm: SrmResult | None = None
    srm_note: str | None = None
    experiment: str | None = None
    """The experiment's assignment seed in the log (None for logs without seeds)."""
    strategy: str | None = None
    dimension: str | None = None
    multiple_exposures: int = 0
    reason: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def srm_mismatch(self) -> bool:
        """Whether the sample-ratio check failed (results are then suspect)."""
        return bool(self.srm and self.srm.mismatch)

    def metric(self, name: str) -> MetricAnalysis:
        """One metric's analysis by name (KeyError when it was not analyzed)."""
        for m in self.metrics:
            if m.metric.name == name:
                return m
        raise KeyError(f"Metric {name!r} was not analyzed.")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {f.name: plain(getattr(self, f.name)) for f in fields(self)}
