"""Server processes for tests: a real ``cairn serve`` on a free loopback port.

:func:`serving` starts one for a project, waits until ``/readyz`` answers, yields its URL and
process, and stops it (SIGTERM, then SIGKILL) however the block ends. The building blocks are
:mod:`cairn.app.serve_process`'s, re-exported here for tests.

Example
-------
>>> import tempfile, pathlib
>>> repo = pathlib.Path(tempfile.mkdtemp())
>>> _ = (repo / "cairn.yaml").write_text("project: demo")
>>> with serving(repo) as (url, proc):
...     proc.poll() is None
True
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cairn.app.serve_process import (
    START_TIMEOUT,
    free_port,
    start_server,
    stop_server,
    wait_ready,
)

__all__ = ["START_TIMEOUT", "free_port", "serving", "start_server", "stop_server", "wait_ready"]


@contextmanager
def serving(
    project: Path, *, env: dict[str, str] | None = None, timeout: float = START_TIMEOUT
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``cairn serve`` for ``project`` while the block runs: yields ``(url, process)``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server(project, port, env=env)
    try:
        wait_ready(url, proc, timeout)
        yield url, proc
    finally:
        stop_server(proc)
