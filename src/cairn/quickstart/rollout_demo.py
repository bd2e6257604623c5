"""The rollout half of the quickstart: shadow, A/B, a canary to promotion, a broken canary
rolled back by its gates.

On a project where :mod:`~cairn.quickstart.training_demo` and
:mod:`~cairn.quickstart.serving_demo` ran
(``credit-default@champion`` and the ``credit`` deployment exist), with ``cairn serve`` as a
subprocess and the canary controller in a thread of this process (as ``cairn deploy watch``):

1. **shadow** — the champion answers, the challenger scores the same requests off the request
   path; its rows share the primaries' prediction ids;
2. **A/B** — champion vs challenger 50/50, sticky by customer; per-arm counts against the
   weights (and the SRM p-value); outcomes are posted for every answered prediction (the
   applications' real ``defaulted`` labels), so experiment analysis can compare the arms;
3. **canary to promotion** — the challenger, approved by a second person, walks 10 → 50 % and
   is promoted to champion through the governance rules;
4. **broken canary** — a genuinely slow version (1,500 trees of 63 leaves: every score and every
   TreeSHAP explanation costs more) is rolled back by the gates, which name the gate and the
   numbers.

The demo first trains a LightGBM challenger like the champion and points ``challenger`` at it
(the canary's score gates compare two models of one family). Every wait is bounded and every
client request is counted: none may fail.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from cairn.app.identity import current_user
from cairn.app.project import Project
from cairn.app.serve_process import free_port, start_server, stop_server, wait_ready
from cairn.auth.principal import Principal
from cairn.core.errors import CairnError
from cairn.experiments.stats import srm
from cairn.quickstart._steps import Steps
from cairn.quickstart._team import DemoTeam, demo_team
from cairn.quickstart._traffic import Traffic, applied, customers
from cairn.quickstart.training_demo import CONFIG_FILE, MODEL_NAME
from cairn.rollouts.controller import CanaryController, ControllerStep
from cairn.serving.log_reader import PredictionLog
from cairn.training import ModelSpec, TrainConfig, build_training_set, train

DEPLOYMENT = "credit"
CHALLENGER_TICKET = "MRR-2026-0002"
CHALLENGER = ModelSpec(
    kind="lightgbm",
    num_boost_round=200,
    threads=1,
    params={"learning_rate": 0.04, "num_leaves": 15, "min_data_in_leaf": 30, "seed": 11},
)
SLOW = ModelSpec(
    kind="lightgbm",
    num_boost_round=1500,
    threads=1,
    params={"learning_rate": 0.02, "num_leaves": 63, "min_data_in_leaf": 5},
)
GATE = {"min_samples": 40, "interval_s": 0.5, "n_star": 400.0, "max_score_psi": 10.0}
"""The demo's canary gate. The example data has no transactions in the 30 days before the demo
runs, so every request is served with the four 30-day transaction features missing, where two
models trained apart extrapolate differently: the challenger's score PSI against the champion
on this traffic is 0.8 to 2.9 from run to run, seen in the A/B step and approved by the officer.
The demo opens the score gate (10) to walk the canary to promotion, and prints the PSI; the
default (0.2) would rightly hold such a canary for review."""
SLOW_GATE = {**GATE, "max_score_psi": 100.0, "decision_rate_margin": 0.99, "patience": 25.0}
"""The slow candidate's canary shows the latency gates. Its 1,500 deep trees also score unlike the
champion, which the score and decision-rate gates would hold for review at their first look, on
a busy machine before the latency harm is credible; this step opens those two gates wide. On a
machine busy with other work, latencies are noisy enough that the harm can take more than the
default 4 x 40 rows per arm to become credible (seen once: canary p99 14.6 ms vs control 5.3 ms
after 174 rows, waived as noise); ``patience`` 25 lets the gate collect up to 1,000 rows per arm
before it calls a breach noise (on a quiet machine it rolls back after 50-75 rows)."""
SERVER_ENV = {"CAIRN_ROLLOUT_POLL_SECONDS": "0.2", "CAIRN_MODEL_POLL_SECONDS": "1"}
SETTLE_S = 1.0
"""Rows of a stage's first second are not judged (the server polls every 0.2 s)."""


@dataclass
class RolloutDemo:
    """What the rollout demo did, for printing."""

    challenger: str
    slow: str
    shadow_rows: int = 0
    shadow_ids: int = 0
    shadow_sample: list[tuple[str, str, float, float]] = field(default_factory=list)
    ab_seed: str = ""
    """The A/B test's assignment seed (``cairn experiment analyze credit --seed ...``)."""
    ab_counts: dict[str, int] = field(default_factory=dict)
    ab_weights: dict[str, float] = field(default_factory=dict)
    ab_srm_p: float = 1.0
    ab_labeled: int = 0
    canary_steps: list[ControllerStep] = field(default_factory=list)
    champion: str = ""
    broken_steps: list[ControllerStep] = field(default_factory=list)
    requests: int = 0
    failed: int = 0
    outcomes: int = 0
    audit_entries: int = 0
    audit_ok: bool = False
    seconds: float = 0.0
    steps: list[tuple[str, float]] = field(default_factory=list)

    @property
    def rollback(self) -> ControllerStep | None:
        """The controller step that rolled the broken canary back."""
        return next((s for s in self.broken_steps if s.decision.action == "rollback"), None)


