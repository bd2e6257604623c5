"""The Features pages: every applied view with what ``cairn status`` and ``cairn stream status``
say of it, the materialization runs the metadata store recorded, and the consistency check of
``cairn consistency check`` — on a blank project, the materialized example project and a
project reading a stream."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn import Entity, FeatureView, Field, FileSource, LocalStreamSource
from cairn.app.consistency import check_consistency
from cairn.app.project import Project
from cairn.app.streaming import run_processor
from cairn.cli.main import app as cli
from cairn.core.render import minute
from cairn.ui.web import standalone_app
from cairn.ui.web.freshness import age_text
from tests.serving._client import TestClient
from tests.streams._parity import apply_view
from tests.ui_web.conftest import Stocked
from tests.ui_web.test_blank import text
from tests.ui_web.test_full import cells

pytestmark = pytest.mark.slow  # the fixture builds and materializes the example project


def test_a_blank_project_has_no_views_and_no_runs(blank_client: TestClient) -> None:
    r = blank_client.get("/ui/features")
    assert r.status_code == 200
    page = text(r.text)
    assert "No feature views applied yet" in page
    assert "No materialization run recorded yet" in page
    assert blank_client.get("/ui/features/customers").status_code == 404
    assert blank_client.get("/ui/features/customers/consistency").status_code == 404
    assert '<a href="/ui/features">Features</a>' in r.text
    assert "http://" not in r.text  # nothing from the internet


def test_every_view_shows_its_definition_and_what_cairn_status_prints(stocked: Stocked) -> None:
    store = stocked.project.features
    before = datetime.now(UTC)
    html = stocked.client.get("/ui/features").text
    after = datetime.now(UTC)
    status = CliRunner().invoke(cli, ["status", "--repo", str(stocked.project.root), "--json"])
    assert status.exit_code == 0, status.output
    printed = {row["view"]: row for row in json.loads(status.output)}
    rows = cells(html, "views")
    applied = store.applied_views()
    assert [r[0] for r in rows] == sorted(applied) == sorted(printed)
    for row in rows:
        view, said = applied[row[0]], printed[row[0]]
        watermark = datetime.fromisoformat(said["watermark"])
        newest = datetime.fromisoformat(said["max_event"])
        assert row[1] == f"customer ({', '.join(view.view.join_keys)})"
        assert row[2] == f"{view.view.source.name} (file)"
        assert row[4] == (view.view.ttl or "–")
        assert row[5:8] == [f"v{said['version']}", view.definition_hash[:12], "materialized"]
        assert row[8] == minute(watermark) and row[10] == minute(newest)
        assert row[9] in {age_text((t - watermark).total_seconds()) for t in (before, after)}
        assert row[11] in {age_text((t - newest).total_seconds()) for t in (before, after)}
        assert row[12] == "–"  # no stream
        types = store.online.feature_types(view)
        for name in view.view.feature_names:
            assert f"{name}: {types[name].value}" in row[3]
    [txn] = [r for r in rows if r[0] == "txn_stats"]
    assert "amount_sum_24h: float64 = sum(amount) over 24h, hop 1h" in txn[3]


def test_the_runs_are_those_recorded_with_their_rows_and_seconds(stocked: Stocked) -> None:
    html = stocked.client.get("/ui/features").text
    shown = cells(html, "runs")
    done = list(reversed(stocked.runs))  # newest first, as the page lists them
    assert "5 newest of 5 runs" in text(html)
    assert [r[0] for r in shown] == [run.view for run in done]
    assert [r[2] for r in shown] == [run.kind for run in done]
    assert [int(r[5]) for r in shown] == [run.records + run.tiles for run in done]
    assert [r[6] for r in shown] == [f"{run.seconds:.2f}" for run in done]
    assert all(run.max_event_us is not None for run in done)  # each run wrote rows
    assert [r[4] for r in shown] == [minute(run.max_event_us or 0) for run in done]
    first, ranged, last = shown[-1], shown[2], shown[0]
    assert first[3].startswith("(first run, ") and ranged[3].startswith("[")
    assert last[3].startswith(f"({first[3].split(', ')[1].rstrip(']')}, ")  # the watermark moved


def test_a_view_page_has_its_definition_versions_and_own_runs(stocked: Stocked) -> None:
    store = stocked.project.features
    applied = store.applied_views()["customer_profile"]
    html = stocked.client.get("/ui/features/customer_profile").text
    page = text(html)
    assert applied.definition_hash in page and "kind snapshot" in page
    assert f"TTL {applied.view.ttl}" in page
    versions = store.metadata.history(store.project, "feature_view", "customer_profile")
    assert [r[:2] for r in cells(html, "versions")] == [
        [f"v{v.version}", v.definition_hash[:12]] for v in reversed(versions)
    ]
    assert [r[0] for r in cells(html, "features")] == list(applied.view.feature_names)
    own = [run for run in reversed(stocked.runs) if run.view == "customer_profile"]
    runs = cells(html, "runs")
    assert [(r[1], int(r[4])) for r in runs] == [(run.kind, run.records) for run in own]
    assert "/ui/features/customer_profile/consistency" in html
    assert stocked.client.get("/ui/features/customer_profile?page=2").status_code == 404
    assert stocked.client.get("/ui/features/customer_profile?page=0").status_code == 422


@pytest.mark.parametrize(("sample", "seed"), [(None, None), ("25", "3")])
def test_the_consistency_page_runs_the_cli_check(
    stocked: Stocked, sample: str | None, seed: str | None
) -> None:
    query = "" if sample is None else f"?sample={sample}&seed={seed}"
    r = stocked.client.get(f"/ui/features/txn_stats/consistency{query}")
    assert r.status_code == 200
    want = check_consistency(
        stocked.project.features, "txn_stats", int(sample or 100), None, int(seed or 0)
    )
    assert want.ok
    page = text(r.text)
    assert f"{want.keys} keys sampled, compared at {minute(want.at)} UTC" in page
    assert f"consistent — {want.verdict()}." in page
    assert cells(r.text, "consistency") == [
        [f, str(want.compared[f]), str(want.both_null[f]), str(want.one_sided[f]), str(bad)]
        for f, bad in want.mismatches.items()
    ]


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/ui/features/nope", 404),
        ("/ui/features/nope/consistency", 404),
        ("/ui/features?page=2", 404),
        ("/ui/features?page=x", 422),
        ("/ui/features/txn_stats/consistency?sample=0", 422),
        ("/ui/features/txn_stats/consistency?sample=many", 422),
        ("/ui/features/txn_stats/consistency?seed=-1", 422),
    ],
)
def test_unknown_names_are_404_and_bad_input_422(stocked: Stocked, url: str, status: int) -> None:
    r = stocked.client.get(url)
    assert r.status_code == status
    assert ("Not found" if status == 404 else "Bad request") in text(r.text)


def test_a_stream_view_shows_the_lag_of_cairn_stream_status(tmp_path: Path) -> None:
    (tmp_path / "cairn.yaml").write_text("project: streamed\n")
    with Project.open(tmp_path) as project:
        store = project.features
        apply_view(store, LocalStreamSource(name="txns"))
        now = pd.Timestamp.now(tz="UTC")
        store.produce("txns", [{"customer_id": c, "event_timestamp": now, "amount": 2.0}
                               for c in (1, 2, 3)])  # fmt: skip
        with TestClient(standalone_app(project)) as client:
            [row] = cells(client.get("/ui/features").text, "views")
            assert row[7] == "stream" and row[12] == "3 events, – (none)"
            check = text(client.get("/ui/features/velocity/consistency").text)
            assert "which no processor has committed yet" in check  # what the CLI says
            run_processor(store, "txns", threading.Event(), until_idle=True).log.close()
            [row] = cells(client.get("/ui/features").text, "views")
            assert row[12] == "0 events, 0 s (current)"
            html = client.get("/ui/features/velocity").text
            assert "txns: 0 events waiting, lag 0 s" in text(html)
            assert "Kept current by its stream processor" in text(html)


def test_render_times(stocked: Stocked) -> None:
    """Prints how long each page takes to render (a record, not a bound)."""
    urls = ["/ui/features", "/ui/features/txn_stats", "/ui/features/txn_stats/consistency"]
    for url in urls:
        stocked.client.get(url)
        began = time.perf_counter()
        assert stocked.client.get(url).status_code == 200
        print(f"{url}: {(time.perf_counter() - began) * 1000:.0f} ms")


def test_a_view_never_materialized_then_run_more_times_than_a_page_holds(tmp_path: Path) -> None:
    (tmp_path / "cairn.yaml").write_text("project: small\n")
    (tmp_path / "data").mkdir()
    base = pd.Timestamp("2026-01-01", tz="UTC")
    pd.DataFrame(
        {
            "customer_id": [1, 2, 3] * 20,
            "event_timestamp": [base + pd.Timedelta(days=d) for d in range(60)],
            "income": [float(i) for i in range(60)],
        }
    ).to_parquet(tmp_path / "data" / "incomes.parquet")
    source = FileSource(path="data/incomes.parquet", timestamp_field="event_timestamp")
    view = FeatureView(
        name="incomes",
        entities=[Entity(name="customer", join_keys=["customer_id"])],
        source=source,
        schema=[Field(name="income", dtype="float64")],
    )
    with Project.open(tmp_path) as project, TestClient(standalone_app(project)) as client:
        store = project.features
        store.apply([view])
        [row] = cells(client.get("/ui/features").text, "views")
        assert row[7] == "not materialized" and row[8:12] == ["–"] * 4
        check = unescape(text(client.get("/ui/features/incomes/consistency").text))
        assert "View 'incomes' was never materialized" in check
        for day in range(51):  # a range run per day: one row each
            start = (base + pd.Timedelta(days=day)).to_pydatetime()
            store.materialize(start, start + timedelta(days=1))
        first = cells(client.get("/ui/features/incomes").text, "runs")
        second = cells(client.get("/ui/features/incomes?page=2").text, "runs")
        assert [(r[1], int(r[4])) for r in first + second] == [("range", 1)] * 51
        assert second[0][2] == "[2026-01-01 00:00, 2026-01-02 00:00)"  # the oldest run
        assert client.get("/ui/features/incomes?page=3").status_code == 404
        [row] = cells(client.get("/ui/features").text, "views")
        assert row[7] == "materialized" and row[8] == "–"  # range runs move no watermark
        assert row[10] == "2026-02-20 00:00"  # the newest event any run wrote
