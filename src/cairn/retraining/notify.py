"""Retraining notifications: every decision and every step of a run, POSTed as JSON.

When ``retraining.webhook_url`` is set, the controller announces each ledger event — a
decision (``decided`` or ``skipped``) and each step its run takes (``training``, ``trained``,
``gated`` or ``refused``, ``challenger``, ``shadow``, ``canary_proposed``, ``approved`` or
``rejected``, ``failed``) — with one POST (:func:`cairn.core.webhooks.post_json`: bounded by
``retraining.webhook_timeout_s``, no retries). A webhook that is down is logged on the
``cairn.retraining`` logger and never stops the run: the ledger, not the webhook, is the
record. The body carries a ``text`` line, so chat webhooks (Slack, Teams, Mattermost) show
something readable as is.

Example
-------
>>> from cairn.retraining.entry import LedgerEntry
>>> entry = LedgerEntry(3, "credit-drift", "drift", "2026-12-07T00:00:00Z", "run", "gated",
...                     "all 5 gates passed on 600 test rows", 1_796_601_600_000_000)
>>> body = notify_payload(entry, event="gated", project="credit")
>>> body["text"]
'Cairn retraining: credit-drift #3 drift [2026-12-07T00:00:00Z] -> gated: all 5 gates passed on 600 test rows'
>>> body["entry_id"], body["decided_at"]
(3, '2026-12-07T00:00:00+00:00')
>>> Notifier(None).send(entry, event="gated", project="credit") is None  # no webhook set
True
"""  # noqa: E501

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from cairn.core.settings.sections import RetrainingSettings
from cairn.core.timeutil import from_micros
from cairn.core.webhooks import WebhookResult, check_webhook_url, post_json
from cairn.retraining.entry import STATES, LedgerEntry

__all__ = ["EVENTS", "Notifier", "notify_payload"]

EVENTS: tuple[str, ...] = STATES
"""What a notification announces: a decision (``decided``, ``skipped``) or the state its run
moved to."""

logger = logging.getLogger("cairn.retraining")
logger.addHandler(logging.NullHandler())  # a library: the application decides where logs go


def notify_payload(
    entry: LedgerEntry,
    *,
    event: str,
    project: str,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body announcing ``event`` of ledger ``entry`` in ``project``.

    Parameters
    ----------
    entry:
        The ledger entry as the event left it (its state, reason and numbers).
    event:
        One of :data:`EVENTS`: the decision, or the step the run took.
    project:
        The project's name.
    detail:
        More JSON-ready facts of this step (a gate's verdicts, an error, a canary share).

    Raises
    ------
    ValueError
        When ``event`` is not one of :data:`EVENTS`.
    """
    if event not in EVENTS:
        raise ValueError(f"Unknown retraining event {event!r}; the events are {EVENTS}.")
    head = f"Cairn retraining: {entry.policy} #{entry.id} {entry.trigger} [{entry.window}]"
    return {
        "text": f"{head} -> {event}: {entry.reason}",
        "event": event,
        "project": project,
        "policy": entry.policy,
        "entry_id": entry.id,
        "trigger": entry.trigger,
        "window": entry.window,
        "action": entry.action,
        "state": entry.state,
        "reason": entry.reason,
        "decided_at": from_micros(entry.decided_at).isoformat(),
        "training_run_id": entry.training_run_id,
        "numbers": dict(entry.numbers),
        "detail": dict(detail or {}),
    }


class Notifier:
    """Announces ledger events to the retraining webhook.

    Parameters
    ----------
    url:
        The webhook (None or empty: nothing is sent).
    timeout_s:
        Time limit of one call, in seconds.

    Raises
    ------
    ConfigError
        When ``url`` is not an http(s) URL (the message names ``retraining.webhook_url``).
    """

    def __init__(self, url: str | None, *, timeout_s: float = 5.0) -> None:
        self.url = check_webhook_url(url, setting="retraining.webhook_url") if url else None
        self.timeout_s = timeout_s

    @classmethod
    def from_settings(cls, settings: RetrainingSettings) -> Notifier:
        """The notifier of the ``retraining`` settings (``webhook_url``, ``webhook_timeout_s``).

        Example
        -------
        >>> n = Notifier.from_settings(RetrainingSettings(webhook_url="https://hooks.example/x"))
        >>> n.url, n.timeout_s
        ('https://hooks.example/x', 5.0)
        """
        return cls(settings.webhook_url, timeout_s=settings.webhook_timeout_s)

    def send(
        self,
        entry: LedgerEntry,
        *,
        event: str,
        project: str,
        detail: Mapping[str, Any] | None = None,
    ) -> WebhookResult | None:
        """POST :func:`notify_payload` to the webhook; None when no webhook is set.

        Never raises: a delivery failure (or a body that cannot be built) is logged and
        returned as ``delivered=False`` with its reason.
        """
        if self.url is None:
            return None
        try:
            body = notify_payload(entry, event=event, project=project, detail=detail)
        except Exception as exc:  # a notification must never stop the run it announces
            logger.exception("retraining notification of ledger entry #%s not built", entry.id)
            return WebhookResult(False, None, str(exc))
        return post_json(
            self.url,
            body,
            timeout=self.timeout_s,
            logger=logger,
            user_agent="cairn-retraining",
            what="retraining webhook",
            item="notification",
        )