def run_rollout_demo(
    project_path: str | Path,
    *,
    team: DemoTeam | None = None,
    on_step: Callable[[str], None] | None = None,
) -> RolloutDemo:
    """Shadow, A/B, canary to promotion and a rolled-back broken canary (module docstring).

    ``team``: the tokens' principals of the training demo (None: create them, which needs a
    project without API tokens)."""
    began = time.perf_counter()
    root = Path(project_path).resolve()
    steps: list[tuple[str, float]] = []

    step = Steps(on_step, steps)

    project = Project.open(root)
    service = project.rollouts
    registry = service.registry
    team = team or demo_team(project, current_user())
    with step("train: LightGBM challenger and a slow candidate"):
        challenger, slow = _train_candidates(project, team.author, registry.audit)
        registry.promote(
            MODEL_NAME,
            challenger,
            alias="challenger",
            principal=team.author,
            reason="rollout demo: a servable LightGBM challenger",
        )
    demo = RolloutDemo(challenger=f"{MODEL_NAME}/{challenger}", slow=f"{MODEL_NAME}/{slow}")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(root, port, env=SERVER_ENV)
    stop = threading.Event()
    controller = CanaryController(service, project.predictions, settle_s=SETTLE_S)
    decisions: list[ControllerStep] = []
    watcher = threading.Thread(
        target=controller.run,
        args=(stop,),
        kwargs={"interval": GATE["interval_s"], "on_steps": decisions.extend},
        name="cairn-demo-controller",
        daemon=True,
    )
    try:
        with step("serve: cairn serve + canary controller"):
            wait_ready(url, proc)
            watcher.start()
        traffic = Traffic(url, customers(root))

        def state() -> tuple[str, str]:
            spec = service.current(DEPLOYMENT)
            return spec.strategy, spec.state

        with step("shadow: the challenger scores beside the champion"):
            shadowed = service.create(
                DEPLOYMENT,
                {"strategy": "single", "shadows": [demo.challenger]},
                reason="rollout demo: shadow the challenger",
                principal=team.author,
            )
            applied(url, shadowed.spec.version)
            traffic.send(100)
        with step("A/B: champion vs challenger 50/50, sticky by customer"):
            arms = [
                {"name": "champion", "model": f"{MODEL_NAME}@champion", "weight": 0.5},
                {"name": "challenger", "model": demo.challenger, "weight": 0.5},
            ]
            ab = service.create(
                DEPLOYMENT,
                {"strategy": "ab", "arms": arms},
                reason="rollout demo: A/B test",
                principal=team.author,
            ).spec
            demo.ab_weights, demo.ab_seed = ab.weights(), ab.seed
            applied(url, ab.version)
            traffic.send(400)
        with step("canary: the approved challenger, 10 -> 50 % -> promoted"):
            registry.approve(
                MODEL_NAME,
                challenger,
                principal=team.officer,
                ticket=CHALLENGER_TICKET,
                decision="approve",
                note="Rollout demo: the A/B and shadow results reviewed.",
            )
            start = len(decisions)
            canary = service.create(
                DEPLOYMENT,
                {
                    "strategy": "canary",
                    "candidate": demo.challenger,
                    "stages": [10, 50, 100],
                    "gate": GATE,
                },
                replace=True,
                reason=f"{CHALLENGER_TICKET}: canary of the approved challenger",
                principal=team.author,
            )
            applied(url, canary.spec.version)
            traffic.until(lambda: state()[0] != "canary" or state()[1] != "active")
            demo.canary_steps = _changes(decisions, start, "promote")
            if state() != ("single", "active"):
                said = [d.decision.reason for d in decisions[start:] if d.update is not None]
                raise CairnError(
                    f"The challenger's canary ended {state()}, not promoted: "
                    f"{said[-1] if said else 'no gate decision'}."
                )
            demo.champion = service.status(DEPLOYMENT)["arms"][0]["version"]
        with step("broken canary: a slow version, rolled back by the gates"):
            start = len(decisions)
            broken = service.create(
                DEPLOYMENT,
                {"strategy": "canary", "candidate": demo.slow, "stages": [10, 50, 100],
                 "gate": SLOW_GATE},
                reason="rollout demo: a deliberately slow candidate",
                principal=team.author,
            )  # fmt: skip
            applied(url, broken.spec.version)
            traffic.until(lambda: state()[1] != "active")
            demo.broken_steps = _changes(decisions, start, "rollback")
            if state()[1] != "rolled_back":
                said = [d.decision.reason for d in decisions[start:] if d.update is not None]
                raise CairnError(
                    f"The slow canary ended {state()}, not rolled back: "
                    f"{said[-1] if said else 'no gate decision'}."
                )
            traffic.send(50)  # served by the control again
        with step("outcomes: the applications' labels for every answer"):
            demo.outcomes = _post_outcomes(root, traffic)
    finally:
        stop.set()
        stop_server(proc)
        watcher.join(timeout=5)
    demo.requests = len(traffic.answered) + traffic.failed
    demo.failed = traffic.failed
    _read_log(project.predictions, demo, ab.seed)
    verification = registry.audit.verify()
    demo.audit_ok, demo.audit_entries = verification.ok, verification.entries
    demo.steps = steps
    demo.seconds = time.perf_counter() - began
    return demo


