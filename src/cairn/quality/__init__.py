"""Data quality suites: checks in four layers, severities that decide, one query per table.

A suite lists checks by Great Expectations' expectation names (plus Cairn's ML checks: PSI
against a stored reference profile, label-rate stability, train/test leakage, feature-label
correlation, freshness). Each check has a layer (schema, statistical, business, ml) and a
severity (critical, high, medium, low) mapped to an action (halt, halt, warn, log by default).
A suite compiles to one DuckDB aggregate query per table, over a DataFrame, an Arrow table or
Parquet/CSV/Delta files (out of core on Parquet), plus one query for failing rows when
something fails. Results carry a health score and are kept in the metadata store.

Example
-------
>>> import pandas as pd
>>> suite = Suite("loans", [
...     Check("expect_column_values_to_be_unique", {"column": "id"}),
...     Check("expect_column_values_to_be_in_set", {"column": "term", "value_set": [12, 36]}),
... ])
>>> result = validate(suite, pd.DataFrame({"id": [1, 2, 2], "term": [12, 36, 60]}))
>>> [(c.expectation, c.unexpected_count) for c in result.failures]
[('expect_column_values_to_be_unique', 2), ('expect_column_values_to_be_in_set', 1)]
>>> result.action.value
'halt'
"""

from __future__ import annotations

from cairn.quality.check import Check
from cairn.quality.errors import QualityGateError, SuiteError
from cairn.quality.expectations import Expectation, expectation_names, get_expectation
from cairn.quality.gate import enforce, gate
from cairn.quality.health import HealthScore, health_score
from cairn.quality.profile import load_profile, profile_reference, save_profile
from cairn.quality.psi import psi
from cairn.quality.results import CheckResult, ValidationResult
from cairn.quality.runner import validate
from cairn.quality.severity import Action, Dimension, Layer, Severity
from cairn.quality.spec import Suite, load_suite
from cairn.quality.store import QualityStore, RunSummary
from cairn.quality.suggest import suggest_suite

__all__ = [
    "Action",
    "Check",
    "CheckResult",
    "Dimension",
    "Expectation",
    "HealthScore",
    "Layer",
    "QualityGateError",
    "QualityStore",
    "RunSummary",
    "Severity",
    "Suite",
    "SuiteError",
    "ValidationResult",
    "enforce",
    "expectation_names",
    "gate",
    "get_expectation",
    "health_score",
    "load_profile",
    "load_suite",
    "profile_reference",
    "psi",
    "save_profile",
    "suggest_suite",
    "validate",
]
