"""The Experiments pages: every A/B test and canary in the log with its status and key
metric, one experiment's results with intervals (the experiment report as a page) and its
power plans, with the numbers ``cairn experiment list|analyze`` and
:mod:`cairn.experiments.power` give."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.app.server import build_app
from cairn.cli.main import app as cli
from cairn.core.render import minute
from cairn.experiments.metrics import EXPERIMENTS_FILE
from cairn.experiments.power import PowerDesign, minimum_detectable_effect, sample_size
from tests.serving._client import TestClient
from tests.ui_web.conftest import Experiment, Full
from tests.ui_web.test_blank import text
from tests.ui_web.test_full import cells

runner = CliRunner(env={"COLUMNS": "200", "CAIRN_USER": "tester"})


def cli_json(*args: str) -> object:
    result = runner.invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def analysis_json(root: Path, seed: str, *extra: str) -> dict[str, Any]:
    """``cairn experiment analyze credit --experiment SEED --json``."""
    found = cli_json("experiment", "analyze", "credit", "--experiment", seed, *extra,
                     "--repo", str(root))  # fmt: skip
    assert isinstance(found, dict)
    return found


def metric_of(analysis: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in analysis["metrics"] if m["metric"]["name"] == name)


def pct(value: float | None) -> str:
    return "∞" if value is None else f"{value:+.2%}"


def test_a_blank_project_has_no_experiments_yet(blank_client: TestClient) -> None:
    r = blank_client.get("/ui/experiments")
    assert r.status_code == 200
    assert "No experiments yet." in text(r.text)
    assert '<a href="/ui/experiments">Experiments</a>' in r.text


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/ui/experiments/nope/ab-1", 404, "No deployment 'nope'; deployments: customer."),
        ("/ui/experiments/customer/ab-1", 404, "No experiment 'ab-1' in deployment 'customer'"),
        ("/ui/experiments?page=2", 404, "Page 2 does not exist: the list has 1 page(s)."),
        ("/ui/experiments?page=-1", 422, "The query parameter 'page' must be a whole number"),
    ],
)
def test_unknown_names_are_404_and_malformed_input_422(
    blank_client: TestClient, url: str, status: int, says: str
) -> None:
    r = blank_client.get(url)
    assert r.status_code == status
    assert says in text(r.text).replace("&#39;", "'")


@pytest.mark.slow
def test_the_list_is_what_cairn_experiment_list_finds(experiment: Experiment) -> None:
    listed = cli_json("experiment", "list", "credit", "--repo", str(experiment.ab.root))
    assert isinstance(listed, list) and listed
    rows = cells(experiment.client.get("/ui/experiments").text, "experiments")
    assert [(r[0], r[1], r[2], *r[4:8]) for r in rows] == [
        (
            e["seed"],
            "credit",
            e["strategy"],
            ", ".join(e["arms"]),
            minute(datetime.fromisoformat(e["start"])),
            minute(datetime.fromisoformat(e["end"])),
            str(e["predictions"]),
        )
        for e in listed
    ]
    [row] = [r for r in rows if r[0] == experiment.ab.seed]
    assert row[3] == "running"  # the deployment's current rollout carries its seed
    analysis = analysis_json(experiment.ab.root, experiment.ab.seed)
    assert row[8] == f"p = {analysis['srm']['p_value']:.3g}"
    key = metric_of(analysis, "approval_rate")  # the first metric experiments.yaml declares
    assert row[9] == "approval_rate"
    if key["comparisons"]:
        [c] = key["comparisons"]
        assert row[11].startswith(f"challenger: {c['relative']['expected']:+.2%}")
        assert row[11].endswith(c["verdict"])
    else:
        assert row[11] == key["reason"]
    guardrails = [m for m in analysis["metrics"] if m["metric"]["guardrail"]]
    assert guardrails, "the built-in latency_ms and error_rate are guardrails"
    for m in guardrails:
        said = [c["error"] or c["verdict"] for c in m["comparisons"]]  # an error says why
        verdicts = ", ".join(said) or m["reason"]
        assert f"{m['metric']['name']}: {verdicts}" in row[12]


@pytest.mark.slow
def test_the_results_are_the_report_of_cairn_experiment_analyze(experiment: Experiment) -> None:
    html = experiment.client.get(f"/ui/experiments/credit/{experiment.ab.seed}").text
    page = text(html)
    analysis = analysis_json(experiment.ab.root, experiment.ab.seed)
    assert f"ab experiment {experiment.ab.seed}" in page and "status running" in page
    for arm in analysis["arms"]:
        assert f"{arm['arm']} {arm['units']:,} {arm['weight']:.3g}" in page
    assert f"p = {analysis['srm']['p_value']:.4g} — no mismatch" in page
    compared = 0
    for m in analysis["metrics"]:
        for c in m["comparisons"]:
            if c["error"]:
                continue
            lo, hi = c["relative"]["ci"]
            rel = f"{c['relative']['expected']:+.2%} {pct(lo)} to {pct(hi)}"
            assert f"{rel} {c['p_value']:.3g} {c['adjusted_p_value']:.3g}" in page, m["metric"]
            compared += 1
    assert compared >= 2  # default_rate and label_rate at least
    assert html.count("<svg") >= compared  # every comparison's interval drawn to scale


@pytest.mark.slow
def test_the_correction_is_a_query_parameter(experiment: Experiment) -> None:
    url = f"/ui/experiments/credit/{experiment.ab.seed}"
    page = text(experiment.client.get(f"{url}?correction=none").text)
    analysis = analysis_json(experiment.ab.root, experiment.ab.seed, "--correction", "none")
    c = metric_of(analysis, "default_rate")["comparisons"][0]
    assert c["adjusted_p_value"] == c["p_value"]
    assert f"{c['p_value']:.3g} {c['p_value']:.3g}" in page and "correction none" in page
    bad = experiment.client.get(f"{url}?correction=sidak")
    assert bad.status_code == 422 and "'correction' must be one of" in text(bad.text).replace(
        "&#39;", "'"
    )
    for mde in ("0", "-0.1", "ten", "nan"):
        assert experiment.client.get(f"{url}?mde={mde}").status_code == 422
    assert experiment.client.get("/ui/experiments/credit/no-such-seed").status_code == 404


@pytest.mark.slow
@pytest.mark.parametrize("mde", [0.05, 0.2])
def test_power_plans_are_cairn_experiment_plan_on_the_experiments_design(
    experiment: Experiment, mde: float
) -> None:
    html = experiment.client.get(f"/ui/experiments/credit/{experiment.ab.seed}?mde={mde}").text
    analysis = analysis_json(experiment.ab.root, experiment.ab.seed)
    m = metric_of(analysis, "default_rate")
    control = next(a for a in m["arms"] if a["arm"] == analysis["control"])
    arms = sorted(analysis["arms"], key=lambda a: a["arm"] != analysis["control"])
    design = PowerDesign(
        baseline=control["mean"],
        weights=tuple(a["weight"] for a in arms),
        alpha=analysis["alpha"],
        correction=analysis["correction"],
    )
    counted = {a["arm"]: a["n"] for a in m["arms"]}
    needed = sample_size(design, mde)
    now = minimum_detectable_effect(design, units=sum(counted.values()))
    rows = cells(html, "plan-default_rate")
    assert [r[0] for r in rows] == [a["arm"] for a in arms]
    assert [r[2] for r in rows] == [str(counted[a["arm"]]) for a in arms]
    assert [r[3] for r in rows] == [str(a.units) for a in needed.arms]
    assert rows[1][4] == f"{needed.arms[1].power:.1%}" and rows[1][5] == f"{now.mde:+.2%}"
    assert f"to detect {mde:+.1%} it needs {needed.total_units} units" in text(html)
    assert "a mean metric: its plan needs the per-unit standard deviation" in text(html)


@pytest.mark.slow
def test_render_times(experiment: Experiment) -> None:
    """Prints how long the pages take to render (a record, not a bound)."""
    for url in ["/ui/experiments", f"/ui/experiments/credit/{experiment.ab.seed}"]:
        experiment.client.get(url)
        began = time.perf_counter()
        assert experiment.client.get(url).status_code == 200
        print(f"{url}: {(time.perf_counter() - began) * 1000:.0f} ms")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("declared", "says"),
    [
        ("metrics:\n  broken: {type: proportion, sql: no_such_column > 0}\n", "'broken'"),
        ("metrics:\n  broken: {type: proportion, sqll: x}\n", "sqll"),
    ],
)
def test_a_broken_experiments_yaml_is_said_not_a_500(
    experiment: Experiment, declared: str, says: str
) -> None:
    path = experiment.ab.root / EXPERIMENTS_FILE
    kept = path.read_text(encoding="utf-8")
    path.write_text(declared, encoding="utf-8")
    try:
        listed = experiment.client.get("/ui/experiments")
        one = experiment.client.get(f"/ui/experiments/credit/{experiment.ab.seed}")
    finally:
        path.write_text(kept, encoding="utf-8")
    assert listed.status_code == 200 and one.status_code == 200
    [row] = [r for r in cells(listed.text, "experiments") if r[0] == experiment.ab.seed]
    assert row[8].startswith("No result:") and says in row[8].replace("&#39;", "'")
    assert "No result:" in text(one.text) and "Power plans" not in text(one.text)


@pytest.mark.slow
def test_cairn_serve_shows_these_pages_to_a_viewer_only(experiment: Experiment, full: Full) -> None:
    with Project.open(experiment.ab.root) as project:
        _, viewer = project.tokens.create("watcher", "viewer", created_by=full.team.admin)
    with TestClient(build_app(experiment.ab.root)) as client:
        urls = ["/ui/monitoring", "/ui/monitoring/1", "/ui/experiments",
                f"/ui/experiments/credit/{experiment.ab.seed}"]  # fmt: skip
        for url in urls:
            assert client.get(url).status_code == 401, url
            signed = client.get(url, headers={"Authorization": f"Bearer {viewer}"})
            assert signed.status_code == 200, url
