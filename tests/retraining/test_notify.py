"""Retraining notifications: each ledger event POSTed as JSON to a real local webhook; an error
answer, a closed port or a bad body never raises; the settings name the webhook."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest

from cairn.core.config import RetrainingSettings, Settings
from cairn.core.errors import ConfigError
from cairn.core.webhooks import check_webhook_url, post_json
from cairn.retraining.decision import Decision
from cairn.retraining.entry import STATES, State
from cairn.retraining.ledger import Ledger
from cairn.retraining.notify import EVENTS, Notifier, notify_payload

DEC_7 = 1_796_601_600_000_000  # 2026-12-07T00:00:00Z


@dataclass
class Hook:
    """A webhook receiver on 127.0.0.1: records what it was sent, answers ``status``."""

    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.received.append(json.loads(body))
            state.headers.append(dict(self.headers))
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hooks/T000/secret"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def ledger() -> Ledger:
    return Ledger("sqlite://", project="credit")


def _closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/hook"  # nothing listens


def test_every_step_of_a_run_is_posted(hook: Hook, ledger: Ledger) -> None:
    notifier = Notifier.from_settings(RetrainingSettings(webhook_url=hook.url))
    entry = ledger.record(
        Decision("credit-drift", "drift", "2026-12-07T00:00:00Z", "run", "3 features drifted",
                 at=DEC_7, numbers={"features": 3})
    )  # fmt: skip
    sent = [notifier.send(entry, event="decided", project="credit")]
    steps: list[tuple[State, dict[str, Any]]] = [
        ("training", {"rows": 9000}),
        ("trained", {"auc": 0.81}),
    ]
    for state, numbers in steps:
        entry = ledger.advance(entry, state, numbers)
        sent.append(notifier.send(entry, event=state, project="credit"))
    entry = ledger.advance(
        entry, "gated", {"test_rows": 600}, reason="all 5 gates passed on 600 test rows"
    )
    verdicts = {"auc_floor": "pass", "max_ece": "pass"}
    sent.append(notifier.send(entry, event="gated", project="credit", detail=verdicts))
    assert [(r.delivered, r.status) for r in sent if r is not None] == [(True, 200)] * 4
    assert [b["event"] for b in hook.received] == ["decided", "training", "trained", "gated"]
    gated = hook.received[-1]
    assert gated["text"] == (
        "Cairn retraining: credit-drift #1 drift [2026-12-07T00:00:00Z] -> gated: "
        "all 5 gates passed on 600 test rows"
    )
    assert {k: gated[k] for k in ("project", "policy", "trigger", "window", "action", "state")} == {
        "project": "credit",
        "policy": "credit-drift",
        "trigger": "drift",
        "window": "2026-12-07T00:00:00Z",
        "action": "run",
        "state": "gated",
    }
    assert gated["entry_id"] == entry.id and gated["decided_at"] == "2026-12-07T00:00:00+00:00"
    assert gated["numbers"] == {"features": 3, "rows": 9000, "auc": 0.81, "test_rows": 600}
    assert gated["detail"] == verdicts and gated["reason"] == entry.reason
    assert hook.headers[0]["Content-Type"] == "application/json"
    assert hook.headers[0]["User-Agent"] == "cairn-retraining"
    assert hook.received[0]["detail"] == {} and hook.received[0]["text"].endswith(
        "-> decided: 3 features drifted"
    )


def test_a_skip_is_announced_too(hook: Hook, ledger: Ledger) -> None:
    skip = ledger.record(
        Decision("credit-drift", "schedule", "2026-12-07T06:00", "skip", "cooldown: 2d left",
                 at=DEC_7)
    )  # fmt: skip
    result = Notifier(hook.url, timeout_s=2).send(skip, event="skipped", project="credit")
    assert result is not None and result.delivered
    (body,) = hook.received
    assert (body["action"], body["state"], body["event"]) == ("skip", "skipped", "skipped")
    assert body["text"].endswith("-> skipped: cooldown: 2d left")


def test_without_a_webhook_nothing_is_sent(hook: Hook, ledger: Ledger) -> None:
    entry = ledger.record(Decision("p", "manual", "t-1", "run", "asked", at=DEC_7))
    assert Notifier.from_settings(RetrainingSettings()).send(entry, event="decided",
                                                              project="x") is None  # fmt: skip
    assert Notifier("").url is None
    assert hook.received == []


def test_an_error_answer_is_logged_not_raised(
    hook: Hook, ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    hook.status = 500
    entry = ledger.record(Decision("p", "manual", "t-1", "run", "asked", at=DEC_7))
    with caplog.at_level(logging.WARNING, logger="cairn.retraining"):
        result = Notifier(hook.url).send(entry, event="decided", project="x")
    assert result is not None
    assert (result.delivered, result.status, result.error) == (False, 500, "HTTP 500")
    assert "retraining webhook http://127.0.0.1:" in caplog.text
    assert "answered 500; notification not delivered" in caplog.text
    assert "secret" not in caplog.text  # only the origin of the URL is logged


def test_an_unreachable_webhook_returns_the_error(
    ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    entry = ledger.record(Decision("p", "manual", "t-1", "run", "asked", at=DEC_7))
    with caplog.at_level(logging.WARNING, logger="cairn.retraining"):
        result = Notifier(_closed_port(), timeout_s=2).send(entry, event="failed", project="x")
    assert result is not None and result.delivered is False and result.status is None
    assert result.error and "refused" in result.error.lower()
    assert "notification not delivered" in caplog.text


def test_a_bad_event_or_body_never_raises_from_send(hook: Hook, ledger: Ledger) -> None:
    entry = ledger.record(Decision("p", "manual", "t-1", "run", "asked", at=DEC_7))
    with pytest.raises(ValueError, match="Unknown retraining event 'done'"):
        notify_payload(entry, event="done", project="x")
    result = Notifier(hook.url).send(entry, event="done", project="x")
    assert result is not None and result.delivered is False and "done" in (result.error or "")
    odd = Notifier(hook.url).send(entry, event="decided", project="x", detail={"at": object()})
    assert odd is not None and odd.delivered  # not JSON: sent as its str
    assert hook.received[-1]["detail"]["at"].startswith("<object object")
    assert EVENTS == STATES


def test_post_json_reports_each_outcome(hook: Hook) -> None:
    assert post_json(hook.url, {"a": 1}, timeout=2).delivered
    assert hook.received == [{"a": 1}] and hook.headers[0]["User-Agent"] == "cairn"
    refused = post_json(_closed_port(), {"a": 1}, timeout=2)
    assert (refused.delivered, refused.status) == (False, None) and refused.error
    bad = post_json("nota url", {"a": 1}, timeout=2)
    assert bad.delivered is False and "unknown url type" in (bad.error or "")


def test_the_webhook_url_is_checked_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"^retraining.webhook_url must be an http:// or https"):
        Notifier("hooks.example.com/x")
    with pytest.raises(ConfigError, match=r"got 'ftp://bot:\*\*\*@h/x'"):
        check_webhook_url("ftp://bot:pw@h/x", setting="retraining.webhook_url")
    with pytest.raises(
        ConfigError, match=r"CAIRN_RETRAINING__WEBHOOK_URL \(retraining.webhook_url"
    ):
        Settings.from_mapping({"project": "p"}, env={"CAIRN_RETRAINING__WEBHOOK_URL": "nope"})
    s = Settings.from_mapping(
        {"project": "p", "retraining": {"interval_seconds": 30}},
        env={
            "CAIRN_RETRAINING__WEBHOOK_URL": "https://h/x",
            "CAIRN_RETRAINING__WEBHOOK_TIMEOUT_S": "2",
        },
    )
    assert (s.retraining.interval_seconds, s.retraining.webhook_timeout_s) == (30.0, 2.0)
    assert Notifier.from_settings(s.retraining).url == "https://h/x"
    with pytest.raises(ConfigError, match="retraining.interval_seconds must be above 0"):
        Settings.from_mapping({"project": "p", "retraining": {"interval_seconds": 0}}, env={})
