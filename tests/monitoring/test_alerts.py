"""Band-change alerts: logged, and POSTed to a real local webhook; failures never raise."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from cairn.core.errors import ConfigError
from cairn.monitoring.alerts import alert_payload, check_webhook_url, send_alerts
from cairn.monitoring.history import MonitorHistory
from cairn.monitoring.runs import FeatureResult, MonitorRun
from cairn.monitoring.window import Window

DAY = 86_400_000_000


@dataclass
class Hook:
    """A webhook receiver on 127.0.0.1: records what it was sent, answers ``status``."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: int = 200
    delay: threading.Event | None = None


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(json.loads(body))
            state.headers.append(dict(self.headers))
            if state.delay is not None:
                state.delay.wait(5)
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/T000/secret"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    if state.delay is not None:
        state.delay.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


def run(day: int, band: str, psi: float) -> MonitorRun:
    window = Window("credit", day * DAY, (day + 1) * DAY, (day + 1) * DAY, "as_of")
    features = [FeatureResult("income", "numeric", "ok", band, band == "drift", 100, psi=psi)]
    return MonitorRun(
        "credit", "credit-default", "3", window, "ok", "", 100, features, None, [],
        datetime.now(UTC), 0.01,
    )  # fmt: skip


@pytest.fixture
def changed() -> tuple[MonitorRun, list[Any]]:
    history = MonitorHistory("sqlite://", project="alerts")
    history.record(run(0, "stable", 0.02))
    stored, changes = history.record(run(1, "drift", 0.41))
    return stored, changes


def test_a_band_change_is_posted_as_json(hook: Hook, changed: tuple[MonitorRun, list[Any]]) -> None:
    stored, changes = changed
    outcome = send_alerts(stored, changes, webhook_url=hook.url, timeout_s=5)
    assert (outcome.changes, outcome.delivered, outcome.status) == (1, True, 200)
    (body,) = hook.received
    assert body["deployment"] == "credit" and body["model"] == {
        "name": "credit-default",
        "version": "3",
    }
    (change,) = body["changes"]
    assert (change["subject"], change["previous"], change["current"], change["worse"]) == (
        "income", "stable", "drift", True,
    )  # fmt: skip
    assert body["text"].startswith("Cairn monitoring: credit (credit-default v3): 1 worse")
    assert "credit income: stable -> drift (0.410)" in body["text"]
    assert hook.headers[0]["Content-Type"] == "application/json"
    assert body == json.loads(json.dumps(alert_payload(stored, changes), default=str))


def test_no_change_or_no_url_posts_nothing(
    hook: Hook, changed: tuple[MonitorRun, list[Any]]
) -> None:
    stored, changes = changed
    assert send_alerts(stored, [], webhook_url=hook.url).delivered is None
    assert send_alerts(stored, changes, webhook_url=None).delivered is None
    assert hook.received == []


def test_changes_are_logged_worse_as_warnings(
    changed: tuple[MonitorRun, list[Any]], caplog: pytest.LogCaptureFixture
) -> None:
    stored, changes = changed
    with caplog.at_level(logging.INFO, logger="cairn.monitoring"):
        send_alerts(stored, changes)
    (entry,) = caplog.records
    assert entry.levelno == logging.WARNING
    assert entry.getMessage() == "monitoring band change: credit income: stable -> drift (0.410)"


def test_a_failing_webhook_is_logged_not_raised(
    hook: Hook, changed: tuple[MonitorRun, list[Any]], caplog: pytest.LogCaptureFixture
) -> None:
    stored, changes = changed
    hook.status = 500
    with caplog.at_level(logging.WARNING, logger="cairn.monitoring"):
        outcome = send_alerts(stored, changes, webhook_url=hook.url)
    assert (outcome.delivered, outcome.status, outcome.error) == (False, 500, "HTTP 500")
    text = caplog.text
    assert "answered 500" in text and "secret" not in text  # the URL path is not logged


def test_an_unreachable_or_slow_webhook_is_bounded(
    hook: Hook, changed: tuple[MonitorRun, list[Any]]
) -> None:
    stored, changes = changed
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/hook"  # nothing listens
    refused = send_alerts(stored, changes, webhook_url=closed, timeout_s=2)
    assert refused.delivered is False and refused.error
    hook.delay = threading.Event()
    slow = send_alerts(stored, changes, webhook_url=hook.url, timeout_s=0.2)
    assert slow.delivered is False and "timed out" in (slow.error or "")


def test_webhook_urls_are_checked() -> None:
    assert check_webhook_url(" https://hooks.example.com/x ") == "https://hooks.example.com/x"
    for bad in ("hooks.example.com", "ftp://x/y", "http://"):
        with pytest.raises(ConfigError, match="monitoring.webhook_url must be an http"):
            check_webhook_url(bad)
