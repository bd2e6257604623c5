"""The run lock serializing incremental materializations of a view (SQLite file, PostgreSQL)."""

from __future__ import annotations

import threading
import time

from cairn.metadata import MetadataStore
from cairn.metadata.run_lock import run_lock


def test_the_run_lock_excludes_other_holders(metadata_url: str, project_name: str) -> None:
    engine = MetadataStore(metadata_url).engine
    seen: list[int] = []
    total = [0]

    def work() -> None:
        for _ in range(5):
            with run_lock(engine, f"materialize:{project_name}:v"):
                value = total[0]
                time.sleep(0.002)  # widen the window a lost update would need
                total[0] = value + 1
                seen.append(value)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert total[0] == 20 and sorted(seen) == list(range(20))
