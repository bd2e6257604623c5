"""Suites from YAML and Python: both forms, Great Expectations JSON, and one clear error per
kind of bad suite, naming the check and its place in the file."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core.errors import DefinitionError
from cairn.quality import Action, Check, Layer, Severity, Suite, SuiteError, load_suite, validate

GOOD = """\
name: loans
actions: {medium: halt}
expectations:
  - expect_column_values_to_not_be_null: {column: id, severity: high}
  - type: expect_column_values_to_be_between
    kwargs: {column: amount, min_value: 0}
    severity: low
    layer: statistical
"""


def write(tmp_path: Path, text: str, name: str = "suite.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_short_and_long_forms(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path, GOOD))
    first, second = suite.resolved()
    assert suite.name == "loans" and len(suite.checks) == 2
    assert (first.severity, first.layer, first.action) == (Severity.HIGH, Layer.SCHEMA, Action.HALT)
    assert (second.severity, second.layer, second.action) == (
        Severity.LOW,
        Layer.STATISTICAL,
        Action.LOG,
    )
    assert suite.actions[Severity.MEDIUM] is Action.HALT
    assert suite.base_dir == tmp_path.resolve()


def test_great_expectations_suite_json(tmp_path: Path) -> None:
    gx = {
        "name": "gx_suite",
        "id": "1b2c",
        "meta": {"great_expectations_version": "1.5.0"},
        "notes": None,
        "expectations": [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "a", "value_set": [1, 2], "result_format": "SUMMARY"},
                "meta": {},
                "id": "abc",
                "severity": "warning",
            }
        ],
    }
    suite = load_suite(write(tmp_path, json.dumps(gx), "gx.json"))
    (check,) = suite.resolved()
    assert (suite.name, check.severity, check.action) == ("gx_suite", Severity.MEDIUM, Action.WARN)


BAD = [
    (
        "  - expect_column_values_to_be_nul: {column: id}\n",
        "unknown expectation 'expect_column_values_to_be_nul'. Did you mean",
    ),
    (
        "  - expect_column_values_to_be_between: {min_value: 1}\n",
        "the argument 'column' is required",
    ),
    (
        "  - expect_column_values_to_be_between: {column: id, min_value: [1]}\n",
        "argument 'min_value' must be a number, a date/time (ISO string) or null; got [1]",
    ),
    ("  - expect_column_values_to_be_between: {column: id}\n", "give min_value, max_value or both"),
    (
        "  - expect_column_values_to_not_be_null: {column: id, mostly: 1.5}\n",
        "argument 'mostly' must be a number in [0, 1]; got 1.5",
    ),
    (
        "  - expect_column_values_to_not_be_null: {colum: id}\n",
        "unknown argument 'colum' (did you mean 'column'?)",
    ),
    (
        "  - expect_column_values_to_not_be_null: {column: id, severity: fatal}\n",
        "severity must be one of 'critical', 'high', 'medium', 'low'; got 'fatal'",
    ),
    (
        "  - expect_column_values_to_be_in_set: {column: id, value_set: 3}\n",
        "argument 'value_set' must be a list of values; got 3",
    ),
    (
        "  - expect_compound_columns_to_be_unique: {column_list: [a, a]}\n",
        "argument 'column_list' must be a list of distinct column names",
    ),
    (
        "  - expect_column_pair_values_a_to_be_greater_than_b:"
        " {column_A: a, column_B: b, ignore_row_if: sometimes}\n",
        "argument 'ignore_row_if' must be one of",
    ),
    (
        "  - expect_data_to_be_fresh: {column: ts, max_age: soon}\n",
        "argument 'max_age' must be a duration",
    ),
    (
        "  - expect_column_values_to_not_be_null: {column: id, row_condition: 'a > 1'}\n",
        "argument 'row_condition' is not supported",
    ),
    ("  - just_a_string\n", "a check must be a mapping"),
    (
        "  - expect_column_values_to_not_be_null: {column: id}\n    serverity: high\n",
        "unknown key 'serverity' beside the expectation",
    ),
]


@pytest.mark.parametrize(("line", "message"), BAD, ids=[b[1][:40] for b in BAD])
def test_bad_check_names_check_position_and_line(tmp_path: Path, line: str, message: str) -> None:
    text = "name: s\nexpectations:\n  - expect_column_to_exist: {column: id}\n" + line
    path = write(tmp_path, text)
    with pytest.raises(SuiteError) as err:
        load_suite(path)
    assert f"{path}:4: check #2" in str(err.value)
    assert message in str(err.value)
    assert isinstance(err.value, DefinitionError) and isinstance(err.value, ValueError)


def test_unknown_column_is_named_with_its_check_when_data_arrives(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "name: s\nexpectations:\n  - expect_column_values_to_not_be_null:\n      column: amout\n",
    )
    with pytest.raises(
        SuiteError,
        match=r"suite.yaml:3: check #1 .* unknown column 'amout' \(did you mean 'amount'\?\)",
    ):
        validate(path, pd.DataFrame({"amount": [1.0]}))


def test_a_declared_column_missing_from_the_data_fails_checks_instead(tmp_path: Path) -> None:
    suite = Suite(
        "s",
        [
            Check("expect_column_to_exist", {"column": "amount"}),
            Check("expect_column_values_to_not_be_null", {"column": "amount"}),
            Check("expect_column_values_to_not_be_null", {"column": "id"}),
        ],
    )
    result = validate(suite, pd.DataFrame({"id": [1, 2]}))
    assert [c.success for c in result.checks] == [False, False, True]
    assert "missing from the data" in result.checks[1].message
    assert result.action is Action.HALT


def test_bounds_of_the_wrong_kind_for_the_column(tmp_path: Path) -> None:
    check = Check("expect_column_values_to_be_between", {"column": "n", "min_value": "one"})
    with pytest.raises(SuiteError, match=r"check #1 .* column 'n' is BIGINT; give numeric bounds"):
        validate(Suite("s", [check]), pd.DataFrame({"n": [1]}))
    check = Check("expect_column_values_to_be_between", {"column": "t", "min_value": 3})
    with pytest.raises(SuiteError, match="holds dates/times; give bounds as ISO dates/times"):
        validate(Suite("s", [check]), pd.DataFrame({"t": pd.to_datetime(["2026-01-01"], utc=True)}))
    check = Check("expect_column_mean_to_be_between", {"column": "s", "min_value": 3})
    with pytest.raises(SuiteError, match="column 's' is TIMESTAMP.*expected a numeric column"):
        validate(Suite("s", [check]), pd.DataFrame({"s": pd.to_datetime(["2026-01-01"])}))


def test_suite_level_errors(tmp_path: Path) -> None:
    with pytest.raises(SuiteError, match="not valid YAML"):
        load_suite(write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(SuiteError, match="unknown key 'expectation'"):
        load_suite(write(tmp_path, "name: s\nexpectation: []\n"))
    with pytest.raises(SuiteError, match="'expectations' must be a list"):
        load_suite(write(tmp_path, "name: s\nexpectations: {}\n"))
    with pytest.raises(SuiteError, match=r"actions key must be one of"):
        load_suite(write(tmp_path, "name: s\nactions: {urgent: halt}\nexpectations: []\n"))
    with pytest.raises(SuiteError, match="No suite file"):
        load_suite(tmp_path / "missing.yaml")
    with pytest.raises(SuiteError, match="invalid regex|not a valid RE2 pattern"):
        validate(
            Suite(
                "s", [Check("expect_column_values_to_match_regex", {"column": "a", "regex": "(a"})]
            ),
            pd.DataFrame({"a": ["x"]}),
        )


def test_suite_name_defaults_to_the_file_name(tmp_path: Path) -> None:
    assert load_suite(write(tmp_path, "expectations: []\n", "orders.yaml")).name == "orders"


CHECKS = st.sampled_from(
    [
        Check("expect_column_values_to_not_be_null", {"column": "a", "mostly": 0.5}),
        Check(
            "expect_column_values_to_be_between", {"column": "a", "min_value": -1.5}, severity="low"
        ),
        Check("expect_column_values_to_be_in_set", {"column": "b", "value_set": ["é", "x"]}),
        Check(
            "expect_compound_columns_to_be_unique", {"column_list": ["a", "b"]}, layer="business"
        ),
        Check("expect_table_row_count_to_be_between", {"min_value": 1, "max_value": 10}),
        Check("expect_data_to_be_fresh", {"column": "t", "max_age": "2d"}, severity="medium"),
    ]
)


@settings(max_examples=40, deadline=None)
@given(checks=st.lists(CHECKS, max_size=6), rows=st.integers(0, 50))
def test_suites_round_trip_through_yaml(checks: list[Check], rows: int) -> None:
    suite = Suite("round", checks, sample_rows=rows, actions={"low": "warn"})
    import yaml

    again = Suite.from_dict(yaml.safe_load(suite.to_yaml()))
    assert again == suite and again.digest == suite.digest
