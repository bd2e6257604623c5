"""Helpers for quality tests: run checks over a frame in one call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from cairn.quality import Check, CheckResult, Suite, ValidationResult, validate

Run = Callable[..., ValidationResult]


def run_checks(data: Any, *checks: Check, **options: Any) -> ValidationResult:
    """Validate ``data`` with a suite of ``checks``."""
    return validate(Suite("test", list(checks)), data, **options)


def one(data: Any, expectation: str, **kwargs: Any) -> CheckResult:
    """The result of a single check."""
    severity = kwargs.pop("severity", None)
    return run_checks(data, Check(expectation, kwargs, severity=severity)).checks[0]


@pytest.fixture
def frame() -> pd.DataFrame:
    """Ten rows with a null, a NaN, text with unicode, and a timestamp column."""
    return pd.DataFrame(
        {
            "id": list(range(10)),
            "amount": [1.0, 2.0, 3.0, None, 5.0, 6.0, float("nan"), 8.0, 9.0, 10.0],
            "name": ["Zoë", "Ålborg", "naïve", "東京", None, "b", "c", "d", "e", "f"],
            "term": [12, 12, 36, 36, 36, 60, 60, 12, 12, 36],
            "ts": pd.date_range("2026-01-01", periods=10, freq="h", tz="UTC"),
        }
    )
