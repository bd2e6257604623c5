"""Settings -> a concrete online store (the only place that knows every backend)."""

from __future__ import annotations

from pathlib import Path

from cairn.core.config import OnlineSettings
from cairn.core.errors import ConfigError
from cairn.core.online import OnlineStore


def open_online_store(settings: OnlineSettings, root: Path) -> OnlineStore:
    """The online store named by ``online.url``: ``sqlite:///...`` or ``redis://...``."""
    url = settings.url
    if url.startswith("sqlite:///"):
        from cairn.online.backends.sqlite import SqliteOnlineStore

        path = Path(url[len("sqlite:///") :])
        return SqliteOnlineStore(
            path if path.is_absolute() or str(path) == ":memory:" else root / path
        )
    if url.startswith(("redis://", "rediss://", "unix://")):
        from cairn.online.backends.redis import RedisOnlineStore

        return RedisOnlineStore(url, timeout_ms=settings.timeout_ms)
    raise ConfigError(
        f"online.url must be 'sqlite:///path/online.db' or 'redis://host:port/db'; got {url!r}."
    )
