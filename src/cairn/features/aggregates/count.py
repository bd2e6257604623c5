"""count: the number of non-missing values in the window (0 when empty)."""

from __future__ import annotations

from typing import Any

from cairn.core.types import Dtype
from cairn.features.aggregates.base import AggregateFunction, Order


class Count(AggregateFunction):
    """Number of non-missing values.

    Example
    -------
    >>> c = Count()
    >>> c.finalize(c.merge(c.fold([(1.0, (1, 1, 0)), (None, (2, 2, 1))]), c.fold([(3, (3, 3, 2))])))
    2
    """

    name = "count"
    numeric_only = False

    def init(self) -> int:
        return 0

    def update(self, state: int, value: Any, order: Order) -> int:
        return state + 1

    def merge(self, a: int, b: int) -> int:
        return a + b

    def finalize(self, state: int) -> int:
        return state

    def sql(self, column: str, order: str) -> str:
        return f"count({column})"

    def state_sql(self, column: str, order: str) -> str:
        return f"count({column})"

    def output_dtype(self, input_dtype: Dtype) -> Dtype:
        return Dtype.INT64
