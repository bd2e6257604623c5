"""Where the real test servers are.

`make test` (scripts/test.sh) starts Redis, PostgreSQL and a Kafka-protocol broker (Tansu)
on 127.0.0.1 with scripts/services.sh and exports their URLs; a developer can point the tests
at other servers by setting the same variables. A conftest uses these helpers to decide whether
server-backed tests can run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POSTGRES_URL_ENV = "CAIRN_TEST_POSTGRES_URL"
REDIS_URL_ENV = "CAIRN_TEST_REDIS_URL"
KAFKA_URL_ENV = "CAIRN_TEST_KAFKA_URL"


def _env_url(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def postgres_url() -> str | None:
    """SQLAlchemy URL of the test PostgreSQL (``postgresql+psycopg://...``), or None."""
    return _env_url(POSTGRES_URL_ENV)


def redis_url() -> str | None:
    """URL of the test Redis (``redis://127.0.0.1:PORT/0``), or None."""
    return _env_url(REDIS_URL_ENV)


def kafka_url() -> str | None:
    """Bootstrap servers of the test Kafka-protocol broker (``127.0.0.1:PORT``), or None."""
    return _env_url(KAFKA_URL_ENV)


def _required(url: str | None, server: str, variable: str) -> str:
    import pytest

    if url is None:
        if os.environ.get("CI"):
            pytest.fail(
                f"CI must run the {server} tests: {variable} is not set "
                "(run them with `make test`, which starts a server)."
            )
        pytest.skip(f"no {server}: set {variable} or run `make test`")
    return url


def postgres_url_or_skip() -> str:
    """The test PostgreSQL URL; skips without one, but fails under CI, which must run these."""
    return _required(postgres_url(), "PostgreSQL", POSTGRES_URL_ENV)


def redis_url_or_skip() -> str:
    """The test Redis URL; skips without one, but fails under CI, which must run these."""
    return _required(redis_url(), "Redis", REDIS_URL_ENV)


def kafka_url_or_skip() -> str:
    """The test Kafka bootstrap servers; skips without them, but fails under CI."""
    return _required(kafka_url(), "Kafka", KAFKA_URL_ENV)


@contextmanager
def postgres_database(prefix: str = "t") -> Iterator[str]:
    """A new empty database on the test PostgreSQL (skips without one): yields its URL and
    drops it at the end (``WITH (FORCE)``: connections a killed process left are cut)."""
    import sqlalchemy as sa

    base = sa.make_url(postgres_url_or_skip())
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        try:
            yield base.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@contextmanager
def own_redis(folder: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A ``redis-server`` of the test's own on a free loopback port, for what must not touch
    the shared test server (``SCRIPT FLUSH`` is server-wide: another test's scripts would go
    too; stopping it): yields its process and URL, and stops it. Skips when ``redis-server`` is
    not installed, but fails under CI (``scripts/services.sh`` installs it)."""
    import redis

    from cairn.testing.servers import free_port

    binary = _required(shutil.which("redis-server"), "redis-server", "PATH")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(5)
