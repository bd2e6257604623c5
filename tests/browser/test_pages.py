"""The dashboard in a real headless chromium against a real ``cairn serve``: every page
reachable from the navigation and the Overview loads without an error page or a console
error (a screenshot of each is saved), and the key numbers equal what the API answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser._browser import Browser
from tests.browser._site import TOKENS
from tests.browser.conftest import Site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MAX_PAGES = 60
"""The crawl's bound: it stops after this many pages (the quickstart project has fewer)."""
SKIPPED = ("/actions/",)
"""Links the crawl does not follow: an action's confirmation (``test_rollback`` clicks it)."""


def test_every_page_loads_without_an_error_or_a_console_error(
    site: Site, browser: Browser, artifacts: Path
) -> None:
    browser.sign_in(TOKENS["viewer"][1])
    queue: list[tuple[str, int]] = [("/ui/", 0)]
    seen = {"/ui/"}
    visited: list[str] = []
    times: list[str] = []
    problems: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        link, depth = queue.pop(0)
        visit = browser.get(link)
        visited.append(link)
        times.append(f"{visit.ms:7.0f} ms  {link}")
        if visit.status != 200:
            problems.append(f"{link}: HTTP {visit.status} ({visit.title})")
        problems.extend(f"{link}: console: {m}" for m in visit.console)
        browser.screenshot(artifacts / f"{Browser.slug(link)}.png")
        for found in browser.links():
            if found not in seen and not any(s in found for s in SKIPPED):
                seen.add(found)
                queue.append((found, depth + 1))
    print(f"crawled {len(visited)} pages ({len(queue)} links left by the bound); load times:")
    print("\n".join(times))
    assert problems == [], "\n".join(problems)
    # every link of the navigation and the Overview was followed, whatever the bound
    assert not [link for link, depth in queue if depth <= 1]
    nav = ["/ui/", "/ui/models", "/ui/audit", "/ui/models/credit-default"]
    assert set(nav) <= set(visited)
    assert all((artifacts / f"{Browser.slug(link)}.png").stat().st_size > 0 for link in visited)


def test_the_overview_shows_the_rollout_the_api_answers(site: Site, browser: Browser) -> None:
    browser.sign_in(TOKENS["viewer"][1])
    assert browser.get("/ui/").status == 200
    [row] = browser.table("deployments")
    with site.api() as api:
        rollout = api.get("/v1/deployments/credit/rollout").json()
    spec = rollout["rollout"]
    shown = spec["strategy"] + (f" ({spec['state']})" if spec["state"] != "active" else "")
    assert row[0] == "credit" and row[2] == shown
    assert row[3] == " ".join(
        f"{a['name']} {a['weight']:.0%} → {a['model']} (v{a['version']})" for a in rollout["arms"]
    )
    # the predictions sent through /v1/predict are the hour's traffic, all answered
    assert site.predictions == 40
    assert row[6] == str(site.predictions) and row[8] == "0.0%"


def test_the_model_page_shows_the_versions_the_api_answers(site: Site, browser: Browser) -> None:
    browser.sign_in(TOKENS["viewer"][1])
    assert browser.get("/ui/models/credit-default").status == 200
    with site.api() as api:
        model = api.get("/v1/models/credit-default").json()
    versions = browser.table("versions")
    assert [r[0] for r in versions] == [f"v{v['version']['version']}" for v in model["versions"]][
        ::-1
    ]
    aliases = {alias: f"v{version}" for alias, version in model["model"]["aliases"].items()}
    for alias, version in aliases.items():
        [shown] = [r for r in versions if r[0] == version]
        assert alias in " ".join(shown)


def test_the_audit_page_shows_the_newest_entry_the_api_answers(
    site: Site, browser: Browser
) -> None:
    browser.sign_in(TOKENS["viewer"][1])
    assert browser.get("/ui/audit").status == 200
    with site.api() as api:
        entries = api.get("/v1/audit", params={"limit": 100000}).json()["entries"]
    newest = entries[-1]
    first = browser.table("entries")[0]
    shown = dict(
        zip(["seq", "at", "actor", "action", "subject", "details", "hash"], first, strict=True)
    )
    assert shown["seq"] == str(newest["seq"])
    assert shown["at"] == newest["at"][:16].replace("T", " ")  # to the minute, UTC
    assert (shown["actor"], shown["action"]) == (newest["actor"], newest["action"])
    assert shown["subject"] == newest["subject"] and shown["hash"] == newest["hash"][:12]
    assert browser.text("#verification").startswith(f"Chain of {len(entries)} entries: verified")
