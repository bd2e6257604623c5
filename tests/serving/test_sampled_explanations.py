"""Sampled explanations over the real predict app: a model without exact contributions is
logged unexplained and explained on demand (method, standard errors, budget and seed), or on
the request path with ``sampling.on_request``; ``?method=sampling&permutations=N`` samples any
model's explanation and bad values get a 422."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline

from cairn.core.deployments import Deployment, Sampling
from cairn.core.errors import ConfigError
from cairn.explain.sampling import explain_rows
from cairn.serving.models import ScoringModel
from cairn.serving.scorer_sklearn import SklearnScorer
from tests.serving._client import TestClient
from tests.serving._models import FEATURES, LEVELS, REFS, FakeLoader, scoring_model, train_booster
from tests.serving._predict_app import REF, predict_app, store_reader
from tests.serving.conftest import Project

KNN = "knn@champion"
DECLINE = {"income": 2.0, "segment": "d", "amount_sum_7d": 18.0, "amount_count_7d": 4.0}


def _knn_model() -> ScoringModel:
    """A k-nearest-neighbours model (no exact explainer: sampled contributions)."""
    rng = np.random.default_rng(4)
    n = 400
    X = pd.DataFrame(
        {
            "income": rng.uniform(0, 50, n),
            "segment": rng.integers(0, 4, n).astype(float),
            "amount_sum_7d": rng.uniform(0, 20, n),
            "amount_count_7d": rng.integers(0, 5, n).astype(float),
        }
    )
    logit = -0.15 * X["income"] + 0.3 * X["amount_sum_7d"] + (X["segment"] == 3) * 1.5
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    model = make_pipeline(SimpleImputer(), KNeighborsClassifier(n_neighbors=25)).fit(X, y)
    background = X.sample(n=30, random_state=0).to_numpy(dtype=np.float64)
    scorer = SklearnScorer(model, FEATURES, {}, background=background)
    assert scorer.method == "sampling" and not scorer.exact_contributions
    refs = scorer.references()
    return ScoringModel("knn", "1", scorer, FEATURES, list(REFS), {"segment": LEVELS}, refs)


@pytest.fixture(scope="module")
def knn() -> ScoringModel:
    return _knn_model()


@pytest.fixture(scope="module")
def client(
    project: Project, knn: ScoringModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    loader = FakeLoader({REF: {"1": scoring_model(train_booster(3))}, KNN: {"1": knn}})
    deployments: dict[str, Any] = {
        "credit": {"model": REF, "threshold": 0.5, "explain": "always"},
        "knn": {"model": KNN, "threshold": 0.5, "explain": "always"},
        "knn_live": {
            "model": KNN,
            "threshold": 0.5,
            "explain": "always",
            "sampling": {"on_request": True, "permutations": 8, "seed": 3},
        },
    }
    state: Path = tmp_path_factory.mktemp("sampled")
    app, _ = predict_app(state, store_reader(project.store), loader, deployments=deployments)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _predict(client: TestClient, deployment: str) -> dict[str, Any]:
    body = {"entities": {"customer_id": 1}, "features": DECLINE}
    answer = client.post(f"/v1/predict/{deployment}", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    assert result["decision"] == "decline", result
    return result


def test_a_sampled_model_is_explained_on_demand_only(client: TestClient, knn: ScoringModel) -> None:
    r = _predict(client, "knn")
    assert r["reason_codes"] == []  # not on the request path: logged unexplained
    e = client.get(f"/v1/explanations/{r['prediction_id']}").json()
    assert e["computed"] is True and e["method"] == "sampling"
    assert e["sampling"] == {
        "permutations": 16,
        "seed": 0,
        "background": "training sample",
        "background_rows": 30,
    }
    assert e["reason_codes"] and all(c["contribution"] > 0 for c in e["reason_codes"])
    # the offline function with the same budget and seed gives the same values and errors
    assert isinstance(knn.scorer, SklearnScorer) and knn.scorer.background is not None
    offline = explain_rows(knn.scorer, knn.matrix([DECLINE]), knn.scorer.background)
    for code in e["reason_codes"]:
        j = FEATURES.index(code["feature"])
        assert code["contribution"] == pytest.approx(offline.contributions[0, j], abs=1e-12)
        assert code["standard_error"] == pytest.approx(offline.standard_errors[0, j], abs=1e-12)
    again = client.get(f"/v1/explanations/{r['prediction_id']}").json()
    assert again["computed"] is False and again["reason_codes"] == e["reason_codes"]
    bigger = client.get(f"/v1/explanations/{r['prediction_id']}?permutations=128").json()
    assert bigger["computed"] is True and bigger["sampling"]["permutations"] == 128
    small = np.mean([c["standard_error"] for c in e["reason_codes"]])
    large = np.mean([c["standard_error"] for c in bigger["reason_codes"]])
    assert large < small


def test_on_request_sampling_explains_on_the_request_path(client: TestClient) -> None:
    listed = client.get("/v1/deployments").json()["deployments"]
    assert listed["knn_live"]["sampling"] == {"on_request": True, "permutations": 8, "seed": 3}
    assert listed["knn"]["sampling"] == {"on_request": False, "permutations": 16, "seed": 0}
    r = _predict(client, "knn_live")
    assert r["reason_codes"]
    e = client.get(f"/v1/explanations/{r['prediction_id']}").json()
    assert e["method"] == "sampling" and e["sampling"]["permutations"] == 8
    assert e["sampling"]["seed"] == 3
    # the same seed and budget: the values served are the values explained with their errors
    served = {c["feature"]: c["contribution"] for c in r["reason_codes"]}
    assert {c["feature"]: c["contribution"] for c in e["reason_codes"]} == served
    assert all(c["standard_error"] >= 0 for c in e["reason_codes"])


def test_an_exact_model_can_be_sampled_on_demand(client: TestClient) -> None:
    r = _predict(client, "credit")
    assert r["reason_codes"]
    exact = client.get(f"/v1/explanations/{r['prediction_id']}").json()
    assert exact["method"] == "treeshap" and exact["sampling"] is None
    assert exact["computed"] is False
    assert all("standard_error" not in c for c in exact["reason_codes"])
    url = f"/v1/explanations/{r['prediction_id']}?method=sampling&permutations=32"
    sampled = client.get(url).json()
    assert sampled["method"] == "sampling" and sampled["computed"] is True
    assert sampled["sampling"]["background"] == "reference row"
    assert sampled["sampling"]["background_rows"] == 1
    assert sampled["sampling"]["permutations"] == 32
    assert sampled["reason_codes"][0]["feature"] in {c["feature"] for c in exact["reason_codes"]}
    # asking again for the exact one: still the stored, exact codes
    assert client.get(f"/v1/explanations/{r['prediction_id']}").json() == exact


@pytest.mark.parametrize(
    ("query", "where"),
    [
        ("permutations=1", "query.permutations"),
        ("permutations=257", "query.permutations"),
        ("permutations=many", "query.permutations"),
        ("method=exact", "query.method"),
    ],
)
def test_bad_query_values_get_a_422(client: TestClient, query: str, where: str) -> None:
    r = _predict(client, "credit")
    answer = client.get(f"/v1/explanations/{r['prediction_id']}?{query}")
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"]["type"] == "invalid_request", body
    assert where in body["error"]["message"], body


def test_the_deployment_key_is_checked() -> None:
    d = Deployment.from_dict("d", {"model": "m@champion"})
    assert d.sampling == Sampling(on_request=False, permutations=16, seed=0)
    d = Deployment.from_dict("d", {"model": "m@champion", "sampling": {"on_request": True}})
    assert d.sampling == Sampling(on_request=True, permutations=16, seed=0)
    with pytest.raises(ConfigError, match=r"deployments\.d\.sampling\.permutations"):
        Deployment.from_dict("d", {"model": "m@champion", "sampling": {"permutations": 1000}})
    with pytest.raises(ConfigError, match=r"deployments\.d\.sampling"):
        Deployment.from_dict("d", {"model": "m@champion", "sampling": {"budget": 3}})
