"""``cairn serve`` as a child process: start it on a free port, wait until it is ready, stop it.

The quickstart runs its server this way, and tests and benchmarks do too (through
:mod:`cairn.testing.servers`). Every wait is bounded; readiness is ``GET /readyz`` answering
200.

Example
-------
>>> port = free_port()
>>> 1024 <= port <= 65535
True
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from cairn.core.config import STATE_DIR, process_env
from cairn.core.errors import CairnError

START_TIMEOUT = 90.0
"""Seconds a server may take to load its models and answer ``/readyz``."""
SERVE_LOG = "serve.log"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PARENT_ENV = "CAIRN_PARENT_PID"
"""Set by :func:`start_command` for its child: the process whose death stops it."""
_PR_SET_PDEATHSIG = 1
_CHILD = (
    "from cairn.app.serve_process import follow_parent; follow_parent(); "
    "from cairn.cli.main import main; main()"
)


def follow_parent() -> None:
    """In a child of :func:`start_command` (on Linux): receive SIGTERM when the parent dies,
    even by ``kill -9``, so a killed quickstart leaves no server or processor behind; when
    the parent is gone already, stop at once."""
    parent = os.environ.pop(PARENT_ENV, "")
    if not parent.isdigit() or not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
        return  # not available: the child outlives a killed parent, as before
    if os.getppid() != int(parent):  # the parent died before the call
        os.kill(os.getpid(), signal.SIGTERM)


def start_command(
    project: Path, args: list[str], log: str, *, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``cairn ARGS`` as a child process; its output is appended to ``PROJECT/.cairn/LOG``;
    ``env`` adds to this process's environment. On Linux the child stops (SIGTERM) when this
    process dies, when started from the main thread (the kernel ties the signal to the thread
    that started the child)."""
    state = Path(project) / STATE_DIR
    state.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-c", _CHILD, *args]
    child_env = {**process_env(), **(env or {})}
    if threading.current_thread() is threading.main_thread():
        child_env[PARENT_ENV] = str(os.getpid())
    with open(state / log, "ab") as logfile:
        return subprocess.Popen(cmd, stdout=logfile, stderr=subprocess.STDOUT, env=child_env)


def start_server(
    project: Path, port: int, *, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``cairn serve --repo PROJECT --port PORT`` as a child process; its output is appended
    to ``PROJECT/.cairn/serve.log``; ``env`` adds to this process's environment."""
    args = ["serve", "--repo", str(project), "--port", str(port), "--no-access-log"]
    return start_command(project, args, SERVE_LOG, env=env)


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = START_TIMEOUT) -> None:
    """Wait until ``URL/readyz`` answers 200; raise when the server exits or time is up."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise CairnError(
                f"cairn serve exited with code {proc.returncode}; see {STATE_DIR}/{SERVE_LOG}."
            )
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=1.0) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise CairnError(
        f"cairn serve was not ready within {timeout:.0f} s; see {STATE_DIR}/{SERVE_LOG}."
    )


def stop_server(proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """SIGTERM (the server flushes its logs on shutdown), then SIGKILL after ``timeout``."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
