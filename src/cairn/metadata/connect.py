"""Connection options of a PostgreSQL metadata database: TCP keepalives.

A process holding a singleton lock (:mod:`cairn.metadata.singleton`) must learn soon that its
connection is gone, and the server must see a vanished client soon so that a standby elsewhere
can take the lock: libpq's keepalives (probe after 10 s idle, every 5 s, dead after 3 misses)
and a 30 s limit on unacknowledged data (a query sent into a cut network fails instead of
hanging). A URL that sets one of these keeps its own value.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

__all__ = ["KEEPALIVES", "connect_args"]

KEEPALIVES: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}
"""libpq options every PostgreSQL metadata connection gets, unless its URL sets them."""

_LIBPQ_DRIVERS = {"psycopg", "psycopg2"}


def connect_args(url: str) -> dict[str, Any]:
    """The ``connect_args`` of an engine for ``url``: :data:`KEEPALIVES` for PostgreSQL over
    libpq (less those the URL's query sets), nothing otherwise.

    Example
    -------
    >>> connect_args("postgresql+psycopg://u@db/cairn?keepalives_idle=30")["keepalives_idle"]
    Traceback (most recent call last):
    ...
    KeyError: 'keepalives_idle'
    >>> connect_args("sqlite:///m.db")
    {}
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return {}
    if parsed.get_driver_name() not in _LIBPQ_DRIVERS:
        return {}
    return {k: v for k, v in KEEPALIVES.items() if k not in parsed.query}
