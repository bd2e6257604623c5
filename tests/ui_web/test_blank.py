"""Every dashboard page on a blank project: it renders, says there is nothing yet, and bad
input is a 404 or 422 page (never a 500)."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from cairn.app.project import Project
from tests.serving._client import TestClient

PAGES = {
    "/ui/": "No predictions logged in the last hour.",
    "/ui/models": "No registered models yet",
    "/ui/audit": "No audit entries yet",
}


def text(html: str) -> str:
    """The page without its inlined stylesheet, scripts and tags (what a reader sees)."""
    html = re.sub(r"<(style|script)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(("url", "says"), PAGES.items())
def test_every_page_renders_its_empty_state(blank_client: TestClient, url: str, says: str) -> None:
    r = blank_client.get(url)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert says in text(r.text)
    assert '<a href="/ui/models">Models</a>' in r.text  # plain links: readable without JS
    assert '<script src="/ui/static/htmx.min.js" defer></script>' in r.text
    assert "http://" not in r.text.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_overview_lists_a_deployment_whose_model_is_not_registered_yet(
    blank_client: TestClient,
) -> None:
    page = text(blank_client.get("/ui/").text)
    assert "customer customer-model@champion single main 100% → customer-model@champion" in page
    assert "(no version)" in page and "No version awaits review." in page


def test_a_project_without_deployments_says_so(tmp_path: Path) -> None:
    from cairn.ui.web import standalone_app

    (tmp_path / "cairn.yaml").write_text("project: bare\n")
    with Project.open(tmp_path) as project, TestClient(standalone_app(project)) as client:
        page = text(client.get("/ui/").text)
    assert "No deployments yet" in page


def test_the_root_redirects_to_the_dashboard(blank_client: TestClient) -> None:
    r = blank_client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/ui/"


def test_the_audit_page_verifies_the_empty_chain(blank_client: TestClient) -> None:
    page = text(blank_client.get("/ui/audit").text)
    assert "Chain of 0 entries: verified" in page


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/ui/models/credit-default", 404, "No registered model 'credit-default'"),
        ("/ui/models?page=2", 404, "Page 2 does not exist: the list has 1 page(s)."),
        ("/ui/audit?page=0", 422, "'page' must be a whole number of at least 1; got '0'"),
        ("/ui/models?page=abc", 422, "got 'abc'"),
        ("/ui/lineage/credit-default/1", 404, "No registered model 'credit-default'"),
        ("/ui/lineage/p-123", 404, "neither a model reference"),
        ("/ui/lineage/credit-default@", 422, "credit-default@"),
        ("/ui/nowhere", 404, "Not Found"),
        ("/ui/?page=2", 404, "Page 2 does not exist"),
        ("/ui/?page=-1", 422, "got '-1'"),
    ],
)
def test_bad_input_is_a_clear_html_page(
    blank_client: TestClient, url: str, status: int, says: str
) -> None:
    r = blank_client.get(url)
    assert r.status_code == status, r.text[-400:]
    assert r.headers["content-type"].startswith("text/html")
    assert says in text(r.text).replace("&#39;", "'")


def test_htmx_is_served_with_its_licence(blank_client: TestClient) -> None:
    js = blank_client.get("/ui/static/htmx.min.js")
    assert js.status_code == 200 and "htmx" in js.text[:2000]
    assert len(js.content) > 40_000
    licence = blank_client.get("/ui/static/htmx.LICENSE")
    assert licence.status_code == 200 and "Zero-Clause BSD" in licence.text
    vendored = blank_client.get("/ui/static/VENDORED.txt").text
    assert "htmx 2.0.11" in vendored and "htmx.LICENSE" in vendored
    assert blank_client.get("/ui/static/dashboard.css").status_code == 200


def test_audit_pages_list_newest_first_fifty_a_page_and_filter(blank: Project) -> None:
    from cairn.ui.web import standalone_app

    log = blank.audit
    for n in range(120):
        log.append("ana", "note" if n % 2 else "check", f"thing-{n % 3}", {"n": n})
    with TestClient(standalone_app(blank)) as client:
        first = client.get("/ui/audit").text
        last = client.get("/ui/audit?page=3").text
        only = client.get("/ui/audit?subject=thing-1&action=note").text
        missing = client.get("/ui/audit?page=4")
    seqs = [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", first)]
    assert seqs == list(range(120, 70, -1))
    assert [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", last)] == list(range(20, 0, -1))
    assert "120 in all, 1–50 shown" in text(first) and "page 1 of 3" in text(first)
    assert 'href="/ui/audit?page=2" rel="next"' in first
    # n % 3 == 1 and n odd: seq = n + 1 for n in 1, 7, 13, ...
    shown = [int(s) for s in re.findall(r"<tr><td>(\d+)</td>", only)]
    assert shown == [n + 1 for n in range(119, -1, -1) if n % 3 == 1 and n % 2 == 1]
    assert "Chain of 120 entries: verified" in text(first)
    assert missing.status_code == 404


def test_the_overview_pages_a_hundred_deployments(tmp_path: Path) -> None:
    from cairn.ui.web import standalone_app

    (tmp_path / "cairn.yaml").write_text("project: many\n")
    lines = ["deployments:"] + [f"  d{n:03d}: {{model: m{n}@champion}}" for n in range(100)]
    (tmp_path / "deployments.yaml").write_text("\n".join(lines) + "\n")
    with Project.open(tmp_path) as project, TestClient(standalone_app(project)) as client:
        client.get("/ui/?page=2")  # the first request imports MLflow and opens the databases
        began = time.perf_counter()
        second = client.get("/ui/?page=2").text
        print(f"overview page 2 of 100 deployments: {(time.perf_counter() - began) * 1000:.0f} ms")
    names = re.findall(r'<tr>\s*<td><a href="/ui/deployments/d\d{3}">(d\d{3})</a></td>', second)
    assert names == [f"d{n:03d}" for n in range(50, 100)]
    assert "100 in all, 51–100 shown" in text(second) and "page 2 of 2" in text(second)
    assert 'href="/ui/?page=1" rel="prev"' in second
