"""`cairn train`, `cairn runs compare|list` through the CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.cli.main import app
from cairn.training import TrainConfig
from tests.tracking._fixtures import Governed


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CAIRN_USER", "ana")
    return CliRunner()


def write_config(root: Path, config: TrainConfig) -> Path:
    path = root / "train.yaml"
    path.write_text(config.to_yaml())
    return path


def test_train_compare_and_reproduce(governed: Governed, runner: CliRunner) -> None:
    write_config(governed.root, governed.config)
    repo = ["--repo", str(governed.root)]
    first = runner.invoke(app, ["train", "--config", "train.yaml", *repo])
    assert first.exit_code == 0, first.output
    assert "Registered credit-default version 1" in first.output and "auc" in first.output
    with Project.open(governed.root) as project:  # no token: CAIRN_USER, tagged as such
        tags = project.registry.version("credit-default", "1").tags
    assert tags["cairn.author"] == "ana" and tags["cairn.author_authenticated"] == "false"
    lgbm = governed.tracker.search_runs()[0].run_id
    governed.config = TrainConfig.from_mapping(
        {**governed.config.to_dict(), "model": {"num_boost_round": 5, "params": {"num_leaves": 3}}}
    )
    write_config(governed.root, governed.config)
    second = runner.invoke(app, ["train", "-c", str(governed.root / "train.yaml"), *repo])
    assert second.exit_code == 0, second.output
    other = governed.tracker.search_runs()[0].run_id
    compared = runner.invoke(app, ["runs", "compare", lgbm, other, *repo])
    assert compared.exit_code == 0, compared.output
    assert "valid_auc" in compared.output and "model.num_leaves" in compared.output
    assert lgbm[:12] in compared.output and other[:12] in compared.output
    as_json = runner.invoke(app, ["runs", "compare", lgbm, other, "--json", *repo])
    assert '"model.num_leaves": [\n      "7",\n      "3"\n    ]' in as_json.output
    listed = runner.invoke(app, ["runs", "list", *repo])
    assert listed.exit_code == 0 and lgbm in listed.output
    again = runner.invoke(app, ["train", "--reproduce", lgbm, *repo])
    assert again.exit_code == 0, again.output
    assert "hashes to the same manifest digest" in again.output
    assert "Metrics are identical" in again.output


def test_cli_bad_input_is_one_line(governed: Governed, runner: CliRunner) -> None:
    repo = ["--repo", str(governed.root)]
    missing = runner.invoke(app, ["train", "--config", "nope.yaml", *repo])
    assert missing.exit_code == 2 and "--config nope.yaml: no such file" in missing.output
    neither = runner.invoke(app, ["train", *repo])
    assert neither.exit_code == 2 and "either --config FILE" in neither.output
    write_config(governed.root, governed.config)
    text = (governed.root / "train.yaml").read_text().replace("label: defaulted", "label: churn")
    (governed.root / "train.yaml").write_text(text)
    bad_label = runner.invoke(app, ["train", "--config", "train.yaml", *repo])
    assert bad_label.exit_code == 2
    assert "label 'churn' is not a column of the entity rows" in bad_label.output
    assert len(bad_label.output.strip().splitlines()) == 1
    one = runner.invoke(app, ["runs", "compare", "abc", *repo])
    assert one.exit_code == 2 and "at least two run ids" in one.output
    unknown = runner.invoke(app, ["runs", "compare", "abc", "def", *repo])
    assert unknown.exit_code == 2 and "No run 'abc'" in unknown.output


def test_cli_reproduce_refuses_changed_data(governed: Governed, runner: CliRunner) -> None:
    run_id = governed.train().run_id
    path = governed.root / "data" / "profiles.parquet"
    frame = pd.read_parquet(path)
    frame.loc[0, "age"] = 99
    frame.to_parquet(path, index=False)
    out = runner.invoke(app, ["train", "--reproduce", run_id, "--repo", str(governed.root)])
    assert out.exit_code == 2 and "source 'profiles' content sha256" in out.output
