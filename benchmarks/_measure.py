"""Run one benchmark contender in its own process and measure its peak memory.

Peak RSS is per child process: the parent reaps the child with ``os.wait4``, whose rusage
``ru_maxrss`` belongs to that child alone (plus any grandchildren it reaped), unlike
``RUSAGE_CHILDREN`` which is a running maximum over every child. While the child runs, the
parent also polls the RSS of the whole process tree with psutil, so a child that is killed
(timeout, memory cap) still gets a peak, and worker processes it never reaps are counted.

Also here: the plumbing around those children (a work folder, a scratch folder per child,
the command that starts a child of the benchmark script itself) and the timing loop and the
latency summary the latency benchmarks share. Nothing here asserts anything about time: it only
measures and reports. numpy is imported only where it is needed: some benchmark parents stay small.
"""

from __future__ import annotations

import gc
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import psutil

if TYPE_CHECKING:
    import numpy as np

POLL_S = 0.05

T = TypeVar("T")


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

    def last_line(self, limit: int) -> str:
        """The last line of the child's stderr, cut to ``limit`` characters."""
        return (self.stderr_tail.splitlines()[-1:] or [""])[0][:limit]


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
        status, proc.returncode, watch.elapsed, peak_mb, tail(err_path), watch.measured_s
    )


def default_mem_cap_mb() -> float:
    """The memory cap of a contender's process tree unless one is given: 75 % of the RAM."""
    return 0.75 * psutil.virtual_memory().total / 2**20


def self_command(script: str, *args: str, quick: bool = False) -> list[str]:
    """The command that runs the benchmark ``script`` (its ``__file__``) again as a child."""
    return [sys.executable, str(Path(script).resolve()), *args, *(["--quick"] if quick else [])]


def run_in_scratch(
    cmd: list[str],
    *,
    work: Path,
    name: str,
    timeout_s: float,
    env: dict[str, str],
    mem_cap_mb: float | None = None,
    marker: bool = True,
) -> ChildOutcome:
    """:func:`run_child` for a contender: logs in ``work/logs``; cwd and TMPDIR its own folder
    ``work/scratch/name`` (removed with the work folder, even when a killed child cannot clean
    up after itself); ``env`` added to ours; the memory cap 75 % of RAM unless given; with
    ``marker``, ``timeout_s`` counts from the child's touching ``work/{name}.started``."""
    scratch = work / "scratch" / name
    scratch.mkdir(parents=True, exist_ok=True)
    return run_child(
        cmd,
        timeout_s=timeout_s,
        mem_cap_mb=mem_cap_mb or default_mem_cap_mb(),
        log_dir=work / "logs",
        name=name,
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1", "TMPDIR": str(scratch)},
        started_marker=work / f"{name}.started" if marker else None,
        cwd=scratch,
    )


@contextmanager
def work_folder(prefix: str, keep: bool) -> Iterator[Path]:
    """A fresh temporary folder for one run: removed at the end, or kept and named (``keep``)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        if keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def warm_page_cache(paths: Iterable[Path]) -> None:
    """Read every input file once so no contender pays for a cold page cache."""
    for path in paths:
        with path.open("rb") as fh:
            while fh.read(1 << 24):
                pass


def time_calls(call: Callable[[T], object], warm: Iterable[T], timed: Sequence[T]) -> np.ndarray:
    """Make every ``warm`` call, collect garbage, then time each ``timed`` call alone with
    ``perf_counter_ns``: their nanoseconds, in order."""
    import numpy as np

    for arg in warm:
        call(arg)
    gc.collect()
    clock = time.perf_counter_ns
    out = np.empty(len(timed), dtype=np.int64)
    for i, arg in enumerate(timed):
        t0 = clock()
        call(arg)
        out[i] = clock() - t0
    return out


def latency_stats(ms: np.ndarray) -> dict[str, float]:
    """p50, p90, p99, p99.9, mean and max of latencies in ms (all NaN when there are none)."""
    import numpy as np

    if ms.size == 0:
        ms = np.asarray([np.nan])
    p50, p90, p99, p999 = np.percentile(ms, [50, 90, 99, 99.9])
    return {
        "p50_ms": float(p50),
        "p90_ms": float(p90),
        "p99_ms": float(p99),
        "p999_ms": float(p999),
        "mean_ms": float(np.mean(ms)),
        "max_ms": float(np.max(ms)),
    }


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
            self.peak_mb = max(self.peak_mb, tree_rss_mb(self.proc.pid))
            reason = self._limit_passed()
            if reason:
                signal_group(self.proc.pid, signal.SIGKILL)
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


def tree_rss_mb(pid: int) -> float:
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


def signal_group(pgid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to a process group (a child started in its own session); gone is fine."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def tail(path: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of a log file ("" when it cannot be read)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
