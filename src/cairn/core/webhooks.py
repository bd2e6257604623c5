"""Webhooks: one JSON POST, with a bounded timeout and no retries, that never raises.

Monitoring alerts and retraining notifications both POST a JSON body to a URL a setting names
(Slack, Teams, Mattermost, or any HTTP receiver), with the standard library only
(``urllib``). Delivery is best effort: a receiver that is down, slow or answers an error is
logged (on the caller's logger) and reported in the :class:`WebhookResult`, never raised, so
the work that triggered the call is never undone by it. Webhook paths often carry a secret:
the URL is logged as its origin only (:func:`cairn.core.urls.redact_url`).

Example
-------
>>> check_webhook_url(" https://hooks.example.com/T000/B000 ", setting="retraining.webhook_url")
'https://hooks.example.com/T000/B000'
>>> check_webhook_url("ftp://x", setting="retraining.webhook_url")
Traceback (most recent call last):
...
cairn.core.errors.ConfigError: retraining.webhook_url must be an http:// or https:// URL; got 'ftp://x'.
>>> post_json("http://127.0.0.1:1/hook", {"text": "hello"}, timeout=1.0).delivered
False
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from cairn.core.errors import ConfigError
from cairn.core.urls import redact_url

__all__ = ["WebhookResult", "check_webhook_url", "is_webhook_url", "post_json"]

URL_TEXT = "an http:// or https:// URL"
"""What a webhook URL must be, as error messages say it."""

_logger = logging.getLogger("cairn.webhooks")
_logger.addHandler(logging.NullHandler())  # a library: the application decides where logs go


@dataclass(frozen=True)
class WebhookResult:
    """What one POST did.

    Parameters
    ----------
    delivered:
        Whether the receiver answered with a success status (2xx).
    status:
        The HTTP status it answered (None: no answer, e.g. refused or timed out).
    error:
        Why it was not delivered (None when it was).
    """

    delivered: bool
    status: int | None = None
    error: str | None = None


def is_webhook_url(url: str) -> bool:
    """Whether ``url`` is an http(s) URL with a host (surrounding blanks ignored).

    Example
    -------
    >>> is_webhook_url("https://hooks.example.com/x"), is_webhook_url("hooks.example.com/x")
    (True, False)
    """
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def check_webhook_url(url: str, *, setting: str) -> str:
    """``url`` without surrounding blanks when it is an http(s) URL with a host, else a
    :class:`~cairn.core.errors.ConfigError` naming ``setting`` (the key it came from); a
    password in the URL is not shown."""
    if not is_webhook_url(url):
        raise ConfigError(f"{setting} must be {URL_TEXT}; got {redact_url(url)!r}.")
    return url.strip()


def post_json(
    url: str,
    body: Mapping[str, Any],
    *,
    timeout: float,
    logger: logging.Logger | None = None,
    user_agent: str = "cairn",
    what: str = "webhook",
    item: str = "body",
) -> WebhookResult:
    """POST ``body`` as JSON to ``url``, once, waiting at most ``timeout`` seconds.

    Never raises: a value JSON cannot hold is written as its ``str``; an error answer, a
    refused connection, a timeout or an invalid URL is logged as a warning on ``logger``
    (default ``cairn.webhooks``) — ``"{what} {origin} answered 500; {item} not delivered"``
    — and returned as ``delivered=False`` with the reason.

    Parameters
    ----------
    url:
        The receiver (only its origin is ever logged).
    body:
        A JSON-ready mapping.
    timeout:
        Seconds the connection and the answer may take, each.
    logger:
        Where delivery failures are logged.
    user_agent:
        The ``User-Agent`` header.
    what, item:
        How the log lines name the receiver and the body.
    """
    log = logger or _logger
    target = redact_url(url, origin_only=True)  # webhook paths carry secrets
    try:
        data = json.dumps(dict(body), default=str).encode()
        request = urllib.request.Request(
            url,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": user_agent},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        log.warning("%s %s answered %s; %s not delivered", what, target, exc.code, item)
        return WebhookResult(False, exc.code, f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError, ValueError, TypeError) as exc:
        reason = getattr(exc, "reason", exc)
        log.warning("%s %s failed: %s; %s not delivered", what, target, reason, item)
        return WebhookResult(False, None, str(reason))
    if not 200 <= status < 300:  # urllib raises for 4xx/5xx; a 1xx/3xx left unfollowed
        log.warning("%s %s answered %s; %s not delivered", what, target, status, item)
        return WebhookResult(False, status, f"HTTP {status}")
    return WebhookResult(True, status)
