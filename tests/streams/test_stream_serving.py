"""`cairn serve` and streams: /metrics shows each source's lag and counts, /readyz says 503
while events wait longer than streaming.max_lag_seconds behind the processor's last commit."""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd

from cairn import FeatureStore, LocalStreamSource
from cairn.app.server import build_app
from cairn.app.streaming import run_processor
from tests.serving._client import TestClient
from tests.streams._parity import apply_view


def _project(root: Path, max_lag: float) -> FeatureStore:
    (root / "cairn.yaml").write_text(f"project: served\nstreaming:\n  max_lag_seconds: {max_lag}\n")
    store = FeatureStore(root)
    apply_view(store, LocalStreamSource(name="txns"))
    return store


def _event(store: FeatureStore, customer: int) -> None:
    now = pd.Timestamp.now(tz="UTC")
    store.produce("txns", [{"customer_id": customer, "event_timestamp": now, "amount": 2.0}])


def test_metrics_and_readiness_follow_the_processor(tmp_path: Path) -> None:
    store = _project(tmp_path, max_lag=0.001)
    with TestClient(build_app(tmp_path)) as client:
        assert client.get("/readyz").status_code == 200  # nothing waits
    _event(store, 1)
    with TestClient(build_app(tmp_path)) as client:
        waiting = client.get("/readyz")
        assert waiting.status_code == 503  # no processor has committed
        assert "stream 'txns' has 1 events waiting" in waiting.json()["error"]["message"]
        text = client.get("/metrics").text
        assert 'cairn_stream_lag_events{source="txns"} 1.0' in text
    run_processor(store, "txns", threading.Event(), until_idle=True).log.close()
    with TestClient(build_app(tmp_path)) as client:
        assert client.get("/readyz").status_code == 200
        text = client.get("/metrics").text
        assert 'cairn_stream_lag_events{source="txns"} 0.0' in text
        assert 'cairn_stream_events_total{outcome="landed",source="txns"} 1.0' in text
        assert "cairn_stream_up 1.0" in text
        got = client.post(
            "/v1/features/online",
            json={"features": ["velocity:amount_count_1h"], "entities": [{"customer_id": 1}]},
        )
        assert got.json()["features"]["amount_count_1h"] == [1]


def test_a_zero_limit_never_makes_the_server_unready(tmp_path: Path) -> None:
    store = _project(tmp_path, max_lag=0)
    _event(store, 1)
    with TestClient(build_app(tmp_path)) as client:
        assert client.get("/readyz").status_code == 200
