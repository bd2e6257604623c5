"""The contract of a mergeable aggregate function.

Every aggregate is defined once, with two executions of the same meaning:

* a **partial state** with ``init`` / ``update`` / ``merge`` / ``finalize`` in Python, used
  per hop tile by the stream processor and the online read path;
* an equivalent **SQL aggregate** over raw events (``sql``; ``spark_sql`` for Spark), used by
  the batch engines, and its partial state per tile (``state_sql``; ``spark_state_sql``).

States are plain JSON-ready values (``None``, numbers, lists), so tiles can be stored anywhere.
Missing values (``None`` and float NaN) are skipped by every function. The parity of the two
executions is a tested property (tests/features/test_aggregates.py).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar

from cairn.core.types import Dtype

Order = tuple[int, int, int]
"""The order of an event: (event time µs, created time µs, ingestion sequence)."""


def is_missing(value: Any) -> bool:
    """Whether ``value`` counts as missing (None or a float NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


class AggregateFunction(ABC):
    """A mergeable aggregate: ``finalize(merge(a, b))`` equals aggregating both inputs."""

    name: ClassVar[str]
    numeric_only: ClassVar[bool] = True
    """Whether the input column must be numeric."""

    @abstractmethod
    def init(self) -> Any:
        """The state of an empty window."""

    @abstractmethod
    def update(self, state: Any, value: Any, order: Order) -> Any:
        """The state after one more (non-missing) event; returns a new state."""

    @abstractmethod
    def merge(self, a: Any, b: Any) -> Any:
        """The state of the union of two disjoint sets of events."""

    @abstractmethod
    def finalize(self, state: Any) -> Any:
        """The feature value of a state."""

    @abstractmethod
    def sql(self, column: str, order: str) -> str:
        """A DuckDB aggregate over raw events equal to ``finalize`` of their state.

        ``column`` is a quoted column holding non-missing values only (the engine filters),
        ``order`` an expression ordering events like :data:`Order`.
        """

    def spark_sql(self, column: str, order: str) -> str:
        """The same aggregate in Spark SQL (the Spark offline engine); :meth:`sql` unless the
        dialects differ."""
        return self.sql(column, order)

    @abstractmethod
    def state_sql(self, column: str, order: str) -> str:
        """A DuckDB aggregate over raw events giving their partial state (for hop tiles);
        :meth:`state_from_sql` turns the fetched value into the Python state."""

    def spark_state_sql(self, column: str, order: str) -> str:
        """:meth:`state_sql` in Spark SQL (materialization on the Spark engine), fetched into
        the same Python state by :meth:`state_from_sql`; :meth:`state_sql` unless the dialects
        differ."""
        return self.state_sql(column, order)

    def state_from_sql(self, value: Any) -> Any:
        """The Python state of a value fetched from :meth:`state_sql` (identity by default)."""
        return value

    @abstractmethod
    def output_dtype(self, input_dtype: Dtype) -> Dtype:
        """The dtype of the feature for an input column of ``input_dtype``."""

    def fold(self, events: Iterable[tuple[Any, Order]]) -> Any:
        """The state of ``events`` (value, order) pairs; missing values are skipped."""
        state = self.init()
        for value, order in events:
            if not is_missing(value):
                state = self.update(state, value, order)
        return state
