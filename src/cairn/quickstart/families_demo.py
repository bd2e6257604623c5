"""The model-families step of the quickstart: a points scorecard beside the booster.

On a project where the earlier steps ran (``credit-default@champion`` is a LightGBM booster
serving the ``credit`` deployment):

1. a **points scorecard** (optbinning's binning + logistic regression, scaled to 600 points at
   odds 50:1, 20 points to double) trains on the same ``train.yaml``, only ``model:`` changed,
   and registers as a version of ``credit-default`` (a champion candidate), which the risk
   officer approves (a version serves a deployment only once a second person approved it);
2. its **global explanation** (importance, partial dependence and ICE, contributions per
   feature and the full points table), stored with the version at training time, is written as
   an HTML page;
3. ``cairn serve`` serves it as the deployment ``credit-scorecard`` with the LightGBM champion
   scoring the same requests **in shadow**; the two models' decisions are compared from the
   prediction log;
4. a **decline** of the scorecard is explained by the characteristics that lost the most points
   against their neutral, and its **counterfactual** (exact: points arithmetic) names the fewest
   actionable changes that would have approved it; a decline of the booster gets its
   counterfactual by a search with a time budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from cairn.app.model_explanation import write_explanation_page
from cairn.app.project import Project
from cairn.app.serve_process import free_port, start_server, stop_server, wait_ready
from cairn.core.errors import CairnError
from cairn.quickstart._team import DemoTeam
from cairn.quickstart._traffic import Traffic, applied, customers
from cairn.quickstart.example.scorecard import DEPLOYMENT, SCORECARD, scorecard_deployment
from cairn.quickstart.training_demo import CONFIG_FILE, MODEL_NAME
from cairn.training import TrainConfig, TrainingResult, build_training_set, train

BOOSTER_DEPLOYMENT = "credit"
REQUESTS = 200
TICKET = "MRR-2026-0003"
SERVER_ENV = {"CAIRN_ROLLOUT_POLL_SECONDS": "0.2"}
AGREEMENT_SQL = (
    "SELECT count(*) AS pairs, avg(CASE WHEN p.decision = s.decision THEN 1 ELSE 0 END) AS same,"
    " corr(p.score, s.score) AS score_corr "
    "FROM predictions p JOIN predictions s ON s.prediction_id = p.prediction_id AND s.shadow "
    f"WHERE p.deployment = '{DEPLOYMENT}' AND NOT coalesce(p.shadow, false)"
)


@dataclass
class FamiliesDemo:
    """What the model-families step did, for printing."""

    scorecard: TrainingResult
    champion: str
    """The booster version (``credit-default/N``) shadowing the scorecard."""
    page: Path
    requests: int = 0
    failed: int = 0
    agreement: dict[str, float] = field(default_factory=dict)
    declined: dict[str, Any] = field(default_factory=dict)
    explanation: dict[str, Any] = field(default_factory=dict)
    counterfactual: dict[str, Any] = field(default_factory=dict)
    booster_counterfactual: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ref(self) -> str:
        """The scorecard's version reference."""
        return f"{MODEL_NAME}/{self.scorecard.version}"


def run_families_demo(project_path: str | Path, *, team: DemoTeam) -> FamiliesDemo:
    """Train a scorecard, write its explanation page, serve it with the booster in shadow,
    explain a decline and its counterfactual (see the module)."""
    began = time.perf_counter()
    root = Path(project_path).resolve()
    project = Project.open(root)
    config = TrainConfig.from_yaml(root / CONFIG_FILE)
    card = replace(config, model=SCORECARD, tags={**config.tags, "cairn.role": "scorecard"})
    data = build_training_set(config, project.features)
    result = train(
        card,
        project.features,
        project.tracker,
        author=team.author.name,
        author_via=team.author.via,
        audit=project.registry.audit,
        training_set=data,
    )
    if result.version is None:
        raise CairnError("The scorecard was trained but not registered.")
    page = write_explanation_page(
        project.registry, MODEL_NAME, result.version, root / "explanations" / "scorecard.html"
    )
    champion = project.registry.resolve(f"{MODEL_NAME}@champion")[1].version
    demo = FamiliesDemo(result, f"{MODEL_NAME}/{champion}", page)
    project.registry.approve(  # four eyes: a version serves a deployment only once approved
        MODEL_NAME,
        result.version,
        principal=team.officer,
        ticket=TICKET,
        decision="approve",
        note="Quickstart: the points scorecard reviewed as a champion candidate.",
    )
    scorecard_deployment(root, demo.ref)
    project = Project.open(root)  # the new deployment is declared now
    shadowed = project.rollouts.create(
        DEPLOYMENT,
        {"strategy": "single", "shadows": [demo.champion]},
        reason="quickstart: the LightGBM champion in shadow beside the scorecard",
        principal=team.author,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(root, port, env=SERVER_ENV)
    try:
        wait_ready(url, proc)
        applied(url, shadowed.spec.version, deployment=DEPLOYMENT)
        traffic = Traffic(url, customers(root), deployment=DEPLOYMENT)
        traffic.send(REQUESTS)
        demo.requests, demo.failed = len(traffic.answered) + traffic.failed, traffic.failed
        with httpx.Client(base_url=url, timeout=30.0) as client:
            demo.declined = _first_decline(traffic.answered)
            pid = demo.declined["prediction_id"]
            demo.explanation = _get(client, f"/v1/explanations/{pid}")
            demo.counterfactual = _get(client, f"/v1/explanations/{pid}/counterfactual")
            booster = Traffic(url, customers(root), deployment=BOOSTER_DEPLOYMENT)
            booster.until(lambda: _declined(booster.answered), batch=40)
            other = _first_decline(booster.answered)
            path = f"/v1/explanations/{other['prediction_id']}/counterfactual"
            demo.booster_counterfactual = _get(client, path)
        time.sleep(0.5)  # the shadow path logs off the request path
    finally:
        stop_server(proc)
    result_rows = project.predictions.query(AGREEMENT_SQL)
    if result_rows.rows:
        pairs, same, corr = result_rows.rows[0]
        demo.agreement = {"pairs": float(pairs or 0), "same": float(same or 0.0)}
        if corr is not None:
            demo.agreement["score_corr"] = float(corr)
    demo.seconds = time.perf_counter() - began
    return demo


def _declined(answered: list[dict[str, Any]]) -> bool:
    return any(a.get("decision") == "decline" for a in answered)


def _first_decline(answered: list[dict[str, Any]]) -> dict[str, Any]:
    for answer in answered:
        if answer.get("decision") == "decline":
            return answer
    raise CairnError(
        f"None of {len(answered)} answers was a decline; check the deployment's threshold."
    )


def _get(client: httpx.Client, path: str) -> dict[str, Any]:
    r = client.get(path)
    if r.status_code != 200:
        raise CairnError(f"GET {path} answered {r.status_code}: {r.text[:300]}")
    body: dict[str, Any] = r.json()
    return body
