"""last: the value of the latest event in the window by (event time, created time, order)."""

from __future__ import annotations

from typing import Any

from cairn.core.types import Dtype
from cairn.features.aggregates.base import AggregateFunction, Order


class Last(AggregateFunction):
    """Value of the greatest ``(event_ts, created_ts, seq)``; the state is ``[order, value]``.

    Example
    -------
    >>> f = Last()
    >>> f.finalize(f.merge(f.fold([(7, (5, 5, 1))]), f.fold([(9, (5, 6, 0))])))
    9
    """

    name = "last"
    numeric_only = False

    def init(self) -> Any:
        return None

    def update(self, state: Any, value: Any, order: Order) -> Any:
        return [list(order), value] if state is None or list(order) >= state[0] else state

    def merge(self, a: Any, b: Any) -> Any:
        if a is None:
            return b
        return a if b is None or a[0] >= b[0] else b

    def finalize(self, state: Any) -> Any:
        return None if state is None else state[1]

    def sql(self, column: str, order: str) -> str:
        return f"arg_max({column}, {order})"

    def spark_sql(self, column: str, order: str) -> str:
        return f"max_by({column}, {order})"  # rows with a null order are skipped, as arg_max

    def state_sql(self, column: str, order: str) -> str:
        return f"{{'o': max({order}), 'v': arg_max({column}, {order})}}"

    def spark_state_sql(self, column: str, order: str) -> str:
        return f"named_struct('o', max({order}), 'v', max_by({column}, {order}))"

    def state_from_sql(self, value: Any) -> Any:
        if value is None or value["o"] is None:
            return None
        return [
            list(value["o"].values()) if isinstance(value["o"], dict) else list(value["o"]),
            value["v"],
        ]

    def output_dtype(self, input_dtype: Dtype) -> Dtype:
        return input_dtype
