"""``POST /v1/predict/{deployment}`` in process: features, score, decision, reason codes, log."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb
import lightgbm as lgb
import numpy as np
import pytest

from cairn.core.errors import OnlineStoreError
from tests.serving._client import TestClient
from tests.serving._models import FakeLoader, scoring_model, train_booster
from tests.serving._predict_app import REF, predict_app, store_reader
from tests.serving.conftest import Project


@pytest.fixture(scope="module")
def booster() -> lgb.Booster:
    return train_booster(20261126)


@pytest.fixture
def loader(booster: lgb.Booster) -> FakeLoader:
    return FakeLoader({REF: {"1": scoring_model(booster)}})


@pytest.fixture
def client(project: Project, loader: FakeLoader, tmp_path: Path) -> Any:
    app, _ = predict_app(tmp_path, store_reader(project.store), loader)
    with TestClient(app) as c:
        yield c


def test_predict_scores_the_online_features_with_the_native_booster(
    client: TestClient, booster: lgb.Booster
) -> None:
    r = client.post("/v1/predict/credit", json={"entities": {"customer_id": 1}, "unit_id": "u1"})
    assert r.status_code == 200
    body = r.json()
    # customer 1: income 20 (latest), segment b, amount_sum_7d 12, amount_count_7d 2
    X = np.array([[20.0, 1.0, 12.0, 2.0]])
    assert body["score"] == pytest.approx(float(booster.predict(X)[0]), abs=1e-12)
    assert body["decision"] == ("decline" if body["score"] >= 0.5 else "approve")
    assert body["model"] == {"name": "credit-default", "version": "1"}
    assert body["flags"] == {"fallback": False, "fallback_kind": None, "entity_unknown": False}
    assert body["latency_ms"] > 0 and len(body["prediction_id"]) == 32


def test_declines_carry_reason_codes_from_tree_shap(
    client: TestClient, booster: lgb.Booster
) -> None:
    body = {"entities": {"customer_id": 2}, "features": {"income": 1.0, "amount_sum_7d": 19.0}}
    r = client.post("/v1/predict/credit", json=body).json()
    assert r["decision"] == "decline"
    phi = booster.predict(np.array([[1.0, 2.0, 19.0, 1.0]]), pred_contrib=True)[0]
    positive = sorted(
        (v, n)
        for v, n in zip(
            phi[:-1], ["income", "segment", "amount_sum_7d", "amount_count_7d"], strict=True
        )
        if v > 0
    )
    assert [c["feature"] for c in r["reason_codes"]] == [n for _, n in reversed(positive)]
    top = r["reason_codes"][0]
    assert top["contribution"] == pytest.approx(positive[-1][0])
    texts = {c["feature"]: c["text"] for c in r["reason_codes"]}
    assert texts.get("income") in (None, "Income insufficient for the amount requested")
    assert r["summary"].startswith("Decision: decline. Main reason")


def test_approvals_are_not_explained_until_asked(client: TestClient) -> None:
    r = client.post(
        "/v1/predict/credit",
        json={"entities": {"customer_id": 3}, "features": {"income": 49.0, "amount_sum_7d": 0.0}},
    ).json()
    assert r["decision"] == "approve" and r["reason_codes"] == []
    e = client.get(f"/v1/explanations/{r['prediction_id']}").json()
    assert e["computed"] is True and e["decision"] == "approve"
    assert all(c["contribution"] > 0 for c in e["reason_codes"])
    again = client.get(f"/v1/explanations/{r['prediction_id']}").json()
    assert again["computed"] is False and again["reason_codes"] == e["reason_codes"]


def test_unknown_entity_is_flagged(client: TestClient) -> None:
    r = client.post("/v1/predict/credit", json={"entities": {"customer_id": 999}}).json()
    assert r["flags"]["entity_unknown"] is True


def test_batch_scores_rows_in_order(client: TestClient) -> None:
    rows = [{"entities": {"customer_id": i}} for i in (1, 2, 3, 1)]
    r = client.post("/v1/predict/credit/batch", json={"rows": rows})
    preds = r.json()["predictions"]
    assert len(preds) == 4 and preds[0]["score"] == preds[3]["score"]
    assert len({p["prediction_id"] for p in preds}) == 4


@pytest.mark.parametrize(
    ("path", "body", "status", "needle"),
    [
        ("/v1/predict/credit", {}, 422, "'entities'"),
        ("/v1/predict/credit", {"entities": {"customer_id": "x"}}, 422, "customer_id"),
        ("/v1/predict/credit", {"entities": {"cid": 1}}, 422, "customer_id"),
        (
            "/v1/predict/credit",
            {"entities": {"customer_id": 1}, "features": {"nope": 1}},
            422,
            "'nope'",
        ),
        (
            "/v1/predict/credit",
            {"entities": {"customer_id": 1}, "features": {"income": "x"}},
            422,
            "'income'",
        ),
        ("/v1/predict/credit", {"entities": {"customer_id": 1}, "extra": 1}, 422, "'extra'"),
        ("/v1/predict/credit", [1], 422, "object"),
        ("/v1/predict/other", {"entities": {"customer_id": 1}}, 404, "'other'"),
        (
            "/v1/predict/credit/batch",
            {"rows": [{"entities": {"customer_id": 1}}] * 10_001},
            422,
            "10001",
        ),
        ("/v1/predict/credit/batch", {"rows": [{"entities": {}}]}, 422, "rows[0].entities"),
        ("/v1/outcomes", {"outcomes": [{"label": 1}]}, 422, "prediction_id"),
        ("/v1/outcomes", {"outcomes": [{"prediction_id": "p", "label": "bad"}]}, 422, "label"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(
    client: TestClient, path: str, body: Any, status: int, needle: str
) -> None:
    r = client.post(path, json=body)
    assert r.status_code == status, r.text
    assert needle in r.json()["error"]["message"]


def test_every_prediction_is_logged_and_readable_with_duckdb(
    client: TestClient, tmp_path: Path
) -> None:
    ids = [
        client.post("/v1/predict/credit", json={"entities": {"customer_id": i % 3 + 1}}).json()[
            "prediction_id"
        ]
        for i in range(30)
    ]
    assert client.post(
        "/v1/outcomes",
        json={
            "outcomes": [
                {"prediction_id": ids[0], "label": 1, "observed_at": "2026-11-26T00:00:00Z"}
            ]
        },
    ).json() == {"accepted": 1}
    predictions = f"read_parquet('{tmp_path}/predictions/*.parquet')"
    outcomes = f"read_parquet('{tmp_path}/outcomes/*.parquet')"
    deadline = time.monotonic() + 5  # the background flushers run every 50 ms here
    logged: set[str] = set()
    while time.monotonic() < deadline:
        if list((tmp_path / "outcomes").glob("*.parquet")):
            logged = {
                r[0] for r in duckdb.execute(f"SELECT prediction_id FROM {predictions}").fetchall()
            }
            if logged >= set(ids):
                break
        time.sleep(0.02)
    assert logged >= set(ids)
    joined = duckdb.execute(
        f"SELECT o.label, p.features->>'$.income' FROM {outcomes} o "
        f"JOIN {predictions} p USING (prediction_id)"
    ).fetchall()
    assert joined == [(1.0, "20.0")]  # customer 1's logged feature vector


def test_metrics_count_predictions_per_deployment_and_arm(client: TestClient) -> None:
    client.post("/v1/predict/credit", json={"entities": {"customer_id": 1}})
    text = client.get("/metrics").text
    assert 'cairn_prediction_latency_seconds_count{arm="main",deployment="credit"}' in text
    assert "cairn_predictions_total{" in text


def _down(features: list[str], rows: list[dict[str, Any]], full: bool) -> dict[str, list[Any]]:
    raise OnlineStoreError("Redis at 127.0.0.1:1 refused the connection")


def _slow(features: list[str], rows: list[dict[str, Any]], full: bool) -> dict[str, list[Any]]:
    time.sleep(2)
    raise AssertionError("the budget should have cut this read short")


@pytest.mark.parametrize("reader", [_down, _slow], ids=["down", "slow"])
def test_store_down_or_slow_uses_the_fallback(
    reader: Any, loader: FakeLoader, tmp_path: Path
) -> None:
    spec = {"model": REF, "feature_budget_ms": 50, "fallback": {"defaults": {"income": 25.0}}}
    app, _ = predict_app(tmp_path, reader, loader, deployments={"credit": spec}, offload=True)
    with TestClient(app) as c:
        began = time.monotonic()
        r = c.post("/v1/predict/credit", json={"entities": {"customer_id": 1}})
        assert time.monotonic() - began < 1.5
        assert r.status_code == 200
        assert (
            r.json()["flags"]["fallback"] is True
            and r.json()["flags"]["fallback_kind"] == "defaults"
        )
        assert "cairn_prediction_fallbacks_total" in c.get("/metrics").text


def test_rules_fallback_and_no_fallback(loader: FakeLoader, tmp_path: Path) -> None:
    deps = {"rules": {"model": REF, "fallback": {"score": 0.9}}, "bare": {"model": REF}}
    app, _ = predict_app(tmp_path, _down, loader, deployments=deps, offload=True)
    with TestClient(app) as c:
        r = c.post("/v1/predict/rules", json={"entities": {"customer_id": 1}}).json()
        assert r["decision"] == "decline" and r["model"]["name"] == "rules"
        bare = c.post("/v1/predict/bare", json={"entities": {"customer_id": 1}})
        assert (
            bare.status_code == 503 and bare.json()["error"]["type"] == "online_store_unavailable"
        )


def test_alias_moves_are_picked_up_and_mlflow_down_keeps_serving(
    project: Project, loader: FakeLoader, tmp_path: Path
) -> None:
    app, predictor = predict_app(
        tmp_path, store_reader(project.store), loader, admin_token="s3cret"
    )
    loader.models[REF]["2"] = scoring_model(train_booster(7), version="2")
    with TestClient(app) as c:
        assert c.post("/v1/deployments/reload").status_code == 401
        loader.aliases[REF] = "2"
        r = c.post("/v1/deployments/reload", headers={"Authorization": "Bearer s3cret"})
        assert r.json() == {"moved": [REF]}
        body = {"entities": {"customer_id": 1}}
        assert c.post("/v1/predict/credit", json=body).json()["model"]["version"] == "2"
        loader.down = True
        assert predictor.refresh() == []
        assert c.post("/v1/predict/credit", json=body).json()["model"]["version"] == "2"


def test_explanations_of_older_predictions_come_from_the_log(
    project: Project, loader: FakeLoader, tmp_path: Path
) -> None:
    app, predictor = predict_app(tmp_path, store_reader(project.store), loader)
    with TestClient(app) as c:
        staged = c.post("/v1/predict/credit", json={"entities": {"customer_id": 2}}).json()
        predictor.log.flush()  # this one is now in a Parquet segment
        flushed_id = staged["prediction_id"]
        fresh = c.post("/v1/predict/credit", json={"entities": {"customer_id": 3}}).json()
        predictor._recent.clear()  # as after a restart: only the log knows them
        for pid in (flushed_id, fresh["prediction_id"]):
            e = c.get(f"/v1/explanations/{pid}")
            assert e.status_code == 200 and e.json()["prediction_id"] == pid
        missing = c.get("/v1/explanations/nope")
        assert missing.status_code == 404 and "'nope'" in missing.json()["error"]["message"]
