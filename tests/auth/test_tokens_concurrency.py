"""The API-token table shared by processes (issue 15, lesson: every shared table is a
concurrency test): three processes create, authenticate and revoke tokens in loops while this
process lists them and verifies the audit chain; one writer is killed with SIGKILL mid-way. Every
acknowledged token is there with its hash, every acknowledged revocation holds, each token has
exactly one audit entry, and the chain is intact (the killed writer may have committed one
revocation it never acknowledged). Also: processes racing for a project's first
admin token get exactly one."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from cairn.auth import AuthenticationError, TokenStore
from cairn.auth._tables import api_tokens
from cairn.metadata import MetadataStore
from cairn.registry import AuditLog

ROOT = Path(__file__).resolve().parents[2]
WRITERS, SECONDS = 3, 8.0


def _store(url: str, project: str) -> tuple[MetadataStore, TokenStore]:
    metadata = MetadataStore(url)
    engine = metadata.engine
    return metadata, TokenStore(engine, project, AuditLog(engine, project))


def _acknowledged(ack: Path) -> bool:
    return ack.exists() and ack.stat().st_size > 0


def _worker(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.auth._token_worker", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


@pytest.mark.slow
def test_writers_readers_and_a_kill_lose_no_acknowledged_token(
    metadata_url: str, project_name: str, tmp_path: Path
) -> None:
    metadata, store = _store(metadata_url, project_name)
    _, admin_secret = store.create("owner", "admin")
    acks = [tmp_path / f"ack{n}.txt" for n in range(WRITERS)]
    procs = [
        _worker(metadata_url, project_name, admin_secret, str(ack), str(SECONDS), f"w{n}")
        for n, ack in enumerate(acks)
    ]
    deadline, killed, reads = time.monotonic() + SECONDS, False, 0
    give_up = deadline + 60  # a loaded box may take seconds to start a worker
    while (time.monotonic() < deadline or not killed) and time.monotonic() < give_up:
        listed = store.list()  # a reader in a loop beside the writers
        assert len({t.id for t in listed}) == len(listed)
        assert store.audit.verify().ok
        reads += 1
        # kill mid-way, once the first writer has acknowledged something
        if not killed and time.monotonic() > deadline - SECONDS / 2 and _acknowledged(acks[0]):
            procs[0].send_signal(signal.SIGKILL)
            killed = True
    assert killed, "the first writer acknowledged nothing within a minute"
    codes = [p.wait(120) for p in procs]
    assert codes[0] == -signal.SIGKILL and codes[1:] == [0] * (WRITERS - 1), codes
    created: dict[str, str] = {}
    revoked: set[str] = set()
    for ack in acks:
        for line in ack.read_text().splitlines():
            kind, token_id, *secret = line.split()
            if kind == "created":
                created[token_id] = secret[0]
            else:
                revoked.add(token_id)
    assert reads > 0 and len(created) > 3 * WRITERS and revoked
    with store.engine.connect() as conn:
        rows = {
            r.id: r
            for r in conn.execute(sa.select(api_tokens).where(api_tokens.c.project == project_name))
        }
    # The killed writer may have died between a revocation's commit and its acknowledgement:
    # at most one of its tokens may be revoked without an acknowledged revocation.
    unacknowledged_revocations = []
    for token_id, secret in created.items():
        assert rows[token_id].hash == hashlib.sha256(secret.encode()).hexdigest()
        if token_id in revoked:
            assert rows[token_id].revoked_at is not None
            with pytest.raises(AuthenticationError):
                store.authenticate(secret)
        elif rows[token_id].revoked_at is not None:
            unacknowledged_revocations.append(rows[token_id].holder)
        else:
            assert store.authenticate(secret).token_id == token_id
    assert len(unacknowledged_revocations) <= 1, unacknowledged_revocations
    assert all(h.startswith("w0-") for h in unacknowledged_revocations), unacknowledged_revocations
    entries = store.audit.entries(action="token.created")
    assert sorted(e.subject for e in entries) == sorted(f"token/{i}" for i in rows)
    assert store.audit.verify().ok
    metadata.close()


_RACER = """
import sys, time, os
from cairn.auth import TokenStore, AccessDeniedError
from cairn.metadata import MetadataStore
from cairn.registry import AuditLog
url, project, start = sys.argv[1:4]
metadata = MetadataStore(url)
store = TokenStore(metadata.engine, project, AuditLog(metadata.engine, project))
while not os.path.exists(start):
    time.sleep(0.001)
try:
    store.create("owner", "admin")
except AccessDeniedError:
    print("refused")
else:
    print("created")
"""


@pytest.mark.slow
def test_processes_racing_for_the_first_admin_token_get_exactly_one(
    metadata_url: str, project_name: str, tmp_path: Path
) -> None:
    MetadataStore(metadata_url).close()  # the schema exists before the race
    start = tmp_path / "start"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", _RACER, metadata_url, project_name, str(start)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(2.0)  # let every racer import and connect; the start file releases them together
    start.touch()
    said = sorted(p.communicate(timeout=120)[0].strip() for p in racers)
    assert said == ["created", "refused", "refused", "refused"], said
    metadata, store = _store(metadata_url, project_name)
    assert [t.holder for t in store.list()] == ["owner"]
    metadata.close()
