"""The model-families step of the quickstart: a points scorecard trained beside the LightGBM
champion, approved, served with the booster in shadow; a decline explained in points and its
counterfactuals; the global explanation page written."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from cairn.app.model_loader import RegistryModelLoader
from cairn.app.project import Project
from cairn.quickstart.example import create_example_project
from cairn.quickstart.families_demo import run_families_demo
from cairn.quickstart.families_printer import print_families_demo
from cairn.quickstart.serving_demo import run_serving_demo
from cairn.quickstart.training_demo import run_training_demo

pytestmark = pytest.mark.slow


def test_families_demo(
    tmp_path: Path, mlflow_template: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = create_example_project(tmp_path / "credit")
    (project.path / ".cairn").mkdir(exist_ok=True)
    shutil.copy(mlflow_template, project.path / ".cairn" / "mlflow.db")
    training = run_training_demo(project.path, commit=False)
    assert training.team is not None
    end = project.data_end + timedelta(microseconds=1)
    Project.open(project.path).features.materialize_incremental(end)  # as the quickstart does
    run_serving_demo(project.path)

    demo = run_families_demo(project.path, team=training.team)

    opened = Project.open(project.path)
    mv = opened.registry.version("credit-default", str(demo.scorecard.version))
    assert mv.tags["cairn.flavor"] == "scorecard"
    assert demo.failed == 0 and demo.requests == 200
    # every primary answer of the scorecard has its shadow row from the booster
    assert demo.agreement["pairs"] == 200 and 0.5 < demo.agreement["same"] <= 1.0
    page = demo.page.read_text(encoding="utf-8")
    assert "<svg" in page and "points" in page.lower()

    # the decline's reasons are exact points: the served values are neutral - points
    declined = demo.declined
    assert declined["decision"] == "decline" and declined["model"]["version"] == mv.version
    loader = RegistryModelLoader(opened.tracker, opened.registry)
    model = loader.load(f"credit-default/{mv.version}", mv.version)
    features = _logged_features(opened, declined["prediction_id"])
    phi = model.contributions(model.matrix([features]))[0, :-1]
    by_feature = dict(zip(model.features, phi, strict=True))
    for reason in declined["reason_codes"]:
        assert reason["contribution"] == pytest.approx(by_feature[reason["feature"]], abs=1e-9)
        assert reason["contribution"] > 0
    assert demo.explanation["reason_codes"] == _sorted_codes(declined["reason_codes"])

    # the counterfactual of the scorecard decline is exact, feasible and really flips it
    answer = demo.counterfactual
    cf = answer["counterfactual"]
    assert answer["prediction_id"] == declined["prediction_id"] and cf["method"] == "exact"
    if cf["found"]:
        changes = cf["changes"]
        assert 1 <= len(changes) <= 3
        assert not {c["feature"] for c in changes} & {"age", "marital"}  # immutable
        changed = dict(features) | {c["feature"]: c["to"] for c in changes}
        score = float(model.score(model.matrix([changed]))[0])
        threshold = float(answer["threshold"])
        assert score == pytest.approx(cf["score"], abs=1e-9)
        assert (score >= threshold) != (float(declined["score"]) >= threshold)
        assert cf["decision"] != declined["decision"]
    else:
        assert cf["reason"]
    # the booster's counterfactual is searched within its budget
    booster = demo.booster_counterfactual["counterfactual"]
    assert booster["method"] == "search"
    assert booster["found"] or booster["reason"]

    print_families_demo(demo)
    text = capsys.readouterr().out
    assert "points short of neutral" in text and "0 failed" in text
    assert np.isfinite(declined["score"])


def _logged_features(project: Project, prediction_id: str) -> dict[str, object]:
    import json

    result = project.predictions.query(
        f"SELECT features FROM predictions WHERE prediction_id = '{prediction_id}' "
        "AND NOT coalesce(shadow, false)"
    )
    return dict(json.loads(result.rows[0][0]))


def _sorted_codes(codes: list[dict[str, object]]) -> list[dict[str, object]]:
    return [dict(sorted(c.items())) for c in codes]
