"""The dashboard on the example project (a champion, a challenger awaiting review, a drifted
monitoring month, an hour of traffic): each page shows the numbers the registry, the audit
log, the monitoring history and the prediction log hold, in its HTML (JavaScript off)."""

from __future__ import annotations

import re
import time

import pytest

from cairn.app.server import build_app
from cairn.monitoring.history import MonitorHistory
from tests.serving._client import TestClient
from tests.ui_web.conftest import Full
from tests.ui_web.test_blank import text

pytestmark = pytest.mark.slow  # the fixture trains two models and runs a monitoring month


def cells(html: str, table: str) -> list[list[str]]:
    """The text of every data row of the table with id ``table``."""
    body = re.search(rf'<table[^>]*id="{table}"[^>]*>(.*?)</table>', html, flags=re.S)
    assert body is not None, table
    rows = re.findall(r"<tr>(.*?)</tr>", body[1], flags=re.S)
    return [
        [text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, flags=re.S)]
        for r in rows
        if "<td" in r
    ]


def test_the_overview_shows_the_last_hour_of_the_prediction_log(full: Full) -> None:
    html = full.client.get("/ui/").text
    [row] = cells(html, "deployments")
    t = full.traffic
    assert row[0] == "credit" and row[1] == "credit-default@champion" and row[2] == "single"
    assert row[6:11] == [
        str(t.requests),
        f"{t.requests * 60 / 3600:.2f}",
        f"{t.errors / t.requests:.1%}",
        f"{t.p99_ms:.1f}",
        f"{t.fallbacks / t.requests:.1%}",
    ]
    assert "<title>credit: requests 120</title>" in html  # the chart draws the same number


def test_the_overview_shows_champion_challenger_signals_and_reviews(full: Full) -> None:
    html = full.client.get("/ui/").text
    [row] = cells(html, "deployments")
    aliases = {m.name: m.aliases for m in full.project.registry.list_models()}["credit-default"]
    assert row[4:6] == [f"v{aliases['champion']}", f"v{aliases['challenger']}"]
    assert "credit-default@champion (v1)" in row[3]
    history = MonitorHistory(full.project.metadata, project=full.project.name)
    [run] = history.latest("credit")
    assert run.signals and row[11] == str(len(run.signals))
    signals = cells(html, "signals")
    assert sorted((s[1], s[2]) for s in signals) == sorted((s.kind, s.subject) for s in run.signals)
    assert [r[:2] for r in cells(html, "pending")] == [["credit-default", "v2"]]


def test_the_models_pages_show_what_the_registry_holds(full: Full) -> None:
    registry = full.project.registry
    listed = cells(full.client.get("/ui/models").text, "models")
    assert [(r[0], int(r[1])) for r in listed] == [
        (m.name, m.versions) for m in registry.list_models()
    ]
    html = full.client.get("/ui/models/credit-default").text
    details = registry.show("credit-default")
    versions = cells(html, "versions")
    assert [r[0] for r in versions] == [f"v{v.version.version}" for v in reversed(details.versions)]
    approved = [v for v in details.versions if v.approval is not None]
    assert approved and all(
        f"approve by {v.approval.reviewer}" in versions[-int(v.version.version)][6]
        for v in approved
        if v.approval is not None
    )
    history = cells(html, "history")
    assert len(history) == len(details.history)
    assert {(r[1], r[3]) for r in history} == {(m.alias, f"v{m.version}") for m in details.history}
    assert "<title>champion -&gt; v1 · " in html  # the time line beside the table


