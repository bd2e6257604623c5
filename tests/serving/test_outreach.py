"""A deployment that is not credit, end to end through the real code paths: an outreach model
whose positive decision is ``follow_up`` (favorable to the customer), negative ``skip``, label
``subscribed`` maturing after 7 days.

Served over HTTP (``build_app``) as an A/B test with a shadow challenger: answers, explanations,
shadow rows, metrics and OpenAPI speak its vocabulary; then the experiment analysis, the
champion comparison (its maturity stated and overridden, adverse impact on ``follow_up``) and
monitoring's performance at the threshold run on the log it wrote.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cairn.app.project import Project
from cairn.app.server import build_app
from cairn.cli.main import app as cli
from cairn.core.deployments import Deployment
from cairn.core.errors import ConfigError, OnlineStoreError
from cairn.core.timeutil import to_micros, utcnow
from cairn.experiments import MetricCatalog, analyze_deployment, compare_deployment
from cairn.monitoring.performance import window_performance
from cairn.monitoring.window import Window
from cairn.rollouts import Arm, RolloutSpec
from cairn.serving.log_reader import query
from cairn.serving.log_records import PREDICTION_SCHEMA
from cairn.serving.predict_request import PredictRow
from cairn.serving.prediction_log import SegmentLog
from cairn.serving.predictor import Predictor
from tests.rollouts._rollout_project import CHALLENGER, CHAMPION, rollout_project, rollout_store
from tests.serving._client import TestClient
from tests.serving._models import LEVELS
from tests.serving.routing._serving import loader
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

DAY = timedelta(days=1)
UNITS = 400
OUTREACH = """\
deployments:
  outreach:
    model: credit-default@champion
    threshold: 0.5
    decision: {positive: follow_up, negative: skip, favorable: positive}
    label: {name: subscribed, maturity: 7d}
    explain: positive
    feature_budget_ms: 200
    coverage: {unknown_entity: score}  # new customers: scored on their request features
