"""What an attacker with write access to the database does: raw SQL, no Cairn code."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def sql(engine: Engine, statement: str, **params: Any) -> None:
    """Run one statement in its own transaction."""
    with engine.begin() as conn:
        conn.execute(sa.text(statement), params)


def row(engine: Engine, project: str, seq: int) -> dict[str, Any]:
    """One stored audit row as a dict."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.text("SELECT * FROM cairn_audit_log WHERE project = :p AND seq = :s"),
            {"p": project, "s": seq},
        ).one()
    return dict(found._mapping)