def test_metrics_are_side_by_side_with_differences_highlighted(full: Full) -> None:
    html = full.client.get("/ui/models/credit-default").text
    details = full.project.registry.show("credit-default")
    runs = {
        v.version.version: full.project.tracker.get_run(str(v.version.run_id)).metrics
        for v in details.versions
    }
    rows = {r[0]: r[1:] for r in cells(html, "metrics")}
    assert set(rows) == set(runs["1"]) | set(runs["2"])
    for name in ("valid_auc", "valid_ks", "train_rows"):
        assert rows[name] == [format(runs["2"][name], ".6g"), format(runs["1"][name], ".6g")]
    table = re.search(r'id="metrics".*?</table>', html, flags=re.S)
    assert table is not None
    auc = re.search(r"<td>valid_auc</td>(.*?)</tr>", table[0], flags=re.S)
    rows_line = re.search(r"<td>train_rows</td>(.*?)</tr>", table[0], flags=re.S)
    assert auc is not None and rows_line is not None
    assert auc[1].count('class="diff"') == 1  # v2 differs from the champion, v1 is it
    assert 'class="diff"' not in rows_line[1]  # the same training rows


def test_lineage_from_a_version_and_from_a_prediction_id(full: Full) -> None:
    champion = full.project.registry.resolve("credit-default@champion")[1]
    page = text(full.client.get("/ui/lineage/credit-default@champion").text)
    assert "Version credit-default@champion" in page and str(champion.run_id) in page
    assert "risk-officer" in page
    by_id = full.client.get("/ui/lineage/p1")
    assert by_id.status_code == 200
    assert "Prediction p1" in text(by_id.text) and "credit-default/1" in text(by_id.text)
    assert full.client.get("/ui/lineage/credit-default/9").status_code == 404


def test_the_audit_page_shows_the_verified_chain_and_filters(full: Full) -> None:
    entries = full.project.audit.entries()
    html = full.client.get("/ui/audit").text
    assert f"Chain of {len(entries)} entries: verified" in text(html)
    shown = [int(r[0]) for r in cells(html, "entries")]
    assert shown == [e.seq for e in reversed(entries)][:50]
    moved = cells(full.client.get("/ui/audit?action=alias.moved").text, "entries")
    assert [int(r[0]) for r in moved] == [
        e.seq for e in reversed(entries) if e.action == "alias.moved"
    ]


def test_serve_mounts_the_dashboard_behind_a_viewer_token(full: Full) -> None:
    _, viewer = full.project.tokens.create("watcher", "viewer", created_by=full.team.admin)
    app = build_app(full.project.root)
    with TestClient(app) as client:
        refused = client.get("/ui/")
        assert refused.status_code == 401 and 'href="/ui/login"' in refused.text
        header = {"Authorization": f"Bearer {viewer}"}
        assert client.get("/ui/models/credit-default", headers=header).status_code == 200
        wrong = client.post("/ui/login", data={"token": "nope"}, follow_redirects=False)
        assert wrong.status_code == 401 and "Sign in" in wrong.text
        signed = client.post("/ui/login", data={"token": viewer}, follow_redirects=False)
        assert signed.status_code == 303 and signed.headers["location"] == "/ui/"
        assert "httponly" in signed.headers["set-cookie"].lower()
        page = client.get("/ui/")
        assert page.status_code == 200 and "credit-default@champion" in page.text
        # the page shows what the API answers
        [row] = cells(page.text, "deployments")
        rollout = client.get("/v1/deployments/credit/rollout", headers=header).json()
        assert row[2] == rollout["rollout"]["strategy"]
        assert row[3] == " ".join(
            f"{a['name']} {a['weight']:.0%} → {a['model']} (v{a['version']})"
            for a in rollout["arms"]
        )
        model = client.get("/v1/models/credit-default", headers=header).json()
        versions = cells(client.get("/ui/models/credit-default").text, "versions")
        assert [r[0] for r in versions] == [
            f"v{v['version']['version']}" for v in model["versions"]
        ][::-1]
        assert client.get("/ui/static/htmx.min.js").status_code == 200


def test_render_times(full: Full) -> None:
    """Prints how long each page takes to render (a record, not a bound)."""
    urls = ["/ui/", "/ui/models", "/ui/models/credit-default", "/ui/audit",
            "/ui/lineage/credit-default@champion"]  # fmt: skip
    for url in urls:
        full.client.get(url)
        began = time.perf_counter()
        assert full.client.get(url).status_code == 200
        print(f"{url}: {(time.perf_counter() - began) * 1000:.0f} ms")
