"""The Quality pages: the project's suites with their newest result, a suite's results history
(what ``cairn quality history`` prints) with its health-score trend, and one stored result's
failing checks with the failing rows it kept — on a blank project, the example project after
the quality demo, and a project with more runs than a page holds."""

from __future__ import annotations

import json
import re
import time
from html import unescape
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.cli.main import app as cli
from cairn.core.render import minute
from cairn.quality import load_suite, validate
from cairn.ui.web import standalone_app
from tests.serving._client import TestClient
from tests.ui_web.conftest import Stocked
from tests.ui_web.test_blank import text
from tests.ui_web.test_full import cells

pytestmark = pytest.mark.slow  # the fixture builds and materializes the example project


def test_a_blank_project_lists_its_suite_never_run(blank_client: TestClient) -> None:
    r = blank_client.get("/ui/quality")
    assert r.status_code == 200
    [row] = cells(r.text, "suites")
    assert row[:5] == ["customers", "quality/customers.yaml", "customers", row[3], "0"]
    assert row[5] == "never run"
    assert '<a href="/ui/quality">Quality</a>' in r.text and "http://" not in r.text
    suite = text(blank_client.get("/ui/quality/customers").text)
    assert "No stored results yet" in suite
    assert blank_client.get("/ui/quality/customers/runs/1").status_code == 404


def test_every_suite_shows_its_newest_result(stocked: Stocked) -> None:
    store = stocked.project.quality
    rows = cells(stocked.client.get("/ui/quality").text, "suites")
    assert [r[0] for r in rows] == sorted(store.suites()) == ["applications", "profiles",
                                                              "transactions"]  # fmt: skip
    for row in rows:
        suite = load_suite(stocked.project.root / "quality" / f"{row[0]}.yaml")
        [newest] = store.history(row[0], limit=1)
        assert row[1:5] == [f"quality/{row[0]}.yaml", str(suite.source), str(len(suite.checks)),
                            str(store.count(row[0]))]  # fmt: skip
        assert row[5:] == [
            minute(newest.started_at),
            newest.data,
            newest.verdict,
            newest.action,
            f"{newest.health:.1f}",
            f"{newest.failed}/{newest.checks}",
        ]
    [apps] = [r for r in rows if r[0] == "applications"]
    assert apps[6:9] == ["broken batch of applications", "failed", "halt"]  # the demo's batch


def test_a_suite_page_is_cairn_quality_history_with_its_trend(stocked: Stocked) -> None:
    root = stocked.project.root
    said = CliRunner().invoke(cli, ["quality", "history", "applications", "--repo", str(root),
                                    "--json"])  # fmt: skip
    assert said.exit_code == 0, said.output
    history = json.loads(said.output)
    html = stocked.client.get("/ui/quality/applications").text
    rows = cells(html, "results")
    assert len(rows) == len(history) == 2
    for row, run in zip(rows, history, strict=True):
        assert row[0] == str(run["run_id"]) and row[2:4] == [run["data"], str(run["rows"])]
        assert row[4:8] == [
            run["verdict"],
            run["action"],
            f"{run['health']:.2f}",
            f"{run['failed']}/{run['checks']}",
        ]
    dots = re.findall(r"<title>health ([0-9.]+) · ", html)  # the chart draws the same scores
    assert sorted(dots) == sorted(f"{run['health']:.2f}" for run in history)


def test_a_result_shows_its_failing_checks_and_rows(stocked: Stocked) -> None:
    broken = stocked.quality.broken
    assert broken.run_id is not None and broken.failures
    html = stocked.client.get(f"/ui/quality/applications/runs/{broken.run_id}").text
    stored = stocked.project.quality.get(broken.run_id)
    failures = table(html, "failures")
    assert [int(r[0]) for r in failures] == [c.index for c in stored.failures]
    for row, check in zip(failures, stored.failures, strict=True):
        assert row[1:6] == [check.expectation, check.target, str(check.layer),
                            str(check.severity), str(check.action)]  # fmt: skip
        if check.unexpected_count is not None:
            assert row[6] == str(check.unexpected_count)
    health = stored.health.to_dict()
    [scores] = cells(html, "health")
    assert scores == [format(v, ".2f") if v is not None else "–" for v in health.values()]
    kept = [c for c in stored.failures if c.failing_rows]
    assert kept
    for check in kept:
        rows = table(html, f"rows-{check.index}")
        assert [int(r[0]) for r in rows] == [f["row"] for f in check.failing_rows]
        columns = list(check.failing_rows[0]["values"])
        for row, failing in zip(rows, check.failing_rows, strict=True):
            values = [failing["values"][c] for c in columns]
            assert row[1:] == [_shown(v) for v in values]
    assert [int(r[0]) for r in cells(html, "passed")] == [
        c.index for c in stored.checks if c.success
    ]


