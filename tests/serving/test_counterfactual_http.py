"""``GET /v1/explanations/{id}/counterfactual`` and ``cairn score --counterfactuals`` on the
example project, over the real HTTP app: a LightGBM deployment (search) and a scorecard one
(exact). A decline's counterfactual, sent back as a request, really is approved and scores what
the counterfactual says; the declaration is respected; an approval or a referral is 409, an
unknown id 404, and a declaration naming a feature the model lacks is 409 naming the key."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.app.server import build_app
from cairn.cli.main import app
from cairn.quickstart.example import create_example_project
from cairn.quickstart.training_demo import write_example_config
from cairn.training import ModelSpec, TrainConfig, build_training_set, train
from tests.serving._client import TestClient
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

pytestmark = pytest.mark.slow
POLICY = """\
    counterfactual:
      immutable: [age, marital]
      directions: {income: increase, debt: decrease}
      ranges: {income: [0, 500]}
      max_changes: 3
      budget_ms: 2000"""
DEPLOYMENTS = """\
deployments:
  credit:
    model: credit-default/{gbm}
    threshold: 0.3
    decision: {{positive: decline, negative: approve, favorable: negative}}
    coverage: {{min_share: 0.0, unknown_entity: score}}
{policy}
  card:
    model: credit-default/{card}
    threshold: 0.3
    decision: {{positive: decline, negative: approve, favorable: negative}}
    coverage: {{min_share: 0.0, unknown_entity: score}}
{policy}
  strict:
    model: credit-default/{gbm}
    threshold: 0.3
    coverage: {{min_share: 1.0, below: refer, unknown_entity: score}}
  wrong:
    model: credit-default/{gbm}
    threshold: 0.3
    coverage: {{min_share: 0.0, unknown_entity: score}}
    counterfactual: {{immutable: [salary]}}
"""


@dataclass(frozen=True)
class Served:
    """The project root and validation rows' feature values (JSON-ready)."""

    root: Path
    rows: list[dict[str, Any]]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Served:
    root = create_example_project(tmp_path_factory.mktemp("cf") / "credit").path
    (root / ".cairn").mkdir(exist_ok=True)
    shutil.copy(mlflow_template, root / ".cairn" / "mlflow.db")
    project = Project.open(root)
    store = project.features
    if not store.applied_views():
        store.apply(project.definitions())
    config = TrainConfig.from_yaml(write_example_config(root))
    data = build_training_set(config, store)
    gbm = train(config, store, project.tracker, author="ana", training_set=data)
    card_config = replace(config, model=ModelSpec(kind="scorecard"))
    card = train(card_config, store, project.tracker, author="ana", training_set=data)
    assert gbm.version is not None and card.version is not None
    text = DEPLOYMENTS.format(gbm=gbm.version, card=card.version, policy=POLICY)
    (root / "deployments.yaml").write_text(text)
    rows = data.frame.iloc[gbm.split.validation[:80]][data.feature_columns]
    rows = rows.astype(object).where(rows.notna(), None)
    return Served(root, rows.to_dict(orient="records"))


@pytest.fixture(scope="module")
def client(served: Served) -> Iterator[TestClient]:
    with TestClient(build_app(served.root), raise_server_exceptions=False) as c:
        yield c


def _predict(client: TestClient, deployment: str, i: int, values: dict[str, Any]) -> Any:
    body = {"entities": {"customer_id": 900_000 + i}, "features": values}
    r = client.post(f"/v1/predict/{deployment}", json=body)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(("deployment", "method"), [("credit", "search"), ("card", "exact")])
def test_a_declines_counterfactual_is_approved_when_sent(
    served: Served, client: TestClient, deployment: str, method: str
) -> None:
    declines, found = 0, 0
    for i, values in enumerate(served.rows):
        answer = _predict(client, deployment, i, values)
        r = client.get(f"/v1/explanations/{answer['prediction_id']}/counterfactual")
        if answer["decision"] == "approve":
            assert r.status_code == 409 and r.json()["error"]["type"] == "not_unfavorable"
            continue
        declines += 1
        assert r.status_code == 200, r.text
        body = r.json()
        assert (body["deployment"], body["decision"], body["threshold"]) == (
            deployment, "decline", 0.3
        )  # fmt: skip
        cf = body["counterfactual"]
        assert cf["method"] == method
        if not cf["found"]:
            assert cf["reason"] and cf["changes"] == [] and cf["score"] is None
            continue
        found += 1
        changed = {c["feature"]: c["to"] for c in cf["changes"]}
        assert 1 <= len(changed) <= 3 and not {"age", "marital"} & set(changed)
        for c in cf["changes"]:
            assert c["from"] == values[c["feature"]] or c["from"] is None
            if c["feature"] == "income" and c["from"] is not None:
                assert c["from"] < c["to"] <= 500
            if c["feature"] == "debt" and c["from"] is not None:
                assert c["to"] < c["from"]
        again = _predict(client, deployment, 1000 + i, {**values, **changed})
        assert again["decision"] == "approve" == cf["decision"]
        assert abs(again["score"] - cf["score"]) <= 1e-9
    assert declines >= 5 and found >= declines * 0.8, (declines, found)


def test_unknown_ids_referrals_and_wrong_declarations(served: Served, client: TestClient) -> None:
    r = client.get("/v1/explanations/no-such-id/counterfactual")
    assert r.status_code == 404 and r.json()["error"]["type"] == "unknown_prediction"
    referred = _predict(client, "strict", 0, {**served.rows[0], "income": None})
    assert referred["decision"] == "refer"
    r = client.get(f"/v1/explanations/{referred['prediction_id']}/counterfactual")
    assert r.status_code == 409 and "referral" in r.json()["error"]["message"]
    scores = [(i, _predict(client, "wrong", i, v)) for i, v in enumerate(served.rows[:40])]
    declined = next(a for _, a in scores if a["decision"] == "decline")
    r = client.get(f"/v1/explanations/{declined['prediction_id']}/counterfactual")
    assert r.status_code == 409, r.text
    assert r.json()["error"]["message"].startswith(
        "deployments.wrong.counterfactual.immutable names 'salary', which the model does not have"
    )


def test_cairn_score_adds_the_counterfactual_column(served: Served, tmp_path: Path) -> None:
    apps = pd.read_parquet(served.root / "data" / "applications.parquet").tail(60)
    entities = tmp_path / "entities.parquet"
    apps[["customer_id", "event_timestamp"]].to_parquet(entities, index=False)
    out = tmp_path / "scored.parquet"
    args = ["score", "--deployment", "card", "--entities", str(entities), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--counterfactuals", "--repo", str(served.root)])
    assert result.exit_code == 0, result.output
    scored = pd.read_parquet(out)
    declined = scored["decision"] == "decline"
    assert declined.any() and (~declined).any()
    assert (scored.loc[~declined, "counterfactual"] == "").all()
    for text, features in zip(
        scored.loc[declined, "counterfactual"], scored.loc[declined, "features"], strict=True
    ):
        cf = json.loads(text)
        assert cf["method"] == "exact" and (cf["found"] or cf["reason"])
        if cf["found"]:
            assert cf["decision"] == "approve" and cf["score"] < 0.3
            values = json.loads(features)
            assert all(c["from"] == values[c["feature"]] for c in cf["changes"])
