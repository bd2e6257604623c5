"""Results kept with history in the metadata store (SQLite and PostgreSQL)."""

from __future__ import annotations

import pandas as pd
import pytest

from cairn.metadata import MetadataStore
from cairn.quality import Check, QualityStore, Suite, validate

SUITE = Suite(
    "orders", [Check("expect_column_values_to_be_between", {"column": "x", "min_value": 0})]
)


def test_history_newest_first_and_full_results(metadata_url: str, project_name: str) -> None:
    store = QualityStore(MetadataStore(metadata_url), project=project_name)
    good = validate(SUITE, pd.DataFrame({"x": [1, 2]}), store=store, label="monday")
    bad = validate(SUITE, pd.DataFrame({"x": [1, -2, -3]}), store=store, label="tuesday")
    assert good.run_id is not None and bad.run_id is not None and bad.run_id > good.run_id
    runs = store.history("orders")
    assert [(r.data, r.verdict, r.action, r.failed, r.rows) for r in runs] == [
        ("tuesday", "failed", "halt", 1, 3),
        ("monday", "passed", "none", 0, 2),
    ]
    assert runs[0].health == pytest.approx(bad.health.score)
    again = store.get(bad.run_id)
    assert again.checks[0].failing_rows == [
        {"row": 1, "values": {"x": -2}},
        {"row": 2, "values": {"x": -3}},
    ]
    assert again.run_id == bad.run_id and again.suite_digest == SUITE.digest
    assert store.history("orders", limit=1)[0].run_id == bad.run_id
    assert store.suites() == ["orders"]
    other = QualityStore(MetadataStore(metadata_url), project=project_name + "_other")
    assert other.history("orders") == []
    with pytest.raises(KeyError, match="No quality run"):
        other.get(bad.run_id)
