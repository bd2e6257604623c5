"""CUPED covariates as ``experiments.yaml`` declares them, one per metric.

A metric is CUPED-adjusted only when it declares its covariate::

    metrics:
      approval_rate:
        cuped:
          covariate: approval_rate   # a proportion or mean metric, measured before the start
          window: 28d                # the pre-period: [start - window, start)
          min_units: 30              # units with a pre-period value each arm needs (default 30)

The pre-period counts only the deployment's **non-experiment traffic**: primary rows (not
shadow) before the experiment start, inside the window, that no experiment assigned (no
assignment ``seed``, strategy ``single`` or ``blue-green``). Rows of this experiment, of earlier
A/B tests or canaries, and of any of their arms (control included) never feed the covariate, so
another experiment's treatment cannot leak into this one's adjustment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Protocol

from pydantic import Field

from cairn.core.errors import ConfigError
from cairn.core.file_model import Duration, FileModel, key
from cairn.core.timeutil import format_duration

DEFAULT_MIN_UNITS = 30
"""Units with a pre-period value each arm needs before CUPED is applied."""
NEAR_ZERO_RESIDUAL = 1e-6
"""An arm whose adjusted variance is below this share of its raw variance is degenerate: the
covariate reproduces the metric (a replay of the experiment's own period), so CUPED falls back."""
PRE_PERIOD_STRATEGIES = ("single", "blue-green")
"""Strategies whose unseeded rows are non-experiment traffic (the pre-period may use them)."""

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Covariate:
    """A metric's CUPED covariate: which metric, over which pre-period window.

    ``sql``, ``kind`` and ``unit_aggregate`` are the covariate metric's, filled in when the
    catalog resolves ``metric`` (:func:`resolve`).

    Example
    -------
    >>> c = Covariate("approval_rate", 28 * 86_400_000_000)
    >>> c.window_text, c.to_dict()["min_units"]
    ('28d', 30)
    """

    metric: str
    window: int
    min_units: int = DEFAULT_MIN_UNITS
    sql: str = ""
    kind: Literal["proportion", "mean"] = "mean"
    unit_aggregate: str = "sum"

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str) or not _NAME.match(self.metric):
            raise ConfigError(f"cuped.covariate must be a metric name; got {self.metric!r}.")
        if self.window <= 0:
            raise ConfigError(
                f"cuped.window must be a positive duration such as 28d; got {self.window} us."
            )
        if self.min_units < 2:
            raise ConfigError(f"cuped.min_units must be at least 2; got {self.min_units}.")

    @property
    def window_text(self) -> str:
        """The pre-period window as text (``28d``)."""
        return format_duration(self.window)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"covariate": self.metric, "window": self.window_text, "min_units": self.min_units}


class CovariateMetric(Protocol):
    """What :func:`resolve` reads of the metric a covariate names (a
    :class:`cairn.experiments.metrics.Metric` is one)."""

    @property
    def kind(self) -> Literal["proportion", "mean", "ratio"]:
        """``proportion``, ``mean`` or ``ratio``."""
        ...

    @property
    def sql(self) -> str:
        """The value per row."""
        ...

    @property
    def unit_aggregate(self) -> str:
        """How a mean metric pools a unit's rows."""
        ...


def resolve(owner: str, covariate: Covariate, metric: CovariateMetric | None) -> Covariate:
    """``covariate`` with the SQL of ``metric`` (the Metric it names); ratios are refused.

    Example
    -------
    >>> from cairn.experiments.metrics import BUILTIN_METRICS
    >>> resolve("score", Covariate("score", 86_400_000_000), BUILTIN_METRICS["score"]).sql
    'score'
    """
    if metric is None:
        raise ConfigError(
            f"metrics.{owner}.cuped.covariate names no known metric; got {covariate.metric!r}."
        )
    if metric.kind == "ratio":
        raise ConfigError(
            f"metrics.{owner}.cuped.covariate must be a proportion or mean metric; "
            f"got {covariate.metric!r}, a ratio."
        )
    return Covariate(
        covariate.metric,
        covariate.window,
        covariate.min_units,
        metric.sql,
        metric.kind,
        "max" if metric.kind == "proportion" else metric.unit_aggregate,
    )


class CupedSpec(FileModel):
    """metrics.NAME.cuped: the metric's CUPED covariate (none declared: no CUPED)."""

    unknown_key: ClassVar[str] = "Unknown key {key!r}{inside}; allowed: {allowed}."

    covariate: Annotated[str, Field(pattern=_NAME.pattern)] = key(
        ...,
        "The metric measured over the pre-period (a proportion or mean metric; often the "
        "metric itself).",
        expected="a metric name",
        examples=["approval_rate"],
    )
    window: Duration = key(
        ...,
        "The pre-period: the window before the experiment start whose non-experiment traffic "
        "gives each unit its covariate.",
        examples=["28d"],
    )
    min_units: Annotated[int, Field(ge=2)] = key(
        DEFAULT_MIN_UNITS,
        "Units with a pre-period value each arm needs; fewer and the unadjusted test is used.",
    )

    def to_covariate(self, owner: str) -> Covariate:
        """The declaration as a :class:`Covariate` (unresolved)."""
        if self.window <= 0:
            raise ConfigError(
                f"metrics.{owner}.cuped.window must be a positive duration such as 28d; "
                f"got {self.window} us."
            )
        return Covariate(self.covariate, self.window, self.min_units)
