"""The aggregation library: mergeable partial states shared by batch, streaming and online.

Each function is one small class with ``init`` / ``update`` / ``merge`` / ``finalize`` (Python
partial states per hop tile) and ``sql`` (the batch form over raw events).

Example
-------
>>> f = get_function("mean")
>>> f.finalize(f.merge(f.fold([(1.0, (0, 0, 0))]), f.fold([(3.0, (1, 1, 1))])))
2.0
"""

from __future__ import annotations

from cairn.core.errors import DefinitionError
from cairn.features.aggregates.base import AggregateFunction, Order, is_missing
from cairn.features.aggregates.count import Count
from cairn.features.aggregates.extrema import Max, Min
from cairn.features.aggregates.last import Last
from cairn.features.aggregates.mean import Mean
from cairn.features.aggregates.sum import Sum
from cairn.features.aggregates.tiles import full_tiles, tile_start, window_bounds
from cairn.features.aggregates.variance import Std, Var

FUNCTIONS: dict[str, AggregateFunction] = {
    f.name: f for f in (Count(), Sum(), Mean(), Min(), Max(), Last(), Std(), Var())
}


def get_function(name: str) -> AggregateFunction:
    """The aggregate function called ``name``, or a DefinitionError listing the choices."""
    try:
        return FUNCTIONS[name]
    except KeyError:
        raise DefinitionError(
            f"Aggregation function must be one of {', '.join(FUNCTIONS)}; got {name!r}."
        ) from None


__all__ = [
    "FUNCTIONS",
    "AggregateFunction",
    "Count",
    "Last",
    "Max",
    "Mean",
    "Min",
    "Order",
    "Std",
    "Sum",
    "Var",
    "full_tiles",
    "get_function",
    "is_missing",
    "tile_start",
    "window_bounds",
]
