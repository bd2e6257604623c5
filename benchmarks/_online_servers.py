"""Throwaway servers for the online benchmarks: redis-server, ``cairn serve``, ``feast serve``.

Every server binds 127.0.0.1 on a free port, runs in its own session (process group), and is
stopped with SIGTERM, then SIGKILL, with bounded waits; nothing is left running. Readiness is
polled over a plain socket, so no HTTP client library is needed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from _measure import signal_group, tail, tree_rss_mb

STOP_WAIT_S = 10.0


class ServerUnavailable(RuntimeError):
    """The server cannot run here (binary missing, it did not become ready in time)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A running server process (its process group is ours to stop)."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def rss_mb(self) -> float:
        """Resident memory of the server and its children (0 when gone)."""
        return tree_rss_mb(self.proc.pid)

    def log_tail(self, lines: int = 8) -> str:
        return tail(self.log, lines)

    def stop(self) -> None:
        """SIGTERM the process group, wait, then SIGKILL it; always reaps the process."""
        if self.proc.poll() is None:
            signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                signal_group(self.proc.pid, signal.SIGKILL)
                self.proc.wait(STOP_WAIT_S)
        # workers (gunicorn, uvicorn) of the group that outlived their parent
        signal_group(self.proc.pid, signal.SIGKILL)


def _start(
    name: str, cmd: Sequence[str], port: int, log_dir: Path, env: dict[str, str] | None = None
) -> Server:
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            list(cmd),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    return Server(name, proc, port, log)


def _wait_until(server: Server, probe: bytes, expect: bytes, timeout_s: float) -> None:
    """Send ``probe`` until the answer starts with ``expect``; stop the server on failure."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            server.stop()
            raise ServerUnavailable(
                f"{server.name} exited with {server.proc.returncode}: {server.log_tail(3)}"
            )
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1.0) as s:
                s.sendall(probe)
                answer = s.recv(256)
            if answer.startswith(expect):
                return
            last = answer[:80].decode(errors="replace")
        except OSError as exc:
            last = str(exc)
        time.sleep(0.1)
    server.stop()
    raise ServerUnavailable(f"{server.name} not ready after {timeout_s:.0f} s ({last})")


@contextmanager
def redis_server(log_dir: Path, timeout_s: float = 20.0) -> Iterator[Server]:
    """A memory-only redis-server on 127.0.0.1 (no RDB, no AOF), stopped on exit."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerUnavailable(
            "no redis-server binary (apt-get install -y redis-server); Redis contenders skipped"
        )
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="redis_", dir=log_dir.parent))
    cmd = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--daemonize", "no",
        "--protected-mode", "yes",
        "--dir", str(workdir),
        "--loglevel", "warning",
    ]  # fmt: skip
    server = _start("redis-server", cmd, port, log_dir)
    try:
        _wait_until(server, b"PING\r\n", b"+PONG", timeout_s)
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def redis_if(needed: bool, log_dir: Path, notes: list[str]) -> Iterator[Server | None]:
    """A :func:`redis_server` when ``needed``; None when not, or when none can start (then the
    reason goes to ``notes``)."""
    with ExitStack() as stack:
        server: Server | None = None
        if needed:
            try:
                server = stack.enter_context(redis_server(log_dir))
            except ServerUnavailable as exc:
                notes.append(f"Redis contenders skipped: {exc}")
        yield server


def redis_command(port: int, *args: str) -> bytes:
    """One command over a fresh connection, the raw reply (for FLUSHALL, INFO, DBSIZE)."""
    parts = [f"*{len(args)}\r\n".encode()]
    for a in args:
        data = a.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    with socket.create_connection(("127.0.0.1", port), timeout=30.0) as s:
        s.sendall(b"".join(parts))
        reply = s.recv(1 << 16)
        if reply.startswith(b"$"):
            size = int(reply[1 : reply.index(b"\r\n")])
            head = len(reply[: reply.index(b"\r\n")]) + 2
            while len(reply) < head + size + 2:
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                reply += chunk
        return reply


def redis_info_field(port: int, section: str, field: str) -> str | None:
    """One field of ``INFO section`` (e.g. memory / used_memory), or None."""
    reply = redis_command(port, "INFO", section).decode(errors="replace")
    for line in reply.splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    return None


def _health_probe(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


def uvicorn_flags(port: int) -> list[str]:
    """The serving options of ``cairn serve`` and of uvicorn in the benchmarks: 127.0.0.1,
    ``port``, one worker, no access log, warnings only."""
    return [
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", "1",
        "--no-access-log",
        "--log-level", "warning",
    ]  # fmt: skip


@contextmanager
def http_server(
    name: str,
    cmd: Sequence[str],
    port: int,
    log_dir: Path,
    health: str,
    timeout_s: float,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Start ``cmd`` (listening on ``port``), wait until ``GET health`` answers 200, yield the
    server; stopped on exit."""
    server = _start(name, cmd, port, log_dir, env=env)
    try:
        _wait_until(server, _health_probe(health), b"HTTP/1.1 200", timeout_s)
        yield server
    finally:
        server.stop()


@contextmanager
def cairn_server(
    cairn_bin: Path, repo: Path, log_dir: Path, timeout_s: float = 60.0, health: str = "/healthz"
) -> Iterator[Server]:
    """``cairn serve`` (one uvicorn worker, no access log) over ``repo``, stopped on exit."""
    port = free_port()
    cmd = [str(cairn_bin), "serve", "--repo", str(repo), *uvicorn_flags(port)]
    with http_server("cairn-serve", cmd, port, log_dir, health, timeout_s) as server:
        yield server


@contextmanager
def feast_server(
    feast_bin: Path, repo: Path, log_dir: Path, timeout_s: float = 90.0
) -> Iterator[Server]:
    """``feast serve`` (gunicorn, one uvicorn worker, no access log) over ``repo``.

    ``--max-requests 0`` turns off gunicorn's worker recycling (Feast's default recycles the
    worker every ~1,000 requests, which would put worker restarts into the latencies)."""
    port = free_port()
    cmd = [
        str(feast_bin), "--chdir", str(repo), "serve",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--workers", "1",
        "--no-access-log",
        "--max-requests", "0",
        "--registry_ttl_sec", "3600",
    ]  # fmt: skip
    env = {**os.environ, "FEAST_USAGE": "False"}
    with http_server("feast-serve", cmd, port, log_dir, "/health", timeout_s, env) as server:
        yield server