def table(html: str, name: str) -> list[list[str]]:
    """The cells of a table as a reader sees them (entities unescaped)."""
    return [[unescape(c) for c in row] for row in cells(html, name)]


def _shown(value: object) -> str:
    """A stored value as the result page writes it."""
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format(value, ".6g")
    return str(value)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/ui/quality/nope", 404),
        ("/ui/quality/applications/runs/9999", 404),
        ("/ui/quality/applications?page=2", 404),
        ("/ui/quality?page=2", 404),
        ("/ui/quality/applications/runs/x", 422),
        ("/ui/quality/applications/runs/0", 422),
        ("/ui/quality/applications?page=-1", 422),
    ],
)
def test_unknown_names_are_404_and_bad_input_422(stocked: Stocked, url: str, status: int) -> None:
    r = stocked.client.get(url)
    assert r.status_code == status
    assert ("Not found" if status == 404 else "Bad request") in text(r.text)


def test_a_run_of_another_suite_is_not_found_under_this_one(stocked: Stocked) -> None:
    [profiles] = stocked.project.quality.history("profiles", limit=1)
    assert stocked.client.get(f"/ui/quality/profiles/runs/{profiles.run_id}").status_code == 200
    assert stocked.client.get(f"/ui/quality/applications/runs/{profiles.run_id}").status_code == 404


def test_history_is_paged_and_a_broken_suite_file_is_shown(tmp_path: Path) -> None:
    (tmp_path / "cairn.yaml").write_text("project: checked\n")
    (tmp_path / "quality").mkdir()
    (tmp_path / "quality" / "amounts.yaml").write_text(
        "name: amounts\nexpectations:\n"
        "  - expect_column_values_to_be_between: {column: amount, min_value: 0}\n"
    )
    (tmp_path / "quality" / "broken.yaml").write_text("name: broken\nexpectations: 3\n")
    with Project.open(tmp_path) as project:
        suite = load_suite(tmp_path / "quality" / "amounts.yaml")
        for i in range(51):  # run i has i negative amounts of 100
            frame = pd.DataFrame({"amount": [-1.0] * i + [1.0] * (100 - i)})
            validate(suite, frame, label=f"batch {i}", store=project.quality)
        with TestClient(standalone_app(project)) as client:
            rows = table(client.get("/ui/quality").text, "suites")
            assert [r[0] for r in rows] == ["amounts", "broken"]
            assert rows[0][4] == "51" and rows[0][6:] == ["batch 50", "failed", "halt",
                                                          "50.0", "1/1"]  # fmt: skip
            assert (
                rows[1][1] == "quality/broken.yaml: 'expectations' must be a list of checks; got 3."
            )
            first = cells(client.get("/ui/quality/amounts").text, "results")
            second = cells(client.get("/ui/quality/amounts?page=2").text, "results")
            assert [r[2] for r in first + second] == [f"batch {i}" for i in range(50, -1, -1)]
            assert [r[6] for r in first[:2]] == ["50.00", "51.00"]  # 1 - the share failing
            assert client.get("/ui/quality/amounts?page=3").status_code == 404
            assert client.get("/ui/quality/broken").status_code == 200


def test_render_times(stocked: Stocked) -> None:
    """Prints how long each page takes to render (a record, not a bound)."""
    run = stocked.quality.broken.run_id
    urls = ["/ui/quality", "/ui/quality/applications", f"/ui/quality/applications/runs/{run}"]
    for url in urls:
        stocked.client.get(url)
        began = time.perf_counter()
        assert stocked.client.get(url).status_code == 200
        print(f"{url}: {(time.perf_counter() - began) * 1000:.0f} ms")


def test_cairn_serve_asks_a_viewer_token_for_these_pages(stocked: Stocked) -> None:
    from cairn.app.server import build_app

    _, token = stocked.project.tokens.create("first-admin", "admin")  # what cairn init makes
    admin = stocked.project.authenticate(f"Bearer {token}")
    _, viewer = stocked.project.tokens.create("watcher", "viewer", created_by=admin)
    with TestClient(build_app(stocked.project.root)) as client:
        for url in ("/ui/quality", "/ui/quality/applications", "/ui/features",
                    "/ui/features/txn_stats", "/ui/features/txn_stats/consistency"):  # fmt: skip
            refused = client.get(url)
            assert refused.status_code == 401 and 'href="/ui/login"' in refused.text
            seen = client.get(url, headers={"Authorization": f"Bearer {viewer}"})
            assert seen.status_code == 200
