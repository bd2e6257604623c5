"""The Deployment page (JavaScript off): a deployment's rollout, its history, the canary's
stages and gate decisions, the A/B split with its sample-ratio test, the shadows' agreement
and the arms' traffic, each equal to what the rollout service, the audit log, ``cairn
experiment analyze`` and the retraining loop's shadow reading say."""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from cairn.app.project import Project
from cairn.core.timeutil import to_micros
from cairn.experiments import MetricCatalog, analyze_deployment
from cairn.experiments.scope import LoggedExperiment, logged_experiments
from cairn.retraining.promotion import shadow_progress
from cairn.rollouts.controller import CanaryController
from cairn.ui.web.experiments import (
    experiment_status,
    gather_experiment,
    gather_experiments,
    key_metric,
)
from tests.serving._client import TestClient
from tests.ui_web._rollouts import copy_project, dashboard, write_arms
from tests.ui_web.conftest import Full
from tests.ui_web.test_blank import text
from tests.ui_web.test_full import cells

pytestmark = pytest.mark.slow  # builds on the shared example project


@dataclass(frozen=True)
class Rollouts:
    """The copied project: ``credit`` a canary judged once by the controller, ``credit-ab`` an
    A/B test with a shadow, ``credit-idle`` no rollout at all."""

    project: Project
    client: TestClient
    canary_seed: str
    ab_seed: str


@pytest.fixture(scope="module")
def rollouts(full: Full, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rollouts]:
    dest = tmp_path_factory.mktemp("deployment") / "credit"
    project = copy_project(full, dest, extra=("credit-ab", "credit-idle"))
    author, service = full.team.author, project.rollouts
    canary = service.create(
        "credit",
        {"strategy": "canary", "candidate": "credit-default@challenger",
         "stages": [10, 50, 100], "gate": {"min_samples": 50}},
        principal=author, reason="try v2",
    ).spec  # fmt: skip
    ab = service.create(
        "credit-ab",
        {"strategy": "ab", "shadows": ["credit-default@challenger"],
         "arms": [{"name": "control", "model": "credit-default/1", "weight": 0.5},
                  {"name": "treatment", "model": "credit-default/1", "weight": 0.5}]},
        principal=author, reason="an A/A test",
    ).spec  # fmt: skip
    start = datetime.now(UTC)
    assert canary.seed is not None and ab.seed is not None
    write_arms(project, "credit", strategy="canary", seed=canary.seed, start=start,
               arms={"control": ("1", 540), "canary": ("2", 60)})  # fmt: skip
    write_arms(project, "credit-ab", strategy="ab", seed=ab.seed, start=start,
               arms={"control": ("1", 300), "treatment": ("1", 250)}, shadow="2")  # fmt: skip
    while datetime.now(UTC) < start + timedelta(seconds=0.2):  # every row in the past
        time.sleep(0.05)
    steps = CanaryController(service, project.predictions, settle_s=0).run_once()
    assert [s.decision.action for s in steps] == ["advance"], [s.line() for s in steps]
    with dashboard(project) as client:
        yield Rollouts(project, client, canary.seed, ab.seed)
    project.close()


def test_an_unknown_deployment_is_a_404_page(blank_client: TestClient, rollouts: Rollouts) -> None:
    for client in (blank_client, rollouts.client):
        answer = client.get("/ui/deployments/nowhere")
        assert answer.status_code == 404 and "nowhere" in text(answer.text)


def test_malformed_and_missing_history_pages(rollouts: Rollouts) -> None:
    assert rollouts.client.get("/ui/deployments/credit?page=x").status_code == 422
    assert rollouts.client.get("/ui/deployments/credit?page=9").status_code == 404


def test_a_deployment_without_a_rollout(rollouts: Rollouts) -> None:
    html = rollouts.client.get("/ui/deployments/credit-idle").text
    status = rollouts.project.rollouts.status("credit-idle")
    assert cells(html, "arms") == [["main", "credit-default@champion", "v1", "100.0%"]]
    assert status["arms"][0]["version"] == "1" and status["rollout"]["version"] == 0
    assert "No rollout stored yet" in html and 'class="action"' not in html
    assert 'id="stages"' not in html and "No shadow model" in html


