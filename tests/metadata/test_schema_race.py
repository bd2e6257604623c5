"""Eight processes open one new metadata database at the same moment, twenty times over, on
SQLite and on a real PostgreSQL: every one of them succeeds and the schema ends at head."""

from __future__ import annotations

import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
import sqlalchemy as sa

from cairn.metadata.schema import HEAD, TABLES, revision
from tests.metadata.conftest import FreshUrl

PROCESSES, ROUNDS = 8, 20

# Long-lived, so the imports are paid once: per line "url<TAB>start-file" on stdin it says
# "ready", waits for the start file (all processes are then released at once), opens the
# database and says "ok" or the error. Half open a MetadataStore (WAL, 10 s busy timeout), half
# a plain engine, as a RolloutStore given a URL does.
_OPENER = """
import os, sys, time
import sqlalchemy as sa
from cairn.metadata import MetadataStore
from cairn.metadata.schema import upgrade
plain = sys.argv[1] == "plain"
for line in sys.stdin:
    url, start = line.rstrip("\\n").split("\\t")
    print("ready", flush=True)
    while not os.path.exists(start):
        time.sleep(0.0005)
    try:
        if plain:
            engine = sa.create_engine(url)
            upgrade(engine)
            engine.dispose()
        else:
            MetadataStore(url).close()
    except Exception as exc:
        print("error", type(exc).__name__, str(exc).splitlines()[0], flush=True)
    else:
        print("ok", flush=True)
"""


@pytest.fixture
def openers() -> Iterator[list[subprocess.Popen[str]]]:
    kinds = ["plain" if k % 2 else "store" for k in range(PROCESSES)]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _OPENER, kind],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for kind in kinds
    ]
    yield procs
    for proc in procs:
        proc.communicate(timeout=60)  # closes stdin: the loop ends


def _line(stream: IO[str] | None) -> str:
    assert stream is not None
    ready, _, _ = select.select([stream], [], [], 120)
    assert ready, "an opener said nothing for 120 s"
    return stream.readline().strip()


@pytest.mark.slow
def test_processes_opening_a_new_database_at_once_all_succeed(
    new_database: FreshUrl, openers: list[subprocess.Popen[str]], tmp_path: Path
) -> None:
    failures: list[str] = []
    for n in range(ROUNDS):
        url, start = new_database(), tmp_path / f"start{n}"
        for proc in openers:
            assert proc.stdin is not None
            proc.stdin.write(f"{url}\t{start}\n")
            proc.stdin.flush()
        assert [_line(p.stdout) for p in openers] == ["ready"] * PROCESSES
        start.touch()
        failures += [f"round {n}: {o}" for o in (_line(p.stdout) for p in openers) if o != "ok"]
        engine = sa.create_engine(url)
        assert set(TABLES) <= set(sa.inspect(engine).get_table_names()), f"round {n}"
        assert revision(engine) == HEAD, f"round {n}"
        engine.dispose()
    assert failures == []
