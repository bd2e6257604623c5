"""PSI and label-rate checks against stored reference profiles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cairn.quality import Check, Suite, SuiteError, profile_reference, save_profile, validate


@pytest.fixture
def reference(global_random_seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(global_random_seed)
    n = 20_000
    return pd.DataFrame(
        {
            "amount": rng.normal(100, 15, n),
            "channel": rng.choice(["web", "app", "branch"], n, p=[0.5, 0.4, 0.1]),
            "y": (rng.random(n) < 0.25).astype(int),
        }
    )


def psi_suite(tmp_path: Path, reference: pd.DataFrame) -> Suite:
    save_profile(profile_reference(reference, label="y"), tmp_path / "ref.json")
    text = """\
name: drift
expectations:
  - expect_column_psi_to_be_less_than: {column: amount, reference: ref.json, threshold: 0.1}
  - expect_column_psi_to_be_less_than: {column: channel, reference: ref.json, threshold: 0.1}
  - expect_label_rate_to_be_stable: {column: y, reference: ref.json, max_delta: 0.03}
"""
    from cairn.quality import load_suite

    (tmp_path / "drift.yaml").write_text(text)
    return load_suite(tmp_path / "drift.yaml")


def test_the_reference_itself_is_stable(tmp_path: Path, reference: pd.DataFrame) -> None:
    result = validate(psi_suite(tmp_path, reference), reference)
    assert result.verdict == "passed"
    amount, channel, label = result.checks
    assert amount.observed == pytest.approx(0.0, abs=1e-12) and channel.observed == 0.0
    assert amount.details["band"] == "stable" and len(amount.details["bins"]) == 11
    assert label.observed == pytest.approx(reference["y"].mean())


def test_shift_unseen_categories_missing_values_and_label_drift(
    tmp_path: Path, reference: pd.DataFrame, global_random_seed: int
) -> None:
    rng = np.random.default_rng(global_random_seed + 1)
    current = reference.sample(5000, random_state=1).reset_index(drop=True)
    current["amount"] = current["amount"] + 20
    current.loc[:499, "amount"] = np.nan
    current.loc[:999, "channel"] = "kiosk"
    current["y"] = (rng.random(len(current)) < 0.4).astype(int)
    result = validate(psi_suite(tmp_path, reference), current)
    amount, channel, label = result.checks
    assert not amount.success and amount.details["band"] == "drift"
    assert amount.details["actual"][-1] == pytest.approx(0.1)  # the missing bin
    assert not channel.success and channel.details["actual"][-2] == pytest.approx(0.2)  # unseen
    assert not label.success and label.details["delta"] == pytest.approx(0.15, abs=0.03)


def test_profile_errors_name_the_check(tmp_path: Path, reference: pd.DataFrame) -> None:
    profile = profile_reference(reference, ["amount"])
    check = Check("expect_column_psi_to_be_less_than", {"column": "y", "reference": "p"})
    with pytest.raises(SuiteError, match=r"check #1 .* reference profile has no column 'y'"):
        validate(Suite("s", [check]), reference, references={"p": profile})
    check = Check(
        "expect_column_psi_to_be_less_than", {"column": "amount", "reference": "nope.json"}
    )
    with pytest.raises(SuiteError, match="no reference profile at"):
        validate(Suite("s", [check], base_dir=tmp_path), reference)
    check = Check("expect_label_rate_to_be_stable", {"column": "y", "reference": "p"})
    with pytest.raises(SuiteError, match="holds no label rate for 'y'"):
        validate(Suite("s", [check]), reference, references={"p": profile})
    with pytest.raises(SuiteError, match="exactly one of 'reference' and 'reference_rate'"):
        Suite("s", [Check("expect_label_rate_to_be_stable", {"column": "y"})])


def test_label_rate_of_text_and_boolean_labels() -> None:
    text = pd.DataFrame({"y": ["bad", "good", "good", "good", None]})
    check = Check(
        "expect_label_rate_to_be_stable",
        {"column": "y", "reference_rate": 0.25, "positive_value": "bad"},
    )
    assert validate(Suite("s", [check]), text).checks[0].observed == 0.25
    flags = pd.DataFrame({"y": [True, False, False, False]})
    check = Check(
        "expect_label_rate_to_be_stable",
        {"column": "y", "reference_rate": 0.5, "positive_value": True, "max_delta": 0.1},
    )
    result = validate(Suite("s", [check]), flags).checks[0]
    assert (result.success, result.observed) == (False, 0.25)
