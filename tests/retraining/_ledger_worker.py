"""A process of the ledger's concurrency test, run as ``python -m``.

``URL PROJECT KEYS ROUNDS SEED PROGRESS``: records the decisions of keys ``0..KEYS-1``
(manual runs of policy ``p``, plus a skip of policy ``q``) ``ROUNDS`` times, in an order drawn
from ``SEED``, appending one line to ``PROGRESS`` after each record returns.
"""

from __future__ import annotations

import os
import random
import sys

from cairn.retraining import Decision, Ledger


def main(url: str, project: str, keys: int, rounds: int, seed: int, progress: str) -> None:
    ledger = Ledger(url, project=project)
    rng = random.Random(seed)
    fd = os.open(progress, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    for _ in range(rounds):
        order = list(range(keys))
        rng.shuffle(order)
        for k in order:
            for policy, action in (("p", "run"), ("q", "skip")):
                d = Decision(policy, "manual", f"w{k}", action, f"by {seed}", at=k)  # type: ignore[arg-type]
                entry = ledger.record(d)
                assert entry.key == d.key, (entry, d)
                os.write(fd, f"{policy} {k} {entry.id}\n".encode())
    os.close(fd)


if __name__ == "__main__":
    url, project, keys, rounds, seed, progress = sys.argv[1:]
    main(url, project, int(keys), int(rounds), int(seed), progress)
