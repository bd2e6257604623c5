"""min and max: the smallest and largest value in the window (missing when empty)."""

from __future__ import annotations

from typing import Any

from cairn.core.types import Dtype
from cairn.features.aggregates.base import AggregateFunction, Order


class Min(AggregateFunction):
    """Smallest value.

    Example
    -------
    >>> m = Min()
    >>> m.finalize(m.merge(m.fold([(3, (1, 1, 0))]), m.fold([(2, (2, 2, 1))])))
    2
    """

    name = "min"
    numeric_only = False

    def init(self) -> Any:
        return None

    def update(self, state: Any, value: Any, order: Order) -> Any:
        return value if state is None or value < state else state

    def merge(self, a: Any, b: Any) -> Any:
        if a is None:
            return b
        return a if b is None or a <= b else b

    def finalize(self, state: Any) -> Any:
        return state

    def sql(self, column: str, order: str) -> str:
        return f"min({column})"

    def state_sql(self, column: str, order: str) -> str:
        return f"min({column})"

    def output_dtype(self, input_dtype: Dtype) -> Dtype:
        return input_dtype


class Max(Min):
    """Largest value.

    Example
    -------
    >>> m = Max()
    >>> m.finalize(m.merge(m.fold([(3, (1, 1, 0))]), m.fold([(2, (2, 2, 1))])))
    3
    """

    name = "max"

    def update(self, state: Any, value: Any, order: Order) -> Any:
        return value if state is None or value > state else state

    def merge(self, a: Any, b: Any) -> Any:
        if a is None:
            return b
        return a if b is None or a >= b else b

    def sql(self, column: str, order: str) -> str:
        return f"max({column})"

    def state_sql(self, column: str, order: str) -> str:
        return f"max({column})"
