"""var and std: sample variance and standard deviation (missing with fewer than 2 values).

The state is ``[n, mean, m2]`` updated with Welford's method and merged with Chan et al.'s
formula, which stays accurate where the textbook sum-of-squares form cancels catastrophically.
"""

from __future__ import annotations

import math
from typing import Any

from cairn.core.types import Dtype
from cairn.features.aggregates.base import AggregateFunction, Order


class Var(AggregateFunction):
    """Sample variance (denominator n - 1).

    Example
    -------
    >>> v = Var()
    >>> a, b = v.fold([(1.0, (1, 1, 0)), (2.0, (2, 2, 1))]), v.fold([(3.0, (3, 3, 2))])
    >>> v.finalize(v.merge(a, b))
    1.0
    """

    name = "var"

    def init(self) -> list[float]:
        return [0, 0.0, 0.0]

    def update(self, state: list[float], value: Any, order: Order) -> list[float]:
        n, mean, m2 = state
        n += 1
        delta = value - mean
        mean += delta / n
        return [n, mean, m2 + delta * (value - mean)]

    def merge(self, a: list[float], b: list[float]) -> list[float]:
        na, nb = a[0], b[0]
        if na == 0:
            return list(b)
        if nb == 0:
            return list(a)
        n = na + nb
        delta = b[1] - a[1]
        return [n, a[1] + delta * nb / n, a[2] + b[2] + delta * delta * na * nb / n]

    def finalize(self, state: list[float]) -> float | None:
        return None if state[0] < 2 else max(state[2], 0.0) / (state[0] - 1)

    def sql(self, column: str, order: str) -> str:
        return f"var_samp({column})"

    def state_sql(self, column: str, order: str) -> str:
        return (
            f"[count({column})::DOUBLE, coalesce(avg({column}), 0)::DOUBLE, "
            f"coalesce(var_pop({column}) * count({column}), 0)::DOUBLE]"
        )

    def spark_state_sql(self, column: str, order: str) -> str:
        return (
            f"array(CAST(count({column}) AS DOUBLE), CAST(coalesce(avg({column}), 0) AS DOUBLE), "
            f"CAST(coalesce(var_pop({column}) * count({column}), 0) AS DOUBLE))"
        )

    def state_from_sql(self, value: Any) -> list[float]:
        return [int(value[0]), value[1], value[2]]

    def output_dtype(self, input_dtype: Dtype) -> Dtype:
        return Dtype.FLOAT64


class Std(Var):
    """Sample standard deviation.

    Example
    -------
    >>> s = Std()
    >>> s.finalize(s.fold([(1.0, (1, 1, 0)), (3.0, (2, 2, 1))]))
    1.4142135623730951
    """

    name = "std"

    def finalize(self, state: list[float]) -> float | None:
        var = super().finalize(state)
        return None if var is None else math.sqrt(var)

    def sql(self, column: str, order: str) -> str:
        return f"stddev_samp({column})"
