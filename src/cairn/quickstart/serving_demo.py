"""The serving half of the quickstart: start ``cairn serve``, score, explain, label, query.

On a project where :func:`cairn.quickstart.training_demo.run_training_demo` has run (a
``credit-default@champion`` exists): write ``reason_codes.yaml`` and ``deployments.yaml``,
materialize the online store if it is empty, start ``cairn serve`` on a free port, send a few
hundred predictions, keep one declined answer, post outcomes, stop the server and read the
prediction log with DuckDB. Every wait is bounded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx

from cairn.app.project import Project
from cairn.app.serve_process import free_port, start_server, stop_server, wait_ready
from cairn.core.errors import CairnError
from cairn.quickstart.example.deployments import write_example_deployments
from cairn.quickstart.example.reason_codes import write_example_reason_codes
from cairn.serving.log_reader import QueryResult

REQUESTS = 300
UNKNOWN_CUSTOMER = 999_999_999
"""An applicant the example data has no record of: the deployment refers it to a person."""
LOG_QUERY = (
    "SELECT decision, count(*) AS predictions, round(avg(score), 3) AS mean_score, "
    "round(quantile_cont(latency_ms, 0.5), 3) AS p50_ms, "
    "round(quantile_cont(latency_ms, 0.99), 3) AS p99_ms, count(o.label) AS labeled "
    "FROM predictions p LEFT JOIN outcomes o USING (prediction_id) GROUP BY decision "
    "ORDER BY decision"
)


@dataclass
class ServingDemo:
    """What the serving demo did."""

    url: str
    requests: int
    declined: dict[str, Any]
    explanation: dict[str, Any]
    outcomes_loaded: int
    log: QueryResult
    client_ms: list[float] = field(default_factory=list)
    referred: dict[str, Any] | None = None
    """The answer for an applicant the online store does not know: referred to a person."""

    @property
    def client_p50_ms(self) -> float:
        """Median round trip seen by the client."""
        ordered = sorted(self.client_ms)
        return ordered[len(ordered) // 2] if ordered else 0.0


def _customers(project: Path, n: int) -> list[int]:
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT customer_id FROM read_parquet(?) ORDER BY event_timestamp DESC LIMIT ?",
            [str(project / "data" / "applications.parquet"), n],
        ).fetchall()
    return [int(r[0]) for r in rows]


def run_serving_demo(project_path: str | Path, *, requests: int = REQUESTS) -> ServingDemo:
    """Serve the champion, score ``requests`` applicants, explain a decline, label, query."""
    project = Path(project_path).resolve()
    (project / ".cairn").mkdir(exist_ok=True)
    write_example_reason_codes(project)
    write_example_deployments(project)
    opened = Project.open(project)
    store = opened.features
    if all(
        w.get("watermark") is None for w in store.online.freshness(store.applied_views()).values()
    ):
        store.materialize_incremental(datetime.now(UTC))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(project, port)
    try:
        wait_ready(url, proc)
        with httpx.Client(base_url=url, timeout=10.0) as client:
            declined: dict[str, Any] | None = None
            answered: list[dict[str, Any]] = []
            client_ms: list[float] = []
            for customer in _customers(project, requests):
                began = time.perf_counter()
                r = client.post("/v1/predict/credit", json={"entities": {"customer_id": customer}})
                client_ms.append((time.perf_counter() - began) * 1000)
                r.raise_for_status()
                body = r.json()
                answered.append(body)
                if declined is None and body["decision"] == "decline":
                    declined = body
            if declined is None:
                raise CairnError("No application was declined; check the deployment threshold.")
            explanation = client.get(f"/v1/explanations/{declined['prediction_id']}").json()
            unknown = client.post(
                "/v1/predict/credit", json={"entities": {"customer_id": UNKNOWN_CUSTOMER}}
            )
            unknown.raise_for_status()
            referred: dict[str, Any] = unknown.json()
            labels = [
                {"prediction_id": a["prediction_id"], "label": int(a["score"] >= 0.5)}
                for a in answered[: len(answered) // 2]
            ]
            loaded = client.post("/v1/outcomes", json={"outcomes": labels}).json()["accepted"]
    finally:
        stop_server(proc)
    return ServingDemo(
        url,
        len(answered),
        declined,
        explanation,
        loaded,
        opened.predictions.query(LOG_QUERY),
        client_ms,
        referred,
    )
