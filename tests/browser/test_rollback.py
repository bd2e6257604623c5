"""A rollback through the dashboard in headless chromium: a deployer signs in, opens the
deployment's page, clicks ``Roll back``, gives a reason and confirms; the page shows the audit
entry the rollback wrote, the audit page lists it, and the API shows the canary rolled back."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser._browser import Browser
from tests.browser._site import TOKENS
from tests.browser.conftest import Site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REASON = "browser test: the canary goes back"


def test_a_canary_is_rolled_back_through_the_dashboard(
    site: Site, browser: Browser, artifacts: Path
) -> None:
    from selenium.webdriver.common.by import By

    with site.api("deployer") as api:
        created = api.post(
            "/v1/deployments/credit/rollout",
            json={
                "strategy": "canary",
                "candidate": "credit-default@challenger",
                "replace": True,
                "reason": "browser test: a canary to roll back",
            },
        )
        assert created.status_code == 200, created.text
        assert api.get("/v1/deployments/credit/rollout").json()["rollout"]["state"] == "active"

    driver = browser.driver
    browser.sign_in(TOKENS["deployer"][1])
    page = browser.get("/ui/deployments/credit")
    assert page.status == 200, page.title
    browser.screenshot(artifacts / "rollback-1-deployment.png")
    action = driver.find_element(By.CSS_SELECTOR, 'a.action[data-action="rollback"]')
    assert action.text.strip() == "Roll back"
    assert action.get_attribute("href") == f"{site.url}/ui/deployments/credit/actions/rollback"
    action.click()

    reason = browser.wait_for(lambda d: d.find_element(By.NAME, "reason"))
    confirm = browser.settle()
    assert confirm.status == 200 and confirm.console == []
    assert driver.find_element(By.CSS_SELECTOR, 'form input[type="hidden"][name="csrf"]')
    assert "canary" in driver.find_element(By.TAG_NAME, "main").text
    reason.send_keys(REASON)
    browser.screenshot(artifacts / "rollback-2-confirm.png")
    driver.find_element(By.ID, "confirm").click()

    shown = browser.wait_for(lambda d: d.find_element(By.ID, "audit-entry"))
    done = browser.settle()
    assert done.status == 200 and done.console == []
    browser.screenshot(artifacts / "rollback-3-done.png")
    with site.api() as api:
        entry = api.get("/v1/audit", params={"subject": "deployment/credit"}).json()["entries"][-1]
        rollout = api.get("/v1/deployments/credit/rollout").json()["rollout"]
    assert rollout["state"] == "rolled_back" and rollout["strategy"] == "canary"
    assert entry["action"] == "rollout.rolled_back" and entry["details"]["reason"] == REASON
    assert entry["actor"] == TOKENS["deployer"][0]
    text = shown.text
    for part in (entry["action"], entry["actor"], entry["subject"], entry["hash"][:12]):
        assert part in text, (part, text)

    audit = driver.find_element(By.CSS_SELECTOR, 'a[href*="/ui/audit?subject="]')
    audit.click()
    browser.wait_for(lambda d: "/ui/audit?subject=" in d.current_url)
    browser.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "table#entries td"))
    listed = browser.settle()
    assert listed.status == 200 and listed.console == []
    browser.screenshot(artifacts / "rollback-4-audit.png")
    first = browser.table("entries")[0]
    assert first[0] == str(entry["seq"]) and first[3] == "rollout.rolled_back"
    assert first[2] == TOKENS["deployer"][0] and first[4] == entry["subject"]


def test_a_refused_action_shows_its_409_page(site: Site, browser: Browser, artifacts: Path) -> None:
    """The confirmation was opened, then someone else rolled the canary back: confirming
    shows the refusal in the browser (not swallowed), and nothing is rolled back twice."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.expected_conditions import staleness_of

    with site.api("deployer") as api:
        created = api.post(
            "/v1/deployments/credit/rollout",
            json={"strategy": "canary", "candidate": "credit-default@challenger",
                  "replace": True, "reason": "browser test: a canary rolled back twice"},
        )  # fmt: skip
        assert created.status_code == 200, created.text
        browser.sign_in(TOKENS["deployer"][1])
        assert browser.get("/ui/deployments/credit/actions/rollback").status == 200
        browser.driver.find_element(By.NAME, "reason").send_keys("too late")
        first = api.post("/v1/deployments/credit/rollout/rollback", json={"reason": "first"})
        assert first.status_code == 200, first.text
        entries = api.get("/v1/audit").json()["entries"]
        confirm = browser.driver.find_element(By.ID, "confirm")
        confirm.click()
        browser.wait_for(staleness_of(confirm))
        refused = browser.settle()
        browser.screenshot(artifacts / "rollback-5-refused.png")
        assert refused.status == 409
        assert "rolled_back" in browser.text("main")
        assert api.get("/v1/audit").json()["entries"] == entries
        assert api.get("/v1/deployments/credit/rollout").json()["rollout"]["state"] == "rolled_back"
