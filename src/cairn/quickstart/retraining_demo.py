"""The retraining step of the quickstart: the drifted month retrains the model, the candidate
passes its gates, becomes a shadow challenger and waits for a second person's approval.

On a project where the earlier steps ran (a champion serving the ``credit`` deployment, and
monitoring's drifted month in its history), this writes the example's ``retraining.yaml``
(policy ``credit-drift``) and runs the retraining controller as the author's token would
(``cairn retrain watch --once``):

1. the drifted month's signals (four inputs and the score) fire the drift trigger: the decision
   is recorded in the ledger with its numbers; the monthly schedule's slot, due in the same
   evaluation, is recorded as skipped (one run at a time);
2. the candidate trains on the policy's data window through the training path, passes its
   gates on the common out-of-time window (quality suite, AUC floor, at most 0.03 AUC below
   the champion, calibration, the four-fifths rule across marital groups), becomes
   ``credit-default@challenger`` and shadows the deployment;
3. ``cairn serve`` answers predictions while the candidate scores the same requests in shadow;
   once it made the policy's 100 shadow predictions, the next evaluation proposes a canary and
   the run waits for a second person's approval (``cairn models approve``);
4. ``cairn retrain backtest`` replays the policy over the example's last year of applications
   on a simulated clock, beside never retraining and a fixed schedule.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cairn.app.project import Project
from cairn.app.serve_process import free_port, start_server, stop_server, wait_ready
from cairn.core.errors import CairnError
from cairn.quickstart._team import DemoTeam
from cairn.quickstart._traffic import Traffic, applied, customers
from cairn.quickstart.example.retraining import POLICY, write_example_retraining
from cairn.retraining.backtest_report import BacktestReport
from cairn.retraining.controller import RetrainController, RetrainStep
from cairn.retraining.entry import LedgerEntry
from cairn.retraining.promotion import shadow_progress

SERVER_ENV = {"CAIRN_ROLLOUT_POLL_SECONDS": "0.2", "CAIRN_MODEL_POLL_SECONDS": "1"}
WAIT_S = 60.0
BACKTEST = ("2025-07-01", "2026-07-01")
"""The backtest's range: the last year of the example's applications."""


@dataclass
class RetrainingDemo:
    """What the retraining step did, for printing."""

    policy: str
    steps: list[RetrainStep] = field(default_factory=list)
    entry: LedgerEntry | None = None
    """The drift run's ledger entry, as the step left it."""
    requests: int = 0
    failed: int = 0
    backtest: BacktestReport | None = None
    seconds: float = 0.0


def run_retraining_demo(project_path: str | Path, *, team: DemoTeam) -> RetrainingDemo:
    """Retrain on the drifted month, gate, shadow, propose (see the module)."""
    began = time.perf_counter()
    root = Path(project_path).resolve()
    write_example_retraining(root)
    project = Project.open(root)
    controller = RetrainController(project, principal=team.author)
    demo = RetrainingDemo(POLICY)
    demo.steps = controller.run_once()
    entry = _drift_run(controller)
    if entry.state != "shadow":
        raise CairnError(
            f"The drifted month's retraining ended in state {entry.state}, not shadow: "
            f"{entry.reason}"
        )
    ref = str(entry.numbers["candidate"])
    since = int(entry.numbers["shadow_since"])
    needed = controller.policies()[POLICY].promotion.shadow.min_predictions
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(root, port, env=SERVER_ENV)
    try:
        wait_ready(url, proc)
        applied(url, int(entry.numbers["shadow_rollout"]))
        traffic = Traffic(url, customers(root))

        def shadowed() -> bool:
            now = controller.clock()
            progress = shadow_progress(project, "credit", ref, since=since, now=now)
            return progress.predictions >= needed

        traffic.until(shadowed, batch=50, timeout=WAIT_S)
        demo.requests, demo.failed = len(traffic.answered) + traffic.failed, traffic.failed
    finally:
        stop_server(proc)
    demo.steps += controller.run_once()
    demo.entry = _drift_run(controller)
    if demo.entry.state != "canary_proposed":
        raise CairnError(
            f"The candidate's shadow ended in state {demo.entry.state}, not canary_proposed: "
            f"{demo.entry.reason}"
        )
    from cairn.retraining.backtest import backtest

    start, end = (datetime.fromisoformat(d).replace(tzinfo=UTC) for d in BACKTEST)
    demo.backtest = backtest(project, POLICY, start=start, end=end)
    demo.seconds = time.perf_counter() - began
    return demo


def _drift_run(controller: RetrainController) -> LedgerEntry:
    runs = [e for e in controller.ledger.entries(POLICY) if e.trigger == "drift" and e.runs]
    if not runs:
        raise CairnError(
            f"The drifted month did not start a retraining of {POLICY}: "
            + "; ".join(e.reason for e in controller.ledger.entries(POLICY))
        )
    return runs[-1]
