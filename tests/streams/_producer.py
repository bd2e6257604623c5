"""A producer process for the log concurrency test: ``python -m tests.streams._producer LOG
NAME ACK_FILE SECONDS`` appends batches of 1-5 events in a loop and writes each acknowledged
``partition offset id`` line (flushed, fsynced) only after ``produce`` returned."""

from __future__ import annotations

import os
import random
import sys
import time

from cairn.streams import LocalLog


def main(path: str, name: str, ack: str, seconds: str) -> None:
    log = LocalLog(path)
    rng = random.Random(name)
    deadline = time.monotonic() + float(seconds)
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


if __name__ == "__main__":
    main(*sys.argv[1:5])
