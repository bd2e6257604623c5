"""nginx in front of test servers, configured from the recipe ``deploy/nginx.conf``.

:func:`render` keeps the recipe's ``upstream`` and ``location`` blocks as they are and changes
only what a test must: the upstream's one ``server serve:8000 ...`` line becomes one line per
replica (same parameters), and ``listen 8000`` becomes a free loopback port. The result is
wrapped in the main-context directives a standalone nginx needs (its own prefix for the pid
file, logs and temporary files), so the test runs the recipe's proxying itself.
:func:`running` starts ``nginx -p DIR -c CONF -g 'daemon off;'`` and stops it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

RECIPE = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
_SERVER = re.compile(r"^(\s*)server\s+serve:8000\b([^;]*);$", re.MULTILINE)
_LISTEN = re.compile(r"^(\s*)listen\s+8000;$", re.MULTILINE)


def nginx_or_skip() -> str:
    """The nginx binary; skips without one (fails under CI, which must run these tests)."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found is None:
        why = "no nginx: run `scripts/services.sh nginx` (apt) or `make test`"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the nginx tests: {why}")
        pytest.skip(why)
    return found


def render(recipe: str, upstreams: list[int], port: int, prefix: Path) -> str:
    """The recipe as a standalone config: ``upstreams`` (loopback ports) behind ``port``."""
    server = _SERVER.search(recipe)
    listen = _LISTEN.search(recipe)
    if server is None or listen is None:
        raise AssertionError(
            "deploy/nginx.conf must have one 'server serve:8000 ...;' upstream line and "
            "'listen 8000;' (the replicas' port), as deploy/compose.yaml runs them"
        )
    indent, params = server.group(1), server.group(2)
    lines = "\n".join(f"{indent}server 127.0.0.1:{p}{params};" for p in upstreams)
    body = _SERVER.sub(lambda _: lines, recipe)
    body = _LISTEN.sub(lambda m: f"{m.group(1)}listen 127.0.0.1:{port};", body)
    temp = "\n".join(
        f"    {kind}_temp_path {prefix / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    head = [
        "worker_processes 1;",
        f"pid {prefix / 'nginx.pid'};",
        f"error_log {prefix / 'error.log'} warn;",
        "events {",
        "    worker_connections 1024;",
        "}",
        "http {",
        "    access_log off;",
        temp,
    ]
    return "\n".join([*head, body, "}", ""])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def running(upstreams: list[int], port: int, prefix: Path) -> Iterator[str]:
    """nginx from the recipe on ``127.0.0.1:port`` while the block runs; yields its URL."""
    binary = nginx_or_skip()
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(render(RECIPE.read_text(), upstreams, port, prefix))
    cmd = [binary, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf),
           "-g", "daemon off;"]  # fmt: skip
    with open(prefix / "nginx.out", "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60  # a loaded machine can take seconds to start it
        while not _listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (prefix / "error.log").read_text() if (prefix / "error.log").exists() else ""
                raise AssertionError(f"nginx did not start (exit {proc.poll()}): {log}")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
