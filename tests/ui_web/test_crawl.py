"""Every page of the dashboard, found by following links rather than named by a test: the
crawl ``cairn ui --check`` and the quickstart's last step run."""

from __future__ import annotations

import pytest

from cairn.quickstart.dashboard_demo import run_dashboard_demo
from cairn.ui.web.crawl import PageVisit, crawl
from tests.serving._client import TestClient
from tests.ui_web.conftest import Full

NAV = ["/ui/", "/ui/models", "/ui/features", "/ui/quality", "/ui/monitoring",
       "/ui/experiments", "/ui/audit"]  # fmt: skip


def test_every_page_of_a_blank_project_renders(blank_client: TestClient) -> None:
    visits = crawl(blank_client)
    assert [v.path for v in visits[: len(NAV)]] == NAV
    assert [v for v in visits if not v.ok] == []


def test_every_page_of_the_full_project_renders(full: Full) -> None:
    demo = run_dashboard_demo(full.project.root, max_pages=400)
    paths = {v.path for v in demo.visits}
    assert demo.failed == []
    assert set(NAV) <= paths
    # the links of the pages are followed: a model, a version's lineage, the deployment
    assert "/ui/models/credit-default" in paths
    assert any(p.startswith("/ui/lineage/credit-default/") for p in paths)
    assert all(v.title for v in demo.visits)
    assert demo.command.startswith("cairn ui --repo ")


def test_a_crawl_does_not_follow_actions_logins_or_other_sites() -> None:
    class Site:
        def __init__(self) -> None:
            self.asked: list[str] = []

        def get(self, path: str, headers: dict[str, str]) -> object:
            self.asked.append(path)
            html = (
                "<title>t</title><a href='/ui/a'>a</a><a href='b?page=2#x'>b</a>"
                "<a href='/ui/deployments/d/actions/rollback'>r</a><a href='/ui/login'>l</a>"
                "<a href='https://example.org/ui/x'>x</a><a href='mailto:a@b'>m</a>"
                "<a href='/ui/static/htmx.min.js'>s</a><a href='/v1/models'>api</a>"
            )
            return type("R", (), {"status_code": 200, "text": html,
                                  "headers": {"content-type": "text/html"}})()  # fmt: skip

    site = Site()
    visits = crawl(site, "/ui/")
    assert site.asked == ["/ui/", "/ui/a", "/ui/b?page=2"]
    assert all(isinstance(v, PageVisit) and v.ok and v.title == "t" for v in visits)


def test_max_pages_bounds_the_crawl(blank_client: TestClient) -> None:
    assert len(crawl(blank_client, max_pages=2)) == 2
    with pytest.raises(ValueError, match="max_pages must be at least 1, got 0"):
        crawl(blank_client, max_pages=0)
