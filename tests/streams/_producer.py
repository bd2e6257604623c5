"""A producer for the log concurrency tests: batches of 1-5 keyed events in a loop, each
acknowledged ``partition offset id`` line written (flushed, fsynced) only after ``produce``
returned. ``python -m tests.streams._producer LOG NAME ACK_FILE SECONDS`` runs it on a
``LocalLog``; the Redis and Kafka tests call :func:`produce_loop` with their own log."""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

from cairn.streams import EventLog, LocalLog


def produce_loop(log: EventLog, name: str, ack: str, seconds: float) -> None:
    """Append numbered events ``NAME-N`` for ``seconds``, acknowledging each to ``ack``."""
    rng = random.Random(name)
    deadline = time.monotonic() + seconds
    n = 0
    with open(ack, "a", encoding="utf-8") as out:
        while time.monotonic() < deadline:
            batch = []
            for _ in range(rng.randint(1, 5)):
                n += 1
                batch.append({"id": f"{name}-{n}", "customer_id": rng.randint(1, 50)})
            acks = log.produce(batch, key="customer_id")
            lines = (f"{p} {o} {v['id']}\n" for (p, o), v in zip(acks, batch, strict=True))
            out.write("".join(lines))
            out.flush()
            os.fsync(out.fileno())


def acknowledged(acks: list[Path]) -> dict[tuple[int, int], str]:
    """``(partition, offset) -> id`` of every whole acknowledged line (a kill may cut the last
    one); an offset acknowledged for two ids is an assertion error."""
    out: dict[tuple[int, int], str] = {}
    for a in acks:
        for line in a.read_text().split("\n")[:-1]:
            part, offset, ident = line.split()
            assert out.setdefault((int(part), int(offset)), ident) == ident
    return out


def main(path: str, name: str, ack: str, seconds: str) -> None:
    produce_loop(LocalLog(path), name, ack, float(seconds))


if __name__ == "__main__":
    main(*sys.argv[1:5])
