"""The expectations: one module per family, each registering its classes on import.

* :mod:`.table` — column exists, column set, row count, duplicate rows
* :mod:`.values` — not null, between, in set, regex
* :mod:`.uniqueness` — unique values, unique combinations, share of distinct values
* :mod:`.statistics` — mean, standard deviation, median, quantiles
* :mod:`.relations` — A greater than B, row sums, values found in another table
* :mod:`.drift` — PSI and label rate against a reference profile
* :mod:`.ml` — train/test leakage, feature-label correlation
* :mod:`.freshness` — age of the newest timestamp
"""

from __future__ import annotations

from cairn.quality.expectations import (  # noqa: F401  (importing registers)
    drift,
    freshness,
    ml,
    relations,
    statistics,
    table,
    uniqueness,
    values,
)
from cairn.quality.expectations.base import Expectation, Outcome, Plan, RowFilter
from cairn.quality.expectations.registry import expectation_names, get_expectation, register

__all__ = [
    "Expectation",
    "Outcome",
    "Plan",
    "RowFilter",
    "expectation_names",
    "get_expectation",
    "register",
]
