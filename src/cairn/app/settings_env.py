"""What the server takes from the project's typed ``serving`` settings: the prediction log's
durability, the admin tokens, the poll periods, the shadow queue and the request limits."""

from __future__ import annotations

from dataclasses import dataclass

from cairn.core.config import Settings
from cairn.serving.admin import AdminTokens
from cairn.serving.prediction_log import Durability
from cairn.serving.request import ServingLimits


@dataclass(frozen=True)
class ServerOptions:
    """The server's options, typed and checked (see ``cairn.core.config.ServingSettings``)."""

    durability: Durability
    admin_tokens: AdminTokens
    model_poll_seconds: float
    rollout_poll_seconds: float
    shadow_queue: int
    limits: ServingLimits


def server_options(settings: Settings) -> ServerOptions:
    """The server options of ``settings`` (a malformed token list is one ConfigError line).

    Example
    -------
    >>> server_options(Settings.from_mapping({"project": "demo"}, env={})).shadow_queue
    10000
    """
    s = settings.serving
    return ServerOptions(
        durability=s.durability,
        admin_tokens=AdminTokens.parse(
            s.admin_tokens.get_secret_value() if s.admin_tokens else None,
            admin_token=s.admin_token.get_secret_value() if s.admin_token else None,
        ),
        model_poll_seconds=s.model_poll_seconds,
        rollout_poll_seconds=s.rollout_poll_seconds,
        shadow_queue=s.shadow_queue,
        limits=ServingLimits(
            max_entities=s.max_entities,
            max_features=s.max_features,
            max_body_bytes=s.max_body_bytes,
        ),
    )