def test_the_canary_shows_its_rollout_history_and_actions(rollouts: Rollouts) -> None:
    html = rollouts.client.get("/ui/deployments/credit").text
    status = rollouts.project.rollouts.status("credit")
    assert [[r[0], r[1], r[2], r[3]] for r in cells(html, "arms")] == [
        [a["name"], a["model"], f"v{a['version']}", f"{a['weight']:.1%}"] for a in status["arms"]
    ]
    assert status["rollout"]["stage"] == 1 and "stage 2 of 3 (50 %)" in text(html)
    history = rollouts.project.rollouts.history("credit")
    rows = cells(html, "history")
    assert len(rows) == len(history) == 2
    assert [r[0] for r in rows] == [str(c.version) for c in reversed(history)]
    assert [r[2] for r in rows] == [c.actor for c in reversed(history)]
    links = re.findall(r'<a class="action" data-action="(\w+)" href="([^"]+)">([^<]+)</a>', html)
    assert links == [
        ("rollback", "/ui/deployments/credit/actions/rollback", "Roll back"),
        ("promote", "/ui/deployments/credit/actions/promote", "Promote"),
    ]


def test_the_canary_shows_every_gate_decision_with_its_numbers(rollouts: Rollouts) -> None:
    html = rollouts.client.get("/ui/deployments/credit").text
    [entry] = rollouts.project.rollouts.decisions("credit")
    gate = entry.details["gate"]
    [row] = cells(html, "decisions")
    assert row[0] == str(entry.seq) and row[2] == "1 (10 %)"
    assert row[3:6] == [gate["action"], gate["gate"], entry.action]
    numbers = dict(pair.split("=", 1) for pair in row[7].split("; "))
    assert set(numbers) == set(gate["numbers"])
    for key, value in gate["numbers"].items():
        if value is None:  # a gate that judged nothing (no labels yet)
            assert numbers[key] == "–", key
        elif isinstance(value, float):
            assert numbers[key] == f"{value:.6g}", key
        else:
            assert numbers[key] == str(value), key
    assert cells(html, "stages") == [
        ["1", "10 %", "done", "1"], ["2", "50 %", "current", "0"], ["3", "100 %", "ahead", "0"]
    ]  # fmt: skip


def test_the_arms_traffic_counts_the_log(rollouts: Rollouts) -> None:
    html = rollouts.client.get("/ui/deployments/credit").text
    body = re.search(r'<table[^>]*id="traffic"[^>]*>(.*?)</table>', html, flags=re.S)
    assert body is not None
    header = re.findall(r"<th>([^<]*)</th>", body[1])
    assert header[:3] == ["slice from (UTC)", "canary", "control"]
    assert header[-2:] == ["60", "540"]  # the totals row
    assert len(cells(html, "traffic")) == 24 and "<svg" in html


def test_the_ab_split_and_its_srm_equal_the_experiment_analysis(rollouts: Rollouts) -> None:
    project = rollouts.project
    html = rollouts.client.get("/ui/deployments/credit-ab").text
    analysis = analyze_deployment(
        project.predictions, "credit-ab", catalog=MetricCatalog.load(project.root),
        splits=project.rollout_store, seed=rollouts.ab_seed, deployments=project.deployments(),
    )  # fmt: skip
    assert analysis.srm is not None and analysis.srm.error is None
    rows = cells(html, "split")
    assert [(r[0], r[1], r[3]) for r in rows] == [
        (a.arm, str(a.units), f"{a.weight:.1%}") for a in analysis.arms
    ]
    assert [r[1] for r in rows] == ["300", "250"]
    srm = text(re.search(r'<p id="srm">(.*?)</p>', html, flags=re.S)[1])  # type: ignore[index]
    assert f"p-value {analysis.srm.p_value:.4g}" in srm
    assert f"χ² {analysis.srm.chi2:.4f}" in srm
    expected = "MISMATCH" if analysis.srm.mismatch else "no mismatch"
    assert expected in srm


