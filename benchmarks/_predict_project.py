"""The project the predict benchmark serves: the example credit project with a trained champion.

Built the way the quickstart builds it (``cairn.quickstart.run``,
``cairn.quickstart.serving_demo``): write the example project, apply its definitions, materialize
the online store up to the end of the data (+1 µs), train and promote ``credit-default@champion``
(``run_training_demo(commit=False)``), write ``deployments.yaml`` and ``reason_codes.yaml``.
Then, for the bare endpoint: the champion's native booster (loaded the way ``cairn serve`` loads
it, :class:`cairn.app.model_loader.RegistryModelLoader`) saved as ``model.lgb``, and the model
matrix of the customers the benchmark sends (their online values, as Cairn's predictor builds
them), so both servers score the same booster on the same inputs.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

CHAMPION = "credit-default@champion"
DEPLOYMENT = "credit"


def latest_customers(project: Path, n: int) -> list[int]:
    """The customers of the ``n`` latest applications (distinct), as the serving demo picks."""
    import duckdb

    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT customer_id FROM (SELECT customer_id, max(event_timestamp) AS t "
            "FROM read_parquet(?) GROUP BY customer_id) ORDER BY t DESC, customer_id LIMIT ?",
            [str(project / "data" / "applications.parquet"), n],
        ).fetchall()
    return [int(r[0]) for r in rows]


def build(project: Path, bare_dir: Path, customers: int) -> dict[str, Any]:
    """Build everything; return timings and facts for the report (written to setup.json)."""
    from cairn.app.model_loader import RegistryModelLoader
    from cairn.app.project import Project
    from cairn.quickstart.example import create_example_project
    from cairn.quickstart.example.deployments import write_example_deployments
    from cairn.quickstart.example.reason_codes import write_example_reason_codes
    from cairn.quickstart.training_demo import run_training_demo

    steps: dict[str, float] = {}
    t0 = time.perf_counter()
    example = create_example_project(project)
    opened = Project.open(project)
    store = opened.features
    store.apply(opened.definitions())
    end = example.data_end + timedelta(microseconds=1)
    store.materialize_incremental(end)
    steps["project + materialize"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    demo = run_training_demo(project, commit=False)
    steps["train + promote"] = time.perf_counter() - t0
    (project / ".cairn").mkdir(exist_ok=True)
    write_example_deployments(project)
    write_example_reason_codes(project)

    opened = Project.open(project)
    store = opened.features
    loader = RegistryModelLoader(opened.tracker, opened.registry)
    version = loader.resolve(CHAMPION)
    model = loader.load(CHAMPION, version)
    ids = latest_customers(project, customers)
    values = store.get_online_features(model.online_refs, {"customer_id": ids}).to_dict()
    found = values.get("found", [True] * len(ids))
    inputs = [{f: values[f][i] for f in model.features if f in values} for i in range(len(ids))]
    X = model.matrix(inputs)
    bare_dir.mkdir(parents=True, exist_ok=True)
    booster = getattr(model.booster, "booster", model.booster)  # the scorer wraps the booster
    booster.save_model(str(bare_dir / "model.lgb"))
    np.save(bare_dir / "ids.npy", np.asarray(ids, dtype=np.int64))
    np.save(bare_dir / "X.npy", X)
    scores = model.score(X)
    return {
        "project": str(project),
        "champion": f"{model.name}/{version}",
        "trees": int(booster.num_trees()),
        "features": list(model.features),
        "online_refs": list(model.online_refs),
        "customers": ids,
        "found": int(sum(bool(f) for f in found)),
        "expected_scores": [float(s) for s in scores],
        "expected_declines": float(np.mean(scores >= 0.5)),
        "champion_run": demo.champion.run_id,
        "steps_s": steps,
    }


def write_setup(project: Path, bare_dir: Path, customers: int, out: Path) -> None:
    out.write_text(json.dumps(build(project, bare_dir, customers), indent=1, default=str))
