"""Coverage guards and per-row latency over real HTTP, against a `cairn serve` subprocess.

A deployment refers (a person decides) what it has too little data for: by default an entity
the online store does not know, or a row with fewer than half the model's features present.
A referral has no adverse-action reason, whatever its score. Responses and the log carry
``features_missing`` (count and names); a batch row's ``latency_ms`` is its share of the
request, the whole request's wall time is ``request_ms``.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cairn.serving.log_reader import query
from cairn.testing.servers import free_port, start_server, stop_server, wait_ready
from tests.serving._served import DEPLOYMENTS, register_champion
from tests.serving.conftest import write_project
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

pytestmark = pytest.mark.slow

MORE = """\
  strict:
    model: credit-default@champion
    explain: always
    coverage: {min_share: 0.75, below: reject, unknown_entity: reject}
  backup:
    model: credit-default@champion
    explain: always
    fallback: {defaults: {income: 25.0}}
    coverage: {min_share: 0.75, below: fallback, unknown_entity: fallback}
  scores_all:
    model: credit-default@champion
    explain: always
    coverage: {min_share: 0, unknown_entity: score}
"""
NULLS = {"income": None, "segment": None, "amount_sum_7d": None, "amount_count_7d": None}


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path
) -> Iterator[tuple[Path, str]]:
    path = tmp_path_factory.mktemp("coverage")
    write_project(path)
    register_champion(path, mlflow_template, seed=20261206)
    (path / "deployments.yaml").write_text(DEPLOYMENTS + MORE)
    port = free_port()
    proc: subprocess.Popen[bytes] = start_server(path, port)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, timeout=60)
        yield path, url
    finally:
        stop_server(proc)


def _logged(path: Path, sql: str, rows: int) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` once ``rows`` of them are visible (a server turns its staging file
    into a segment about once a second)."""
    deadline = time.monotonic() + 30
    while True:
        found = query(path, sql).rows
        if len(found) >= rows or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def _post(url: str, route: str, body: dict[str, Any]) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=10) as c:
        return c.post(route, json=body)


def test_an_unknown_entity_is_referred_without_adverse_action_reasons(
    server: tuple[Path, str],
) -> None:
    path, url = server
    r = _post(url, "/v1/predict/credit", {"entities": {"customer_id": 99}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["decision"] == "refer"
    assert body["reason_codes"] == []
    assert body["flags"]["entity_unknown"] is True
    assert body["features_missing"] == len(body["features_missing_names"]) >= 2
    assert {"income", "segment"} <= set(body["features_missing_names"])
    (row,) = _logged(
        path,
        "SELECT decision, features_missing, features_missing_names, reason_codes "
        f"FROM predictions WHERE prediction_id = '{body['prediction_id']}'",
        1,
    )
    assert row[0] == "refer" and row[1] == body["features_missing"]
    assert set(json.loads(row[2])) == set(body["features_missing_names"])
    assert json.loads(row[3]) == []


def test_a_known_entity_whose_features_are_all_missing_is_referred(
    server: tuple[Path, str],
) -> None:
    _, url = server
    r = _post(url, "/v1/predict/credit", {"entities": {"customer_id": 1}, "features": NULLS})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["flags"]["entity_unknown"] is False
    assert (body["decision"], body["reason_codes"], body["features_missing"]) == ("refer", [], 4)


def test_a_batch_applies_the_guard_per_row(server: tuple[Path, str]) -> None:
    _, url = server
    rows = [{"entities": {"customer_id": i}} for i in (1, 99, 2)]
    r = _post(url, "/v1/predict/credit/batch", {"rows": rows})
    assert r.status_code == 200, r.text
    decisions = [p["decision"] for p in r.json()["predictions"]]
    assert decisions[1] == "refer" and "refer" not in (decisions[0], decisions[2])


def test_reject_answers_422_naming_the_entity_and_the_missing_features(
    server: tuple[Path, str],
) -> None:
    _, url = server
    unknown = _post(url, "/v1/predict/strict", {"entities": {"customer_id": 99}})
    assert unknown.status_code == 422
    error = unknown.json()["error"]
    assert error["type"] == "insufficient_data"
    assert '{"customer_id":99}' in error["message"] and "unknown entity" in error["message"]
    sparse = _post(
        url,
        "/v1/predict/strict",
        {"entities": {"customer_id": 1}, "features": {"income": None, "segment": None}},
    )
    assert sparse.status_code == 422
    assert "missing income, segment" in sparse.json()["error"]["message"]
    assert _post(url, "/v1/predict/strict", {"entities": {"customer_id": 1}}).status_code == 200


def test_fallback_scores_the_row_with_the_declared_defaults(server: tuple[Path, str]) -> None:
    _, url = server
    body = _post(url, "/v1/predict/backup", {"entities": {"customer_id": 99}}).json()
    assert body["decision"] in ("approve", "decline")
    assert body["flags"]["fallback"] is True and body["flags"]["entity_unknown"] is True
    for code in body["reason_codes"]:  # the default income is a value; absent ones say so
        assert code["feature"] != "segment" or code["direction"] == "missing"


def test_score_keeps_the_old_behaviour_when_declared(server: tuple[Path, str]) -> None:
    _, url = server
    body = _post(url, "/v1/predict/scores_all", {"entities": {"customer_id": 99}}).json()
    assert body["decision"] in ("approve", "decline")
    for code in body["reason_codes"]:  # a missing feature is only ever cited as missing
        if code["feature"] in body["features_missing_names"]:
            assert code["direction"] == "missing"


def test_a_batch_row_logs_its_own_latency_and_the_request_separately(
    server: tuple[Path, str],
) -> None:
    path, url = server
    single = _post(url, "/v1/predict/credit", {"entities": {"customer_id": 2}}).json()
    rows = [{"entities": {"customer_id": 1 + i % 3}} for i in range(40)]
    batch = _post(url, "/v1/predict/credit/batch", {"rows": rows}).json()["predictions"]
    ids = [single["prediction_id"], *(p["prediction_id"] for p in batch)]
    logged = _logged(
        path,
        "SELECT prediction_id, latency_ms, request_ms, rows_in_request FROM predictions "
        f"WHERE prediction_id IN ({', '.join(repr(i) for i in ids)})",
        len(ids),
    )
    by_id = {r[0]: r[1:] for r in logged}
    latency, request, n = by_id[single["prediction_id"]]
    assert n == 1 and latency <= request
    batch_rows = [by_id[p["prediction_id"]] for p in batch]
    assert {r[2] for r in batch_rows} == {40}
    assert len({r[1] for r in batch_rows}) == 1  # one request, one wall time
    request_ms = batch_rows[0][1]
    # each row's latency is its share of the batch, not the whole batch's time
    assert all(r[0] * 40 <= request_ms * 1.0001 for r in batch_rows)
    assert sum(r[0] for r in batch_rows) <= request_ms * 1.0001
