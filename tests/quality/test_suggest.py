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
