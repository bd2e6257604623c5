"""`cairn config schema|check` and `cairn init --template`: schemas of every file kind, and a
project's files checked one line per problem."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cairn.app.project_files import FILE_KINDS
from cairn.cli.config import KINDS
from cairn.cli.main import app

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.mark.parametrize("kind", list(FILE_KINDS))
def test_schema_of_every_kind_is_json_schema(kind: str) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    result = runner.invoke(app, ["config", "schema", kind])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert jsonschema_rs.meta.is_valid(schema)
    assert schema["$schema"].endswith("2020-12/schema") and schema["description"]


def test_an_unknown_kind_names_the_kinds() -> None:
    result = runner.invoke(app, ["config", "schema", "nope"])
    assert result.exit_code == 2
    assert "Unknown file kind 'nope'; the kinds are cairn, train, deployments" in result.output


def test_the_help_lists_the_kinds_and_examples() -> None:
    assert set(KINDS) == set(FILE_KINDS)
    for command in (["config", "schema"], ["config", "check"], ["init"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, command


@pytest.fixture
def blank(tmp_path: Path) -> Path:
    path = tmp_path / "mine"
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 0, result.output
    assert "blank project 'mine'" in result.output and "config check" in result.output
    return path


def test_a_new_blank_project_checks_clean(blank: Path) -> None:
    result = runner.invoke(app, ["config", "check", "--repo", str(blank)])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("OK: 7 files valid: cairn.yaml, features.py, train.yaml")
    assert "quality/customers.yaml" in result.stdout


def test_a_broken_key_is_one_line_naming_file_and_key(blank: Path) -> None:
    path = blank / "deployments.yaml"
    path.write_text(path.read_text().replace("threshold: 0.5", "threshold: 2.0", 1))
    train = blank / "train.yaml"
    train.write_text(train.read_text().replace("seed: 7", "seed: seven", 1))
    result = runner.invoke(app, ["config", "check", "--repo", str(blank)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "train.yaml: seed must be an integer; got 'seven'.",
        "deployments.yaml: deployments.customer.threshold must be between 0 and 1; got 2.0.",
    ]
    as_json = runner.invoke(app, ["config", "check", "--json", "--repo", str(blank)])
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert data["ok"] is False and data["problems"][1]["key"] == "deployments.customer.threshold"


def test_bad_yaml_and_a_missing_project(blank: Path, tmp_path: Path) -> None:
    (blank / "experiments.yaml").write_text("metrics: [unclosed\n")
    result = runner.invoke(app, ["config", "check", "--repo", str(blank)])
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    assert line.startswith("experiments.yaml: not valid YAML:")
    empty = tmp_path / "empty"
    empty.mkdir()
    missing = runner.invoke(app, ["config", "check", "--repo", str(empty)])
    assert missing.exit_code == 2 and "No cairn.yaml" in missing.output


def test_a_credit_project_checks_clean_and_applies(tmp_path: Path) -> None:
    path = tmp_path / "credit"
    made = runner.invoke(app, ["init", str(path), "--template", "credit", "--seed", "3"])
    assert made.exit_code == 0, made.output
    for name in ("train.yaml", "deployments.yaml", "reason_codes.yaml", "experiments.yaml"):
        assert (path / name).is_file(), name
    checked = runner.invoke(app, ["config", "check", "--repo", str(path)])
    assert checked.exit_code == 0, checked.output
    applied = runner.invoke(app, ["apply", "--repo", str(path)])
    assert applied.exit_code == 0, applied.output
    assert "created" in applied.output