"""


@dataclass(frozen=True)
class Served:
    """The project after the traffic, and what the server answered."""

    path: Path
    answers: list[dict[str, Any]]
    labels: dict[str, float]
    explained_skip: dict[str, Any]
    explained_follow_up: dict[str, Any]
    deployments: dict[str, Any]
    openapi: dict[str, Any]
    metrics: str
    done: datetime


def _rows(rng: np.random.Generator) -> tuple[list[dict[str, Any]], list[float]]:
    """Customers with request-time features, and whether each subscribes (seeded)."""
    income = rng.uniform(0, 50, UNITS)
    spend = rng.uniform(0, 20, UNITS)
    segment = rng.choice(LEVELS, UNITS)
    logit = -0.15 * income + 0.3 * spend + (segment == "d") * 1.5
    subscribed = (rng.uniform(size=UNITS) < 1 / (1 + np.exp(-logit))).astype(float)
    rows = [
        {
            "entities": {"customer_id": 100 + i},
            "unit_id": f"u{i}",
            "features": {
                "income": float(income[i]),
                "segment": str(segment[i]),
                "amount_sum_7d": float(spend[i]),
                "amount_count_7d": float(i % 5),
            },
        }
        for i in range(UNITS)
    ]
    return rows, subscribed.tolist()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path) -> Served:
    path = rollout_project(tmp_path_factory.mktemp("outreach"), mlflow_template)
    (path / "deployments.yaml").write_text(OUTREACH)
    arms = [Arm("control", CHAMPION, 0.5), Arm("treatment", CHALLENGER, 0.5)]
    spec = RolloutSpec.ab("outreach", arms, "outreach-ab", shadows=(CHALLENGER,))
    rollout_store(path).put(spec, actor="ops", reason="A/B test with a shadow challenger")
    rows, subscribed = _rows(np.random.default_rng(20261201))
    answers: list[dict[str, Any]] = []
    with TestClient(build_app(path)) as c:
        for k in range(0, UNITS, 40):
            r = c.post("/v1/predict/outreach/batch", json={"rows": rows[k : k + 40]})
            assert r.status_code == 200, r.text
            answers += r.json()["predictions"]
        deadline = time.monotonic() + 60
        while True:
            queue = c.get("/v1/deployments").json()["deployments"]["outreach"]["rollout"]
            if queue["shadow_queue"]["scored"] >= UNITS:
                break
            assert time.monotonic() < deadline, f"the shadow worker never caught up: {queue}"
            time.sleep(0.05)
        labels = {a["prediction_id"]: y for a, y in zip(answers, subscribed, strict=True)}
        outcomes = [{"prediction_id": pid, "label": y} for pid, y in labels.items()]
        for k in range(0, UNITS, 40):
            r = c.post("/v1/outcomes", json={"outcomes": outcomes[k : k + 40]})
            assert r.status_code == 200, r.text
        skips = [a for a in answers if a["decision"] == "skip"]
        skip = max(skips, key=lambda a: a["score"])  # near the threshold: factors toward it
        follow_up = next(a for a in answers if a["decision"] == "follow_up")
        explained_skip = c.get(f"/v1/explanations/{skip['prediction_id']}").json()
        explained_follow_up = c.get(f"/v1/explanations/{follow_up['prediction_id']}").json()
        deployments = c.get("/v1/deployments").json()["deployments"]
        openapi = c.get("/openapi.json").json()
        metrics = c.get("/metrics").text
    return Served(path, answers, labels, explained_skip, explained_follow_up, deployments,
                  openapi, metrics, utcnow())  # fmt: skip


def _log(served: Served) -> pd.DataFrame:
    result = query(
        served.path,
        "SELECT prediction_id, arm, model_version, score, decision, positive, explained, "
        "reason_codes, shadow FROM predictions WHERE deployment = 'outreach'",
    )
    return pd.DataFrame(result.rows, columns=result.columns)


def test_answers_use_the_declared_decisions_and_explain_follow_ups_only(served: Served) -> None:
    decisions = {a["decision"] for a in served.answers}
    assert decisions == {"follow_up", "skip"}
    for a in served.answers:
        assert a["decision"] == ("follow_up" if a["score"] >= 0.5 else "skip")
        if a["decision"] == "skip":
            assert a["reason_codes"] == [] and a["summary"] == "Decision: skip."
        else:
            assert a["summary"].startswith("Decision: follow_up.")
    assert any(a["reason_codes"] for a in served.answers if a["decision"] == "follow_up")
    assert served.explained_follow_up["computed"] is False
    skip = served.explained_skip
    assert skip["computed"] is True and skip["decision"] == "skip"  # computed on demand
    assert skip["reason_codes"] and all(c["contribution"] > 0 for c in skip["reason_codes"])
    assert skip["summary"].startswith("Decision: skip. Factor")  # toward follow_up, said so
    assert "toward follow_up: " in skip["summary"]


def test_the_log_and_the_shadows_speak_the_vocabulary(served: Served) -> None:
    log = _log(served)
    primary, shadow = log[~log.shadow], log[log.shadow]
    assert len(primary) == UNITS and len(shadow) == UNITS  # every request shadow-scored
    assert set(log.decision) == {"follow_up", "skip"}
    assert (log.positive == (log.score >= 0.5)).all()
    assert (log.positive == (log.decision == "follow_up")).all()
    assert (primary.explained == primary.positive).all()  # explain: positive
    assert (primary[~primary.positive].reason_codes == "[]").all()
    assert set(shadow.model_version) == {"2"} and not shadow.explained.any()


def test_deployments_openapi_and_metrics_name_the_decisions(served: Served) -> None:
    dep = served.deployments["outreach"]
    vocabulary = {"positive": "follow_up", "negative": "skip", "favorable": "follow_up"}
    assert dep["decision"] == vocabulary
    assert dep["label"] == {"name": "subscribed", "maturity": "7d"}
    post = served.openapi["paths"]["/v1/predict/{deployment}"]["post"]
    decision = post["responses"]["200"]["content"]["application/json"]["schema"]["properties"][
        "decision"
    ]
    assert decision["type"] == "string" and "enum" not in decision
    assert "positive decision" in decision["description"]
    for d, flag in (("follow_up", "true"), ("skip", "false")):
        assert f'decision="{d}",deployment="outreach",positive="{flag}"' in served.metrics


def test_the_experiment_uses_generic_metrics_and_the_label_maturity(served: Served) -> None:
    project = Project.open(served.path)
    log = _log(served)
    primary = log[~log.shadow].assign(label=lambda f: f.prediction_id.map(served.labels))
    names = ["positive_rate", "negative_rate", "label_rate", "label_rate_among_negative"]

    def analyze(as_of: datetime) -> Any:
        return analyze_deployment(
            project.predictions, "outreach", names, catalog=MetricCatalog.load(served.path),
            splits=project.rollout_store, deployments=project.deployments(), as_of=as_of,
        )  # fmt: skip

    result = analyze(served.done + 8 * DAY)
    assert result.status == "ok" and result.control == "control"
    assert {a.arm for a in result.arms} == {"control", "treatment"}
    for arm, rows in primary.groupby("arm"):
        means = {m.metric.name: next(v.mean for v in m.arms if v.arm == arm)
                 for m in result.metrics}  # fmt: skip
        assert means["positive_rate"] == pytest.approx(rows.positive.mean())
        assert means["negative_rate"] == pytest.approx(1 - rows.positive.mean())
        assert means["label_rate"] == pytest.approx(rows.label.mean())
        missed = rows[~rows.positive].label.mean()
        assert means["label_rate_among_negative"] == pytest.approx(missed)
    label_rate = result.metric("label_rate")
    assert label_rate.metric.maturity_text == "7d" and label_rate.metric.direction == "increase"
    early = analyze(served.done + DAY).metric("label_rate")  # labels are in, but not mature
    assert early.status == "immature" and "older than 7d" in (early.reason or "")
    with pytest.raises(ConfigError, match="Unknown metric 'approval_rate'"):
        analyze_deployment(
            project.predictions, "outreach", ["approval_rate"],
            catalog=MetricCatalog.load(served.path), deployments=project.deployments(),
        )  # fmt: skip


def test_compare_states_its_maturity_and_judges_the_favorable_decision(served: Served) -> None:
    project = Project.open(served.path)
    log = _log(served)
    champion = log[~log.shadow & (log.model_version == "1")]  # the control arm's requests
    protected = served.path / "protected.parquet"
    ids = list(range(100, 100 + UNITS))  # the customers of the requests, in order
    bands = ["even" if i % 2 == 0 else "odd" for i in ids]
    pd.DataFrame({"customer_id": ids, "band": bands}).to_parquet(protected, index=False)
    band_of = {a["prediction_id"]: bands[k] for k, a in enumerate(served.answers)}

    def compare(as_of: datetime, **options: Any) -> Any:
        return compare_deployment(
            project.predictions, "outreach", catalog=MetricCatalog.load(served.path),
            deployments=project.deployments(), as_of=as_of, **options,
        )  # fmt: skip

    mature = compare(served.done + 8 * DAY, protected=protected, attribute="band",
                     key="customer_id")  # fmt: skip
    assert mature.maturity_text == "7d"
    assert mature.maturity_source == "the label maturity of deployment outreach"
    assert mature.pairs == len(champion) and mature.labeled_pairs == len(champion)
    assert mature.decision.favorable_decision == "follow_up"
    assert mature.champion.favorable_rate == pytest.approx(champion.positive.mean())
    air = mature.champion.adverse_impact
    assert air is not None and air.decision == "follow_up"
    expected = champion.positive.groupby(champion.prediction_id.map(band_of)).mean()
    assert {g.group: g.rate for g in air.groups} == pytest.approx(expected.to_dict())
    early = compare(served.done + DAY)
    assert early.labeled_pairs == 0 and early.maturity_text == "7d"
    given = compare(served.done + DAY, maturity=0)
    assert given.labeled_pairs == len(champion)
    assert given.describe_maturity() == (
        "Labels count for requests at least 0s old (given with --maturity)."
    )
    runner = CliRunner(env={"COLUMNS": "200"})
    at = (served.done + DAY).isoformat()
    out = runner.invoke(cli, ["experiment", "compare", "outreach", "--as-of", at, "--maturity",
                              "0s", "--repo", str(served.path)]).output  # fmt: skip
    assert "follow_up rate" in out and "(given with --maturity)" in out, out
    out = runner.invoke(cli, ["experiment", "compare", "outreach", "--as-of", at, "--repo",
                              str(served.path)]).output  # fmt: skip
    assert "at least 7d old (the label maturity of deployment outreach)" in out, out


def test_monitoring_judges_follow_up_at_the_threshold_once_labels_are_mature(
    served: Served,
) -> None:
    log = _log(served)
    primary = log[~log.shadow].assign(label=lambda f: f.prediction_id.map(served.labels))
    end = to_micros(served.done + 7 * DAY + timedelta(hours=1))  # a run a week later
    window = Window("outreach", end - 86_400_000_000, end, end, "as_of")
    with Project.open(served.path).predictions.connect() as con:
        p = window_performance(
            con, window, threshold=0.5, decision="follow_up", maturity=7 * 86_400_000_000
        )
    assert (p.status, p.predictions, p.labeled, p.decision) == ("judged", UNITS, UNITS,
                                                                 "follow_up")  # fmt: skip
    hits = (primary.positive & (primary.label > 0)).sum()
    assert p.metrics["precision"] == pytest.approx(hits / primary.positive.sum())
    assert p.metrics["recall"] == pytest.approx(hits / (primary.label > 0).sum())
    assert p.positive_rate == pytest.approx(primary.label.mean())


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[SegmentLog]:
    log = SegmentLog(tmp_path / ".cairn" / "predictions", PREDICTION_SCHEMA, flush_ms=50)
    yield log
    log.close()


def test_fallback_answers_decide_in_the_vocabulary(unreachable: SegmentLog) -> None:
    def down(*_: Any) -> dict[str, list[Any]]:
        raise OnlineStoreError("the online store is down")

    spec = {"model": CHAMPION, "decision": {"positive": "block", "negative": "allow"}}
    deps = {
        "rules": Deployment.from_dict("rules", {**spec, "fallback": {"score": 0.9}}),
        "model": Deployment.from_dict("model", {**spec, "fallback": {"defaults": {}}}),
    }
    p = Predictor(deps, loader(), down, unreachable, offload=False)
    p.refresh()
    rows = [PredictRow({"customer_id": 1}, {"income": 1.0, "amount_sum_7d": 19.0})]
    (rules,) = asyncio.run(p.predict("rules", rows))
    assert (rules.record.decision, rules.record.positive, rules.record.fallback) == (
        "block", True, "rules")  # fmt: skip
    (model,) = asyncio.run(p.predict("model", rows))
    assert model.record.fallback == "defaults"
    assert model.record.decision == ("block" if model.record.score >= 0.5 else "allow")