def _train_candidates(project: Project, author: Principal, audit: Any) -> tuple[str, str]:
    """A LightGBM challenger like the champion, and a slow one (1,500 trees of 63 leaves; its
    SHAP importance on 10 rows only, since explaining it is what makes it slow)."""
    store, tracker = project.features, project.tracker
    config = TrainConfig.from_yaml(project.root / CONFIG_FILE)
    data = build_training_set(config, store)
    out = []
    for spec, role, sample in ((CHALLENGER, "challenger", 200), (SLOW, "slow-candidate", 10)):
        tags = {**config.tags, "cairn.role": role}
        job = replace(config, model=spec, importance_sample=sample, tags=tags)
        result = train(
            job,
            store,
            tracker,
            author=author.name,
            author_via=author.via,
            audit=audit,
            training_set=data,
        )
        assert result.version is not None
        out.append(result.version)
    return out[0], out[1]


def _changes(decisions: list[ControllerStep], start: int, last: str) -> list[ControllerStep]:
    """The controller's changes from ``start`` on, once the one ending in ``last`` is reported
    (the store shows a change a moment before the controller's callback reports it)."""
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        changes = [d for d in decisions[start:] if d.update is not None]
        if any(d.decision.action == last for d in changes):
            return changes
        time.sleep(0.05)
    return [d for d in decisions[start:] if d.update is not None]


def _post_outcomes(root: Path, traffic: Traffic) -> int:
    """Post each answered prediction's label: whether that applicant defaulted."""
    with duckdb.connect() as con:
        labels = dict(
            con.execute(
                "SELECT customer_id, arg_max(defaulted, event_timestamp) FROM read_parquet(?) "
                "GROUP BY customer_id",
                [str(root / "data" / "applications.parquet")],
            ).fetchall()
        )
    rows = [
        {"prediction_id": a["prediction_id"], "label": int(labels[a["customer_id"]])}
        for a in traffic.answered
        if a["customer_id"] in labels
    ]
    accepted = 0
    for i in range(0, len(rows), 500):
        r = traffic.client.post("/v1/outcomes", json={"outcomes": rows[i : i + 500]})
        r.raise_for_status()
        accepted += int(r.json()["accepted"])
    return accepted


def _read_log(log: PredictionLog, demo: RolloutDemo, ab_seed: str) -> None:
    """Shadow rows under the primaries' ids, and the A/B arms' counts, from the log."""
    with log.connect() as con:
        demo.shadow_rows, demo.shadow_ids = con.execute(
            "SELECT count(*), count(DISTINCT prediction_id) FROM predictions "
            "WHERE coalesce(shadow, false) AND prediction_id IN "
            "(SELECT prediction_id FROM predictions WHERE NOT coalesce(shadow, false))"
        ).fetchone() or (0, 0)
        demo.shadow_sample = [
            (str(r[0])[:12], str(r[1]), float(r[2]), float(r[3]))
            for r in con.execute(
                "SELECT p.prediction_id, s.arm, p.score, s.score FROM predictions p "
                "JOIN predictions s ON s.prediction_id = p.prediction_id AND s.shadow "
                "WHERE NOT coalesce(p.shadow, false) ORDER BY p.time LIMIT 3"
            ).fetchall()
        ]
        counts = con.execute(
            "SELECT p.arm, count(*), count(o.label) FROM predictions p "
            "LEFT JOIN outcomes o USING (prediction_id) WHERE p.strategy = 'ab' AND p.seed = ? "
            "AND NOT coalesce(p.shadow, false) GROUP BY p.arm ORDER BY p.arm",
            [ab_seed],
        ).fetchall()
    demo.ab_counts = {str(arm): int(n) for arm, n, _ in counts}
    demo.ab_labeled = sum(int(labeled) for _, _, labeled in counts)
    names = list(demo.ab_weights)
    if all(n in demo.ab_counts for n in names):
        demo.ab_srm_p = srm(
            [demo.ab_counts[n] for n in names], [demo.ab_weights[n] for n in names]
        ).p_value
