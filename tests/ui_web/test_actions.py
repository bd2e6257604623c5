"""The Deployment page's actions: a confirmation page per action, then the action through the
rollout service as the signed-in user, with the admin API's roles and refusals (401, 403,
409), a checked csrf field, and the audit entry the action appended shown after it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from cairn.app.project import Project
from cairn.app.server import build_app
from cairn.ui.web.actions import csrf_token
from tests.serving._client import TestClient
from tests.ui_web._rollouts import Tokens, copy_project, csrf_of, dashboard, make_tokens
from tests.ui_web.conftest import Full
from tests.ui_web.test_blank import text
from tests.ui_web.test_full import cells

pytestmark = pytest.mark.slow  # builds on the shared example project

CONFIRM = '<button type="submit" id="confirm">'


@dataclass(frozen=True)
class Acting:
    """The copied project: ``credit`` a canary of v2 (which nobody approved), ``credit-bg`` a
    blue-green rollout with v1 live and v2 standing by; tokens per role; a client of
    ``cairn ui`` on a loopback address."""

    project: Project
    client: TestClient
    tokens: Tokens


@pytest.fixture(scope="module")
def acting(full: Full, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Acting]:
    dest = tmp_path_factory.mktemp("actions") / "credit"
    project = copy_project(full, dest, extra=("credit-bg",))
    author, service = full.team.author, project.rollouts
    service.create("credit", {"strategy": "canary", "candidate": "credit-default@challenger"},
                   principal=author, reason="try v2")  # fmt: skip
    service.create("credit-bg", {"strategy": "blue-green", "blue": "credit-default/1",
                                 "green": "credit-default/2", "live": "blue"},
                   principal=author, reason="stand v2 by")  # fmt: skip
    tokens = make_tokens(project, full)
    with dashboard(project) as client:
        yield Acting(project, client, tokens)
    project.close()


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def post(acting: Acting, url: str, token: str | None, **form: str) -> tuple[int, str]:
    """POST the confirmation form of ``url`` as the holder of ``token`` (its csrf field and
    the rollout version read from the confirmation page, unless ``form`` gives them)."""
    headers = bearer(token) if token else {}
    page = acting.client.get(url, headers=headers).text
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version is not None
    fields = {"csrf": csrf_of(page), "version": version[1], "reason": "from the dashboard"}
    answer = acting.client.post(url, data={**fields, **form}, headers=headers)
    return answer.status_code, answer.text


def test_each_action_has_a_confirmation_page(acting: Acting) -> None:
    version = {n: acting.project.rollouts.current(n).version for n in ("credit", "credit-bg")}
    for name, action, label, becomes in (
        ("credit", "rollback", "Roll back", "all traffic to control (credit-default@champion)"),
        ("credit", "promote", "Promote", "credit-default/2 becomes champion"),
        ("credit-bg", "switch", "Switch", "the green slot (credit-default/2) goes live"),
        ("credit-bg", "rollback", "Roll back", "the green slot (credit-default/2) goes live"),
    ):
        url = f"/ui/deployments/{name}/actions/{action}"
        anonymous = acting.client.get(url)
        signed = acting.client.get(url, headers=bearer(acting.tokens.deployer))
        for answer in (anonymous, signed):
            html = answer.text
            assert answer.status_code == 200 and CONFIRM in html and label in html
            assert f'<form method="post" action="{url}" hx-boost="false">' in html
            assert re.search(r'<textarea name="reason"', html)
            assert f"(version {version[name]})" in text(html) and becomes in text(html)
        assert csrf_of(anonymous.text) == "" and 'href="/ui/login"' in anonymous.text
        assert csrf_of(signed.text) == csrf_token(acting.tokens.deployer)


def test_an_unknown_or_inapplicable_action_is_refused(acting: Acting) -> None:
    client = acting.client
    assert client.get("/ui/deployments/credit/actions/explode").status_code == 404
    assert client.get("/ui/deployments/nowhere/actions/rollback").status_code == 404
    switch = client.get("/ui/deployments/credit/actions/switch")
    assert switch.status_code == 409 and "Switch does not apply" in text(switch.text)
    assert client.post("/ui/deployments/credit/actions/explode").status_code == 404
    token = acting.tokens.deployer
    nowhere = client.post(
        "/ui/deployments/nowhere/actions/rollback",
        data={"csrf": csrf_token(token), "version": "1"},
        headers=bearer(token),
    )
    assert nowhere.status_code == 404


def test_acting_needs_a_token_with_the_admin_apis_role(acting: Acting) -> None:
    before = acting.project.rollouts.current("credit").version
    status, html = post(acting, "/ui/deployments/credit/actions/rollback", None)
    assert status == 401 and 'href="/ui/login"' in html
    status, html = post(acting, "/ui/deployments/credit/actions/rollback", acting.tokens.viewer)
    assert status == 403 and "needs the deployer role" in text(html)
    status, html = post(acting, "/ui/deployments/credit/actions/promote", acting.tokens.deployer)
    assert status == 403 and "needs the approver role" in text(html)
    assert acting.project.rollouts.current("credit").version == before


def test_a_bad_csrf_field_or_form_is_refused(acting: Acting) -> None:
    url, token = "/ui/deployments/credit/actions/rollback", acting.tokens.deployer
    before = acting.project.rollouts.current("credit").version
    status, html = post(acting, url, token, csrf=csrf_token(acting.tokens.viewer))
    assert status == 403 and "csrf" in text(html)
    status, _ = post(acting, url, token, csrf="")
    assert status == 403
    bad = acting.client.post(url, content=b"\xff\xfe", headers=bearer(token))
    assert bad.status_code == 422
    assert acting.project.rollouts.current("credit").version == before


def test_governance_and_a_stale_rollout_are_409(acting: Acting) -> None:
    rollouts, audit = acting.project.rollouts, acting.project.audit
    before = {n: rollouts.current(n).version for n in ("credit", "credit-bg")}
    refusals = len(audit.entries(action="governance.refused"))
    url = "/ui/deployments/credit/actions/promote"
    status, html = post(acting, url, acting.tokens.approver)
    assert status == 409 and "four eyes" in text(html)  # v2 is not approved by a second person
    url = "/ui/deployments/credit-bg/actions/switch"
    status, html = post(acting, url, acting.tokens.deployer)
    assert status == 409 and "four eyes" in text(html)  # v2 may not go live either
    assert len(audit.entries(action="governance.refused")) == refusals + 2
    url = "/ui/deployments/credit/actions/rollback"
    status, html = post(acting, url, acting.tokens.deployer, version=str(before["credit"] - 1))
    assert status == 409 and "changed since the confirmation" in text(html)
    assert {n: rollouts.current(n).version for n in before} == before


def test_serve_mounts_the_page_and_its_actions_behind_the_admin_tokens(acting: Acting) -> None:
    app = build_app(acting.project.root)
    viewer, deployer = bearer(acting.tokens.viewer), bearer(acting.tokens.deployer)
    url = "/ui/deployments/credit-bg/actions/rollback"
    with TestClient(app) as client:
        assert client.get("/ui/deployments/credit-bg").status_code == 401
        html = client.get("/ui/deployments/credit-bg", headers=viewer).text
        rollout = client.get("/v1/deployments/credit-bg/rollout", headers=viewer).json()
        history = client.get("/v1/deployments/credit-bg/rollout/history", headers=viewer).json()
        assert cells(html, "arms") == [
            [a["name"], a["model"], f"v{a['version']}", f"{a['weight']:.1%}"]
            for a in rollout["arms"]
        ]
        assert len(cells(html, "history")) == len(history["history"])
        form = client.get(url, headers=deployer).text
        fields = {"csrf": csrf_of(form), "version": str(rollout["rollout"]["version"])}
        assert client.post(url, data=fields, headers=viewer).status_code == 403
        done = client.post(url, data={**fields, "reason": "back"}, headers=deployer)
        after = client.get("/v1/deployments/credit-bg/rollout", headers=viewer).json()
    assert done.status_code == 200 and 'id="audit-entry"' in done.text
    assert (rollout["rollout"]["live"], after["rollout"]["live"]) == ("blue", "green")
    assert after["rollout"]["version"] == rollout["rollout"]["version"] + 1


def test_a_signed_in_rollback_changes_the_rollout_and_shows_its_audit_entry(
    acting: Acting,
) -> None:
    project = acting.project
    before = project.rollouts.current("credit")
    assert before.state == "active"
    with dashboard(project) as client:  # its own cookie jar
        login = client.post("/ui/login", data={"token": acting.tokens.deployer},
                            follow_redirects=False)  # fmt: skip
        assert login.status_code == 303 and "cairn_token" in login.headers["set-cookie"]
        url = "/ui/deployments/credit/actions/rollback"
        page = client.get(url).text
        assert csrf_of(page) == csrf_token(acting.tokens.deployer)
        done = client.post(
            url, data={"csrf": csrf_of(page), "version": str(before.version), "reason": "too slow"}
        )
        after_page = client.get("/ui/deployments/credit").text
    assert done.status_code == 200
    after = project.rollouts.current("credit")
    assert (after.state, after.version) == ("rolled_back", before.version + 1)
    assert after.weights() == {"control": 1.0, "canary": 0.0}
    entry = project.audit.entries(subject="deployment/credit", action="rollout.rolled_back")[-1]
    assert entry.actor == "dana" and entry.details["reason"] == "too slow"
    assert entry.details["version"] == after.version
    shown = re.search(r'<table class="kv" id="audit-entry">(.*?)</table>', done.text, re.S)
    assert shown is not None
    fields = dict(re.findall(r"<tr><th>([^<]+)</th><td>(.*?)</td></tr>", shown[1]))
    assert fields["seq"] == str(entry.seq) and fields["action"] == "rollout.rolled_back"
    assert fields["actor"] == "dana" and fields["subject"] == "deployment/credit"
    assert fields["at (UTC)"] == entry.at.isoformat()
    assert fields["hash"] == f"<code>{entry.hash}</code>"
    assert 'href="/ui/audit?subject=deployment/credit"' in done.text
    assert f"now version {after.version}" in text(done.text)
    assert 'class="action"' not in after_page  # a rolled-back canary offers no action
