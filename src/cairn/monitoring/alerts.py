"""Alerts: band changes are logged, and POSTed as JSON to a webhook when one is configured.

One POST per run that changed something (:func:`cairn.core.webhooks.post_json`: the standard
library only, a bounded timeout and no retries): a webhook that is down, slow or answers an
error is logged (``cairn.monitoring`` logger) and never fails the run, whose results are
already stored. The body carries a ``text`` line too, so chat webhooks (Slack, Teams,
Mattermost) show something readable without a translation layer.

Example
-------
>>> check_webhook_url("https://hooks.example.com/T000/B000")
'https://hooks.example.com/T000/B000'
>>> check_webhook_url("ftp://x")
Traceback (most recent call last):
...
cairn.core.errors.ConfigError: monitoring.webhook_url must be an http:// or https:// URL; got 'ftp://x'.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cairn.core import webhooks
from cairn.monitoring.history import BandChange
from cairn.monitoring.runs import MonitorRun

logger = logging.getLogger("cairn.monitoring")
logger.addHandler(logging.NullHandler())  # a library: the application decides where logs go


@dataclass(frozen=True)
class AlertOutcome:
    """What alerting did: how many changes, and whether the webhook took them.

    ``delivered`` is None when no webhook was called (none configured, or nothing changed).
    """

    changes: int
    delivered: bool | None = None
    status: int | None = None
    error: str | None = None


def check_webhook_url(url: str) -> str:
    """``url`` when it is an http(s) URL with a host, else a :class:`ConfigError` naming
    ``monitoring.webhook_url``."""
    return webhooks.check_webhook_url(url, setting="monitoring.webhook_url")


def alert_payload(run: MonitorRun, changes: Sequence[BandChange]) -> dict[str, Any]:
    """The JSON body of one run's alert."""
    worse = [c for c in changes if c.worse]
    head = (
        f"Cairn monitoring: {run.deployment} ({run.model_name} v{run.model_version}): "
        f"{len(worse)} worse, {len(changes) - len(worse)} better"
    )
    return {
        "text": head + "\n" + "\n".join(c.describe() for c in changes),
        "deployment": run.deployment,
        "model": {"name": run.model_name, "version": run.model_version},
        "run_id": run.run_id,
        "window": {
            "start": run.window.start,
            "end": run.window.end,
            "as_of": run.window.as_of,
            "anchor": run.window.anchor,
            "description": run.window.describe(),
        },
        "rows": run.rows,
        "changes": [c.to_dict() for c in changes],
        "signals": [s.to_dict() for s in run.signals],
    }


def send_alerts(
    run: MonitorRun,
    changes: Sequence[BandChange],
    *,
    webhook_url: str | None = None,
    timeout_s: float = 5.0,
) -> AlertOutcome:
    """Log every change (worse ones as warnings) and POST them to ``webhook_url``, if set.

    Never raises for a delivery problem: the outcome (and the log) says what happened.
    """
    for change in changes:
        level = logging.WARNING if change.worse else logging.INFO
        logger.log(level, "monitoring band change: %s", change.describe())
    if not changes or not webhook_url:
        return AlertOutcome(len(changes))
    result = webhooks.post_json(
        webhook_url,
        alert_payload(run, changes),
        timeout=timeout_s,
        logger=logger,
        user_agent="cairn-monitoring",
        what="monitoring webhook",
        item="alert",
    )
    return AlertOutcome(len(changes), result.delivered, result.status, result.error)
