"""An open-loop HTTP load generator: requests leave on a fixed schedule, whatever the answers.

Request ``i`` of a run at ``rate`` per second is due at ``start + i / rate``. A scheduler puts
it on a queue at that moment; a pool of keep-alive connections (raw asyncio streams, HTTP/1.1,
``TCP_NODELAY``) takes requests off the queue. When every connection is busy, a new one is
opened (up to ``max_connections``); beyond that, requests wait in the queue. Latency is measured
from the *scheduled* time to the end of the answer, so time spent waiting for a connection or
behind a slow answer counts (no coordinated omission). A request is an error when the answer is
not 2xx, the connection fails, or it takes longer than ``timeout_s`` (the connection is then
dropped and replaced). The run is bounded: ``rate * duration`` requests, then at most
``timeout_s`` for the stragglers. Given several ports (replicas of one server), connections go
to them in turn (client-side round robin: each connection stays on its port).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from _measure import latency_stats


@dataclass
class LoadResult:
    """What one run measured (latencies in ms, from scheduled send time to answer)."""

    rate: float
    duration_s: float
    scheduled: int
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0
    timeouts: int = 0
    status_errors: dict[int, int] = field(default_factory=dict)
    connections: int = 0
    max_send_lag_ms: float = 0.0
    """Largest delay between a request's due time and the scheduler queueing it."""
    elapsed_s: float = 0.0
    """From the first due time to the last answer."""

    def summary(self) -> dict[str, float | int | dict[int, int]]:
        done = len(self.latencies_ms)
        return {
            "rate": self.rate,
            "duration_s": self.duration_s,
            "scheduled": self.scheduled,
            "ok": done,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "status_errors": self.status_errors,
            "achieved_rps": done / self.elapsed_s if self.elapsed_s > 0 else 0.0,
            "connections": self.connections,
            "max_send_lag_ms": self.max_send_lag_ms,
            **latency_stats(np.asarray(self.latencies_ms, dtype=float)),
        }


class _Conn:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
            elif name.strip().lower() == b"transfer-encoding":
                raise RuntimeError("chunked answers are not supported by this client")
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


async def _connect(port: int) -> _Conn:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        import socket

        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return _Conn(reader, writer)


async def run_load(
    port: int | Sequence[int],
    requests: list[bytes],
    rate: float,
    duration_s: float,
    *,
    timeout_s: float = 2.0,
    initial_connections: int = 8,
    max_connections: int = 64,
) -> LoadResult:
    """Send ``rate * duration_s`` requests (cycling over ``requests``) on a fixed schedule."""
    ports = [port] if isinstance(port, int) else list(port)
    opened = [0]

    def next_port() -> int:
        opened[0] += 1
        return ports[(opened[0] - 1) % len(ports)]

    total = int(rate * duration_s)
    result = LoadResult(rate, duration_s, total)
    queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    idle = [0]
    workers: list[asyncio.Task[None]] = []
    clock = time.perf_counter
    last_done = [0.0]

    async def worker(conn: _Conn | None) -> None:
        while True:
            idle[0] += 1
            item = await queue.get()
            idle[0] -= 1
            if item is None:
                break
            due, req = item
            try:
                if conn is None:
                    conn = await asyncio.wait_for(_connect(next_port()), timeout_s)
                    result.connections += 1
                status = await asyncio.wait_for(conn.exchange(req), timeout_s)
                now = clock()
                last_done[0] = now
                if 200 <= status < 300:
                    result.latencies_ms.append((now - due) * 1000.0)
                else:
                    result.errors += 1
                    result.status_errors[status] = result.status_errors.get(status, 0) + 1
            except TimeoutError:
                result.errors += 1
                result.timeouts += 1
                if conn is not None:
                    conn.close()
                conn = None
            except (OSError, asyncio.IncompleteReadError, ValueError, RuntimeError):
                result.errors += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    for _ in range(initial_connections):
        conn = await asyncio.wait_for(_connect(next_port()), timeout_s)
        result.connections += 1
        workers.append(asyncio.create_task(worker(conn)))
    await asyncio.sleep(0.05)  # let the workers reach the queue
    start = clock() + 0.01
    interval = 1.0 / rate
    for i in range(total):
        due = start + i * interval
        wait = due - clock()
        if wait > 0:
            await asyncio.sleep(wait)
        result.max_send_lag_ms = max(result.max_send_lag_ms, (clock() - due) * 1000.0)
        queue.put_nowait((due, requests[i % len(requests)]))
        if idle[0] == 0 and len(workers) < max_connections:
            workers.append(asyncio.create_task(worker(None)))
    for _ in workers:
        queue.put_nowait(None)
    _, pending = await asyncio.wait(workers, timeout=timeout_s * 2 + 1.0)
    for task in pending:
        task.cancel()
    for task in pending:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    left = total - len(result.latencies_ms) - result.errors
    if left > 0:  # still queued or in flight when the bounded wait ended
        result.errors += left
        result.timeouts += left
    result.elapsed_s = max(last_done[0] - start, 1e-9)
    return result


def run(
    port: int | Sequence[int],
    requests: list[bytes],
    rate: float,
    duration_s: float,
    timeout_s: float = 2.0,
) -> LoadResult:
    """:func:`run_load` on a fresh event loop (uvloop when installed)."""
    try:
        import uvloop

        return uvloop.run(run_load(port, requests, rate, duration_s, timeout_s=timeout_s))
    except ImportError:
        return asyncio.run(run_load(port, requests, rate, duration_s, timeout_s=timeout_s))
