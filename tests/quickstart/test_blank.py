"""The blank project: every file valid as written (schema and parser), each key explained,
and a clear first error until the data is there."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from cairn.app.project_files import FILE_KINDS, check_project
from cairn.cli.main import app
from cairn.core.errors import ConfigError
from cairn.core.settings import Settings
from cairn.quickstart.blank import DATA_COLUMNS, DATA_FILE, create_blank_project, project_name
from tests._schemas import validator

runner = CliRunner(env={"COLUMNS": "200"})
KIND_OF = {
    "cairn.yaml": "cairn",
    "train.yaml": "train",
    "deployments.yaml": "deployments",
    "reason_codes.yaml": "reason_codes",
    "experiments.yaml": "experiments",
    "quality/customers.yaml": "quality",
}


@pytest.fixture
def blank(tmp_path: Path) -> Path:
    return create_blank_project(tmp_path / "churn").path


def test_every_file_is_valid_under_its_schema_and_its_parser(blank: Path) -> None:
    for rel, kind in KIND_OF.items():
        doc = yaml.safe_load((blank / rel).read_text())
        assert validator(kind).is_valid(doc), rel
        assert FILE_KINDS[kind].check(blank / rel, label=rel) == [], rel
    result = check_project(blank)
    assert result.ok and result.files == (
        "cairn.yaml", "features.py", "train.yaml", "deployments.yaml", "reason_codes.yaml",
        "experiments.yaml", "quality/customers.yaml",
    )  # fmt: skip


def test_every_key_is_written_and_explained(blank: Path) -> None:
    for rel in ("train.yaml", "deployments.yaml"):
        text = (blank / rel).read_text()
        kind = FILE_KINDS[KIND_OF[rel]].schema()
        defs = [kind, *kind.get("$defs", {}).values()]
        keys = {k for node in defs for k in node.get("properties", {})} - {"deployments"}
        for key in keys:
            assert re.search(rf"^\s*#?\s*{key}:", text, re.M), (rel, key)
    features = (blank / "features.py").read_text()
    for argument in ("name=", "join_keys=", "path=", "timestamp_field=", "timezone=", "ttl="):
        assert argument in features


def test_the_commented_settings_are_the_defaults(blank: Path) -> None:
    lines = (blank / "cairn.yaml").read_text().splitlines()
    text = []
    for line in lines:
        if match := re.match(r"^# (\w+):$", line):
            text.append(f"{match[1]}:")
        elif match := re.match(r"^#   (\w+):(.*?)\s+# ", line):
            text.append(f"  {match[1]}:{match[2]}")
        elif not line.startswith("#"):
            text.append(line)
    data = yaml.safe_load("\n".join(text))
    assert len(data) == 11 and data["project"] == "churn"  # project + 10 sections
    assert {"audit", "auth", "streaming", "retraining"} <= set(data)
    assert Settings.from_mapping(data, env={}) == Settings.from_mapping(
        {"project": "churn"}, env={}
    )


def test_apply_without_data_names_the_missing_file(blank: Path) -> None:
    result = runner.invoke(app, ["apply", "--repo", str(blank)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
    assert "data not found" in result.output and DATA_FILE in result.output


def test_with_the_data_added_apply_and_a_training_set_work(blank: Path) -> None:
    rng = np.random.default_rng(11)
    n = 200
    times = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(
        rng.integers(0, 200 * 86_400, n), unit="s"
    )
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "event_timestamp": times.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "age": rng.integers(18, 90, n),
            "income": rng.normal(40_000, 9_000, n).round(2),
            "label": rng.integers(0, 2, n),
        }
    )
    assert tuple(frame.columns) == DATA_COLUMNS
    frame.to_csv(blank / DATA_FILE, index=False)
    applied = runner.invoke(app, ["apply", "--repo", str(blank)])
    assert applied.exit_code == 0, applied.output
    train = yaml.safe_load((blank / "train.yaml").read_text())
    out = blank / "training.parquet"
    args = ["training-set", train["entities"], "-o", str(out), "--repo", str(blank)]
    for ref in train["features"]:
        args += ["-f", ref]
    made = runner.invoke(app, args)
    assert made.exit_code == 0, made.output
    rows = pd.read_parquet(out)
    assert len(rows) == n and rows["age"].notna().all()  # each row sees its own record


def test_the_folder_must_be_new_or_empty(tmp_path: Path) -> None:
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"blank project.*not empty.*notes\.txt"):
        create_blank_project(folder)
    made = create_blank_project(folder, force=True, name="mine")
    assert made.name == "mine" and (folder / "notes.txt").read_text() == "mine"
    assert project_name("2026 churn model") == "p_2026_churn_model"
