"""The health score: how sound the data is, per dimension and overall, from 0 to 100.

Each check scores the share of what it looked at that passed: for a row-level check,
``1 - unexpected share`` (so 2 % missing values score 98); for an aggregate check (a mean, a
PSI, a row count), 100 when it passes and 0 when it fails. A dimension's score is the
severity-weighted mean (critical 4, high 3, medium 2, low 1) of its checks' scores; the overall
score is the plain mean of the dimensions that have checks. The score describes the data; the
verdict and the action come from the checks' severities.

Example
-------
>>> from cairn.quality.severity import Dimension as D, Severity as S
>>> h = health_score([(D.COMPLETENESS, S.CRITICAL, 0.98), (D.VALIDITY, S.LOW, 0.0)])
>>> h.score, h.dimensions[D.COMPLETENESS], h.dimensions[D.TIMELINESS]
(49.0, 98.0, None)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cairn.quality.severity import Dimension, Severity


@dataclass(frozen=True)
class HealthScore:
    """Overall score and one score per dimension (None when no check covers it)."""

    score: float | None
    dimensions: Mapping[Dimension, float | None]

    def to_dict(self) -> dict[str, Any]:
        """``{"score": …, "completeness": …, …}``."""
        return {"score": self.score, **{str(d): v for d, v in self.dimensions.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HealthScore:
        """Inverse of :meth:`to_dict`."""
        return cls(data.get("score"), {d: data.get(str(d)) for d in Dimension})


def health_score(checks: Iterable[tuple[Dimension, Severity, float]]) -> HealthScore:
    """The health score of ``(dimension, severity, check score in [0, 1])`` triples."""
    sums: dict[Dimension, float] = {}
    weights: dict[Dimension, float] = {}
    for dimension, severity, score in checks:
        sums[dimension] = sums.get(dimension, 0.0) + severity.weight * min(max(score, 0.0), 1.0)
        weights[dimension] = weights.get(dimension, 0.0) + severity.weight
    dims: dict[Dimension, float | None] = {
        d: round(100.0 * sums[d] / weights[d], 2) if d in weights else None for d in Dimension
    }
    present = [v for v in dims.values() if v is not None]
    overall = round(sum(present) / len(present), 2) if present else None
    return HealthScore(overall, dims)
