"""sum: the total of the values in the window (0 when empty, the identity of the sum)."""

from __future__ import annotations

from typing import Any

from cairn.core.types import Dtype
from cairn.features.aggregates.base import AggregateFunction, Order


class Sum(AggregateFunction):
    """Total of the values; integers stay integers.

    Example
    -------
    >>> s = Sum()
    >>> s.finalize(s.merge(s.fold([(2.5, (1, 1, 0))]), s.fold([(1.5, (2, 2, 1))])))
    4.0
    """

    name = "sum"

    def init(self) -> int | float:
        return 0

    def update(self, state: int | float, value: Any, order: Order) -> int | float:
        return state + value  # type: ignore[no-any-return]

    def merge(self, a: int | float, b: int | float) -> int | float:
        return a + b

    def finalize(self, state: int | float) -> int | float:
        return state

    def sql(self, column: str, order: str) -> str:
        return f"coalesce(sum({column}), 0)"

    def state_sql(self, column: str, order: str) -> str:
        return f"coalesce(sum({column}), 0)"

    def state_from_sql(self, value: Any) -> int | float:
        return int(value) if isinstance(value, int) else float(value)

    def output_dtype(self, input_dtype: Dtype) -> Dtype:
        return Dtype.INT64 if input_dtype is Dtype.INT64 else Dtype.FLOAT64
