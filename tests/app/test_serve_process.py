"""Children started by ``cairn.app.serve_process.start_command`` (the quickstart's server and
stream processor) stop when their parent dies, even by ``kill -9``: a killed quickstart
leaves nothing running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cairn.app.serve_process import free_port

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl, /proc")

ROOT = Path(__file__).resolve().parents[2]

_PARENT = """
import sys, threading, time
from pathlib import Path
from cairn.app.serve_process import start_command
root, port, where = sys.argv[1:4]
args = ["ui", "--repo", root, "--port", port]
if where == "main":
    child = start_command(Path(root), args, "ui.log")
else:
    box = []
    t = threading.Thread(target=lambda: box.append(start_command(Path(root), args, "ui.log")))
    t.start(); t.join()
    child = box[0]
print(child.pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _start(tmp_path: Path, where: str) -> tuple[subprocess.Popen[str], int]:
    (tmp_path / "cairn.yaml").write_text("project: orphans\n")
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, str(tmp_path), str(free_port()), where],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'src'}:{ROOT}"},
    )
    assert parent.stdout is not None
    return parent, int(parent.stdout.readline())


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return False


def test_a_child_stops_when_its_parent_is_killed(tmp_path: Path) -> None:
    parent, child = _start(tmp_path, "main")
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    assert _gone_within(child, 60), "the child outlived its killed parent"


def test_a_child_started_from_another_thread_is_not_tied_to_it(tmp_path: Path) -> None:
    # The kernel ties the parent-death signal to the thread that started the child: one
    # started from a thread that then ends must keep running (it is stopped explicitly).
    parent, child = _start(tmp_path, "thread")
    try:
        time.sleep(2.0)  # the starting thread has ended; the child must not have been signalled
        assert _alive(child)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        if _alive(child):
            os.kill(child, signal.SIGKILL)
