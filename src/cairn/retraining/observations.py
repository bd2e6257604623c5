"""Monitoring history as the decision engine reads it: one :class:`Observation` per stored run.

A run with results becomes an observation at the end of its window, with the signals it raised
and, when its performance was judged, its labeled rows and each metric's drop from the
training baseline. Runs of a deployment's other models (a canary's challenger) are left out
when ``model`` names the one the policy retrains.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cairn.monitoring.history import MonitorHistory
from cairn.monitoring.runs import MonitorRun
from cairn.retraining.inputs import Observation

__all__ = ["observation_of", "observations", "served_model"]


def observation_of(run: MonitorRun) -> Observation:
    """The observation of one stored run (its ``run_id`` is set).

    Example
    -------
    >>> from datetime import UTC, datetime
    >>> from cairn.monitoring.window import Window
    >>> run = MonitorRun("credit", "m", "1", Window("credit", 0, 10, 10, "as_of"), "ok", "", 5,
    ...                  [], None, [], datetime.now(UTC), 0.1, run_id=3)
    >>> o = observation_of(run)
    >>> (o.run_id, o.deployment, o.at, o.labeled, dict(o.drops))
    (3, 'credit', 10, 0, {})
    """
    perf = run.performance
    judged = perf is not None and perf.status == "judged"
    return Observation(
        run_id=run.run_id or 0,
        deployment=run.deployment,
        at=run.window.end,
        signals=tuple(run.signals),
        labeled=perf.labeled if judged and perf is not None else 0,
        drops=dict(perf.drops) if judged and perf is not None else {},
    )


def observations(
    history: MonitorHistory, deployment: str, *, model: str | None = None, limit: int = 200
) -> list[Observation]:
    """The deployment's last ``limit`` runs with results as observations, by window end (of
    the model ``model`` only, when given)."""
    runs = [r for r in history.series(deployment, limit=limit) if model in (None, r.model_name)]
    return sorted((observation_of(r) for r in runs), key=lambda o: (o.at, o.run_id))


def served_model(deployments: Mapping[str, Any], deployment: str) -> str | None:
    """The registered model the deployment serves (``credit-default`` of
    ``credit-default@champion``); None for an unknown deployment: its runs are all read.

    Example
    -------
    >>> from types import SimpleNamespace
    >>> served_model({"credit": SimpleNamespace(model="credit-default@champion")}, "credit")
    'credit-default'
    """
    found = deployments.get(deployment)
    return None if found is None else re.split("[@/]", found.model)[0]
