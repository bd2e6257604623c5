"""Run one benchmark contender in its own process and measure its peak memory.

Peak RSS is per child process: the parent reaps the child with ``os.wait4``, whose rusage
``ru_maxrss`` belongs to that child alone (plus any grandchildren it reaped), unlike
``RUSAGE_CHILDREN`` which is a running maximum over every child. While the child runs, the
parent also polls the RSS of the whole process tree with psutil, so a child that is killed
(timeout, memory cap) still gets a peak, and worker processes it never reaps are counted.

Nothing here asserts anything about time: it only measures and reports.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

POLL_S = 0.05


@dataclass(frozen=True)
class ChildOutcome:
    """What happened to one child process.

    ``status`` is ``"ok"``, ``"timeout"``, ``"memory cap"``, ``"killed"`` (a signal we did not
    send, e.g. the kernel's OOM killer) or ``"exit N"``.
    """

    status: str
    returncode: int | None
    elapsed_s: float
    peak_rss_mb: float
    stderr_tail: str
    measured_s: float | None = None
    """Seconds from the child's ``started`` marker to its end (None without a marker)."""


def run_child(
    cmd: list[str],
    *,
    timeout_s: float,
    mem_cap_mb: float,
    log_dir: Path,
    name: str,
    env: dict[str, str] | None = None,
    started_marker: Path | None = None,
    setup_timeout_s: float = 300.0,
    cwd: Path | None = None,
) -> ChildOutcome:
    """Run ``cmd`` in a new process group; kill it on timeout or when its tree passes the cap.

    With ``started_marker``, ``timeout_s`` counts from the moment the child creates that file
    (when the measured work begins), and ``setup_timeout_s`` bounds the time before it.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    out_path, err_path = log_dir / f"{name}.stdout", log_dir / f"{name}.stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True
        )
        watch = _Watch(proc, timeout_s, setup_timeout_s, mem_cap_mb, started_marker)
        status, usage = watch.run()
    peak_mb = max(watch.peak_mb, _maxrss_kb(usage) / 1024.0)
    return ChildOutcome(
        status, proc.returncode, watch.elapsed, peak_mb, _tail(err_path), watch.measured_s
    )


class _Watch:
    """Polls one child until it exits, enforcing the time limits and the memory cap."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        timeout_s: float,
        setup_timeout_s: float,
        mem_cap_mb: float,
        marker: Path | None,
    ) -> None:
        self.proc, self.marker = proc, marker
        self.timeout_s = timeout_s
        self.setup_timeout_s = setup_timeout_s
        self.mem_cap_mb = mem_cap_mb
        self.start = time.perf_counter()
        self.started_at: float | None = None  # perf_counter when the marker appeared
        self.peak_mb = 0.0
        self.elapsed = 0.0
        self.measured_s: float | None = None

    def run(self) -> tuple[str, resource.struct_rusage]:
        reason = ""
        while True:
            pid, wait_status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid == self.proc.pid:
                break
            self.peak_mb = max(self.peak_mb, _tree_rss_mb(self.proc.pid))
            reason = self._limit_passed()
            if reason:
                _kill_group(self.proc.pid)
                pid, wait_status, usage = os.wait4(self.proc.pid, 0)
                break
            time.sleep(POLL_S)
        now = time.perf_counter()
        self.elapsed = now - self.start
        if self.started_at is not None:
            self.measured_s = now - self.started_at
        self.proc.returncode = os.waitstatus_to_exitcode(wait_status)  # Popen must not re-reap
        return _status(reason, self.proc.returncode), usage

    def _limit_passed(self) -> str:
        now = time.perf_counter()
        if self.marker is None:
            over = now - self.start > self.timeout_s
        else:
            if self.started_at is None and self.marker.exists():
                self.started_at = now
            if self.started_at is None:
                over = now - self.start > self.setup_timeout_s
            else:
                over = now - self.started_at > self.timeout_s
        if over:
            return "timeout"
        return "memory cap" if self.peak_mb > self.mem_cap_mb else ""


def _status(reason: str, rc: int) -> str:
    if reason:
        return reason
    if rc == 0:
        return "ok"
    if rc < 0:
        return f"killed ({signal.Signals(-rc).name})"
    return f"exit {rc}"


def _maxrss_kb(usage: resource.struct_rusage) -> int:
    return int(usage.ru_maxrss)  # kilobytes on Linux


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, in MB (0 if it is gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            continue
    return total / (1024.0 * 1024.0)


def _kill_group(pid: int) -> None:
    """Kill the child's process group (it was started in its own session)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
