"""Drafted suites describe the data they were drafted from, and pass on it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cairn.quality import Suite, suggest_suite, validate
from cairn.quality.suggest import shape_regex


def test_draft_from_a_profile_passes_on_its_data(global_random_seed: int) -> None:
    rng = np.random.default_rng(global_random_seed)
    n = 200
    frame = pd.DataFrame(
        {
            "id": [f"APP-{i:05d}" for i in range(n)],
            "amount": rng.uniform(10, 500, n).round(2),
            "channel": rng.choice(["web", "app"], n),
            "note": pd.Series([None if i % 10 == 0 else f"n{i}" for i in range(n)], dtype=object),
        }
    )
    draft = suggest_suite(frame, name="apps")
    kinds = {(c.expectation, c.kwargs.get("column")) for c in draft.checks}
    assert ("expect_column_values_to_be_unique", "id") in kinds
    assert ("expect_column_values_to_match_regex", "id") in kinds
    assert ("expect_column_values_to_be_in_set", "channel") in kinds
    assert ("expect_column_values_to_be_between", "amount") in kinds
    note = next(c for c in draft.checks if c.kwargs.get("column") == "note")
    assert note.kwargs["mostly"] == 0.88  # 90 % present, with a margin
    assert validate(draft, frame).verdict == "passed"
    import yaml

    assert Suite.from_dict(yaml.safe_load(draft.to_yaml())) == draft


def test_shape_regex() -> None:
    assert shape_regex("aaa-999999") == "^[A-Za-z]{3}-[0-9]{6}$"
    assert shape_regex("9.9a") == r"^[0-9]\.[0-9][A-Za-z]$"


def test_identifier_and_timestamp_columns_get_no_range_set_or_drift_checks(
    global_random_seed: int,
) -> None:
    from datetime import UTC, datetime, timedelta

    rng = np.random.default_rng(global_random_seed)
    n = 300
    now = datetime(2026, 3, 1, tzinfo=UTC)
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),  # named like an id
            "row_number": rng.permutation(n) + 1000,  # numbered densely: an id by its values
            "code": [f"c{rng.integers(10**9)}" for _ in range(n)],  # nearly all distinct text
            "event_timestamp": [
                now - timedelta(minutes=int(m)) for m in rng.integers(60, 10**4, n)
            ],
            "income": rng.integers(1_000, 90_000, n),  # integers, but spread: a measure
            "channel": rng.choice(["web", "app"], n),
        }
    )
    draft = suggest_suite(
        frame, name="events", reference="ref.json", profiled=list(frame.columns), now=now
    )
    by_column: dict[str, set[str]] = {}
    for c in draft.checks:
        if "column" in c.kwargs:
            by_column.setdefault(c.kwargs["column"], set()).add(c.expectation)
    not_null, unique = "expect_column_values_to_not_be_null", "expect_column_values_to_be_unique"
    for column in ("customer_id", "row_number"):
        assert by_column[column] == {not_null, unique}, column
    assert by_column["code"] <= {not_null, unique, "expect_column_values_to_match_regex"}
    assert by_column["event_timestamp"] == {not_null, "expect_data_to_be_fresh"}
    fresh = next(c for c in draft.checks if c.expectation == "expect_data_to_be_fresh")
    assert fresh.kwargs["max_age"] == "2d"  # newest row an hour old: a day, plus a day to spare
    assert "expect_column_values_to_be_between" in by_column["income"]
    assert "expect_column_psi_to_be_less_than" in by_column["income"]
    assert "expect_column_values_to_be_in_set" in by_column["channel"]
    plain = suggest_suite(frame, name="events", now=now)  # no PSI: no profile file to read
    assert validate(plain, frame, now=now).verdict == "passed"
