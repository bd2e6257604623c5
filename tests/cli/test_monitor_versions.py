"""`cairn monitor run` judges each model version, arm and shadow apart, each against its own
version's reference profile (`--version`, `--arm` narrow it)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cairn import FeatureStore
from cairn.app.model_loader import RegistryModelLoader
from cairn.cli.main import app
from cairn.core.timeutil import to_micros
from cairn.registry.models import ModelRegistry
from cairn.tracking import Tracker
from cairn.training import TrainConfig, train
from tests.monitoring.test_window import log_table, record
from tests.tracking._fixtures import ENTITIES, FEATURES, definitions, mlflow_template, write_data

__all__ = ["mlflow_template"]

runner = CliRunner(env={"COLUMNS": "200"})
END = datetime(2026, 10, 2, tzinfo=UTC)
DAY = 86_400_000_000


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Path:
    """credit-default v1 (control) and v2 (canary) behind deployment ``credit``, plus v2 as a
    shadow of v1's requests. Only the canary arm's incomes are tripled."""
    root = tmp_path_factory.mktemp("monitor-versions") / "credit"
    root.mkdir()
    (root / "cairn.yaml").write_text("project: credit\n")
    write_data(root, 20261206)
    (root / ".cairn").mkdir()
    shutil.copy(mlflow_template, root / ".cairn" / "mlflow.db")
    store = FeatureStore(root)
    store.apply(definitions())  # type: ignore[arg-type]
    tracker = Tracker.for_project(store.settings.tracking, store.root, store.project)
    for rounds in (10, 12):
        config = TrainConfig.from_mapping(
            {
                "model_name": "credit-default", "entities": ENTITIES, "label": "defaulted",
                "features": FEATURES, "model": {"num_boost_round": rounds, "threads": 1},
                "reference": {"sample": 400, "rows": "all"},
            },
            source="train.yaml",
        )  # fmt: skip
        train(config, store, tracker, author="ana")
    (root / "deployments.yaml").write_text(
        "deployments:\n  credit: {model: credit-default/1, threshold: 0.5}\n"
    )
    registry = ModelRegistry(tracker, store.metadata.engine, store.project)
    loader = RegistryModelLoader(tracker, registry)
    models = {v: loader.load(f"credit-default/{v}", v) for v in ("1", "2")}
    people = pd.read_parquet(root / "data" / "profiles.parquet")
    rng = np.random.default_rng(11)
    start = to_micros(END) - DAY
    records = []

    def inputs(rows: pd.DataFrame, factor: float) -> list[dict[str, Any]]:
        return [
            {"income": float(r["income"]) * factor, "debt": float(r["debt"]),
             "home": str(r["home"]), "age": int(r["age"])}
            for r in rows.to_dict(orient="records")
        ]  # fmt: skip

    groups = (("1", "control", False, 1.0, 0), ("2", "canary", False, 3.0, 1))
    for version, arm, shadow, factor, seed in groups:
        rows = people.sample(300, random_state=seed, replace=True)
        values = inputs(rows, factor)
        scores = models[version].score(models[version].matrix(values))
        for i, (features, customer) in enumerate(zip(values, rows["customer_id"], strict=True)):
            pid = 10_000 * (seed + 1) + i
            common = {"entity": {"customer_id": int(customer)}, "model_version": version}
            records.append(
                record(pid, start + int(rng.integers(0, DAY)), features, float(scores[i]),
                       arm=arm, strategy="canary", shadow=shadow, **common)
            )  # fmt: skip
            if arm == "control":  # v2 also scored v1's requests, off the request path
                shadow_score = float(models["2"].score(models["2"].matrix([features]))[0])
                records.append(
                    record(pid + 5_000, records[-1].time, features, shadow_score, arm=arm,
                           strategy="canary", shadow=True, entity=common["entity"],
                           model_version="2")
                )  # fmt: skip
    (root / ".cairn" / "predictions").mkdir(parents=True)
    pq.write_table(log_table(records), root / ".cairn" / "predictions" / "day.parquet")
    return root


def _run(repo: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(
        app, ["monitor", "run", "-d", "credit", "--window", "1d", "--json", *args,
              "--repo", str(repo)],
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    body, _ = json.JSONDecoder().raw_decode(result.output)  # a check's one line may follow
    return result.exit_code, body


def test_every_version_arm_and_shadow_is_judged_apart(repo: Path) -> None:
    _, body = _run(repo)
    groups = {
        (g["group"]["version"], g["group"]["arm"], g["group"]["shadow"]): g for g in body["groups"]
    }
    assert set(groups) == {("1", "control", False), ("2", "canary", False), ("2", "control", True)}
    for (version, _, _), g in groups.items():
        assert g["model"]["version"] == version  # against its own version's reference
    assert groups[("2", "canary", False)]["drifted"] == ["income", "score"]  # only the canary
    assert groups[("1", "control", False)]["drifted"] == []
    assert groups[("2", "control", True)]["drifted"] == []  # the shadow saw v1's requests


def test_version_and_arm_filters(repo: Path) -> None:
    _, only_v1 = _run(repo, "--version", "1")
    assert [(g["group"]["version"], g["group"]["arm"]) for g in only_v1["groups"]] == [
        ("1", "control")
    ]
    _, canary = _run(repo, "--arm", "canary")
    assert [g["group"]["arm"] for g in canary["groups"]] == ["canary"]
    assert canary["drifted"] == ["income", "score"]


def test_fail_on_signal_counts_every_group(repo: Path) -> None:
    code, _ = _run(repo, "--version", "1", "--fail-on-signal")
    assert code == 0  # v1's traffic is stable
    code, _ = _run(repo, "--fail-on-signal")
    assert code == 1  # the canary's income drifted
