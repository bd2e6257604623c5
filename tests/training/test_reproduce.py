"""reproduce(): the same data trains the same model; changed data is refused, naming the change."""

from __future__ import annotations

import pandas as pd
import pytest

from cairn.training import DataVersionMismatchError, reproduce
from tests.tracking._fixtures import Governed


def test_reproduce_rebuilds_verifies_and_trains_again(governed: Governed) -> None:
    original = governed.train()
    again = reproduce(original.run_id, governed.store, governed.tracker, author="bo")
    assert again.digest == original.manifest.digest and again.identical_metrics
    assert again.result.run_id != original.run_id and again.result.version is None
    run = governed.tracker.get_run(again.result.run_id)
    assert run.tags["cairn.reproduces"] == original.run_id
    assert run.tags["cairn.manifest_digest"] == original.manifest.digest


def test_reproduce_detects_changed_source_data(governed: Governed) -> None:
    original = governed.train()
    path = governed.root / "data" / "profiles.parquet"
    frame = pd.read_parquet(path)
    income = frame["income"].to_numpy(copy=True)
    income[3] += 1  # one value in one row
    frame["income"] = income
    frame.to_parquet(path, index=False)
    with pytest.raises(
        DataVersionMismatchError,
        match=r"Cannot reproduce run .*changed: source 'profiles' content sha256 [0-9a-f]{12}… -> ",
    ):
        reproduce(original.run_id, governed.store, governed.tracker, author="bo")
    assert len(governed.tracker.search_runs()) == 1  # nothing trained


def test_reproduce_detects_changed_entity_rows(governed: Governed) -> None:
    original = governed.train()
    path = governed.root / "data" / "applications.parquet"
    frame = pd.read_parquet(path)
    labels = frame["defaulted"].to_numpy(copy=True)
    labels[0] = 1 - labels[0]  # a relabelled application
    frame["defaulted"] = labels
    frame.to_parquet(path, index=False)
    with pytest.raises(DataVersionMismatchError, match=r"entity rows content sha256"):
        reproduce(original.run_id, governed.store, governed.tracker, author="bo")


def test_reproduce_an_unknown_run(governed: Governed) -> None:
    with pytest.raises(KeyError, match="No run 'nope'"):
        reproduce("nope", governed.store, governed.tracker, author="bo")