def test_the_shadow_agreement_is_the_retraining_loops(rollouts: Rollouts) -> None:
    project = rollouts.project
    html = rollouts.client.get("/ui/deployments/credit-ab").text
    [row] = cells(html, "shadows")
    since = project.rollouts.history("credit-ab")[-1].at
    now = datetime.now(UTC)
    progress = shadow_progress(
        project, "credit-ab", "credit-default/2", since=to_micros(since), now=to_micros(now)
    )
    assert progress.predictions == 100 + 84  # every third unit of 300 and of 250
    assert progress.agreement is not None and progress.mean_abs_score_diff is not None
    assert row[:3] == ["credit-default@challenger", "v2", since.strftime("%Y-%m-%d %H:%M")]
    assert row[3:] == [
        str(progress.predictions),
        f"{progress.agreement:.1%}",
        f"{progress.mean_abs_score_diff:.4f}",
    ]


def test_the_overview_links_each_deployment_to_its_page(rollouts: Rollouts) -> None:
    html = rollouts.client.get("/ui/").text
    for name in ("credit", "credit-ab", "credit-idle"):
        assert f'href="/ui/deployments/{name}"' in html


def same(a: object, b: object) -> bool:
    """``a == b``, its floats equal to 1e-9 (DuckDB sums doubles in parallel, so one
    analysis run twice can differ in the last bits) and NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(
            same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a)
        )
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))  # type: ignore[arg-type]
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def test_the_experiments_list_equals_each_experiment_analysed_alone(rollouts: Rollouts) -> None:
    """The list scans the log once, reads the rollout histories in one query and analyses
    the page's experiments on one connection; each row equals that experiment analysed alone
    as ``cairn experiment analyze`` does it (its own connection, listing, scope and split),
    up to the last bits of DuckDB's parallel sums (see :func:`same`)."""
    project, now = rollouts.project, datetime.now(UTC)
    page = gather_experiments(project, 1, now=now)
    deployments = project.deployments()
    alone: list[tuple[str, LoggedExperiment]] = []
    with project.predictions.connect() as con:
        for name in sorted(deployments):
            alone += [(name, e) for e in logged_experiments(con, name, now)]
    alone.sort(key=lambda item: item[1].end, reverse=True)
    rows = page.experiments.items
    assert [(r.deployment, r.logged) for r in rows] == alone
    assert {(r.deployment, r.logged.seed, r.status) for r in rows} == {
        ("credit", rollouts.canary_seed, "running"),
        ("credit-ab", rollouts.ab_seed, "running"),
    }
    catalog = MetricCatalog.load(project.root)
    for row in rows:
        own = catalog.for_deployment(deployments[row.deployment])
        key = key_metric(own)
        guards = [m.name for m in own.metrics.values() if m.guardrail and m.name != key]
        analysed = analyze_deployment(
            project.predictions, row.deployment, [key, *guards], catalog=catalog,
            splits=project.rollout_store, seed=row.logged.seed, as_of=now, correction="holm",
            deployments=deployments,
        )  # fmt: skip
        assert row.problem is None and same(row.analysis, analysed)
        assert row.status == experiment_status(project, row.deployment, row.logged.seed)
        one = gather_experiment(project, row.deployment, row.logged.seed, now=now)
        every = analyze_deployment(
            project.predictions, row.deployment, catalog=catalog, splits=project.rollout_store,
            seed=row.logged.seed, as_of=now, correction="holm", deployments=deployments,
        )  # fmt: skip
        assert one.view is not None and same(one.view.analysis, every)  # rendered from it
        assert one.status == row.status
    ab = next(r.analysis for r in rows if r.deployment == "credit-ab")
    assert ab is not None and ab.srm is not None  # the A/B split read from the history
