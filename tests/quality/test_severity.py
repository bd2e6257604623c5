"""Each severity maps to its action (by default and per suite), and a run takes the gravest."""

from __future__ import annotations

import logging

import pandas as pd
import pytest

from cairn.quality import Action, Check, Layer, QualityGateError, Severity, Suite, enforce, validate

BAD = pd.DataFrame({"x": [1, None]})


@pytest.mark.parametrize(
    ("severity", "action"),
    [("critical", "halt"), ("high", "halt"), ("medium", "warn"), ("low", "log")],
)
def test_default_action_of_each_severity(severity: str, action: str) -> None:
    suite = Suite("s", [Check("expect_column_values_to_not_be_null", {"column": "x"}, severity)])
    result = validate(suite, BAD)
    assert result.checks[0].action is Action(action)
    assert result.action is Action(action) and result.verdict == "failed"


def test_suite_overrides_and_the_run_takes_the_gravest_action() -> None:
    checks = [
        Check("expect_column_values_to_not_be_null", {"column": "x"}, "low"),
        Check("expect_column_values_to_be_between", {"column": "x", "min_value": 5}, "medium"),
    ]
    assert validate(Suite("s", checks), BAD).action is Action.WARN
    stricter = Suite("s", checks, actions={"medium": "halt", "low": "warn"})
    result = validate(stricter, BAD)
    assert [c.action for c in result.checks] == [Action.WARN, Action.HALT]
    assert result.action is Action.HALT and len(result.halting) == 1
    relaxed = Suite("s", checks, actions={Severity.MEDIUM: Action.LOG})
    assert validate(relaxed, BAD).action is Action.LOG


def test_default_severity_follows_the_layer() -> None:
    suite = Suite(
        "s",
        [
            Check("expect_column_values_to_not_be_null", {"column": "x"}),  # schema
            Check("expect_column_values_to_be_between", {"column": "x", "min_value": 0}),
            Check("expect_column_mean_to_be_between", {"column": "x", "min_value": 0}),
            Check("expect_data_to_be_fresh", {"column": "t", "max_age": 60}),
            Check("expect_column_mean_to_be_between", {"column": "x", "min_value": 0}, layer="ml"),
        ],
    )
    got = [(r.layer, r.severity) for r in suite.resolved()]
    assert got == [
        (Layer.SCHEMA, Severity.CRITICAL),
        (Layer.BUSINESS, Severity.HIGH),
        (Layer.STATISTICAL, Severity.MEDIUM),
        (Layer.ML, Severity.HIGH),
        (Layer.ML, Severity.HIGH),
    ]


def test_passing_run_has_no_action() -> None:
    suite = Suite("s", [Check("expect_column_values_to_not_be_null", {"column": "x"})])
    result = validate(suite, pd.DataFrame({"x": [1]}))
    assert (result.verdict, result.action, result.failures) == ("passed", Action.NONE, [])


def test_enforce_halts_warns_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    def run(severity: str) -> object:
        suite = Suite(
            "s", [Check("expect_column_values_to_not_be_null", {"column": "x"}, severity)]
        )
        return enforce(validate(suite, BAD), what="Batch")

    with pytest.raises(QualityGateError) as err:
        run("high")
    assert "Batch halted by quality suite 's'" in str(err.value)
    assert "#1 expect_column_values_to_not_be_null (x) [high]: 1 unexpected (50.00%)" in str(
        err.value
    )
    assert err.value.result.halting[0].failing_rows == [{"row": 1, "values": {"x": None}}]
    with caplog.at_level(logging.INFO, logger="cairn.quality"):
        run("medium")
        run("low")
    assert [r.levelno for r in caplog.records] == [logging.WARNING, logging.INFO]
