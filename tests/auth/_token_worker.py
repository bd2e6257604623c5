"""A process that creates, revokes and authenticates API tokens in a loop (for the concurrency
test): ``python -m tests.auth._token_worker URL PROJECT ADMIN_SECRET ACK_FILE SECONDS NAME``.

A line goes to ACK_FILE (flushed and fsynced) only after the store returned: ``created ID
SECRET`` or ``revoked ID``. Whatever the process did not write there was never acknowledged.
"""

from __future__ import annotations

import os
import sys
import time

from cairn.auth import TokenStore
from cairn.metadata import MetadataStore
from cairn.registry import AuditLog


def main(url: str, project: str, admin_secret: str, ack: str, seconds: str, name: str) -> None:
    metadata = MetadataStore(url)
    engine = metadata.engine
    store = TokenStore(engine, project, AuditLog(engine, project))
    admin = store.authenticate(admin_secret)
    deadline = time.monotonic() + float(seconds)
    mine: list[tuple[str, str]] = []
    with open(ack, "a", encoding="utf-8") as out:

        def acknowledge(line: str) -> None:
            out.write(line + "\n")
            out.flush()
            os.fsync(out.fileno())

        i = 0
        while time.monotonic() < deadline:
            i += 1
            info, secret = store.create(f"{name}-{i}", "viewer", created_by=admin)
            acknowledge(f"created {info.id} {secret}")
            mine.append((info.id, secret))
            assert store.authenticate(mine[len(mine) // 2][1]).name.startswith(name)
            if i % 3 == 0:
                token_id, _ = mine.pop(0)
                store.revoke(token_id, by=admin, reason="rotation")
                acknowledge(f"revoked {token_id}")
    metadata.close()


if __name__ == "__main__":
    main(*sys.argv[1:7])
