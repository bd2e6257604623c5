"""mean: the arithmetic mean of the values in the window (missing when empty)."""

from __future__ import annotations

from typing import Any

from cairn.core.types import Dtype
from cairn.features.aggregates.base import AggregateFunction, Order


class Mean(AggregateFunction):
    """Arithmetic mean; the state is ``[n, sum]``.

    Example
    -------
    >>> m = Mean()
    >>> m.finalize(m.merge(m.fold([(1.0, (1, 1, 0))]), m.fold([(2.0, (2, 2, 1))])))
    1.5
    """

    name = "mean"

    def init(self) -> list[float]:
        return [0, 0.0]

    def update(self, state: list[float], value: Any, order: Order) -> list[float]:
        return [state[0] + 1, state[1] + value]

    def merge(self, a: list[float], b: list[float]) -> list[float]:
        return [a[0] + b[0], a[1] + b[1]]

    def finalize(self, state: list[float]) -> float | None:
        return None if state[0] == 0 else float(state[1]) / state[0]

    def sql(self, column: str, order: str) -> str:
        return f"avg({column})"

    def state_sql(self, column: str, order: str) -> str:
        return f"[count({column})::DOUBLE, coalesce(sum({column}), 0)::DOUBLE]"

    def spark_state_sql(self, column: str, order: str) -> str:
        return f"array(CAST(count({column}) AS DOUBLE), CAST(coalesce(sum({column}), 0) AS DOUBLE))"

    def state_from_sql(self, value: Any) -> list[float]:
        return [int(value[0]), value[1]]

    def output_dtype(self, input_dtype: Dtype) -> Dtype:
        return Dtype.FLOAT64
