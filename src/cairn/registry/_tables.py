"""The registry's tables, in a ``MetaData`` of their own (next to the metadata store's tables,
in the same database). The migration history of :mod:`cairn.metadata.schema` creates and
changes them; these definitions are what the queries use, and a test keeps the two equal.
``cairn_approvals`` and ``cairn_alias_moves`` are indexes of the audit chain: each row mirrors
one entry of the action named beside the table."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cairn.metadata import create_tables

metadata = sa.MetaData()

audit_log = sa.Table(
    "cairn_audit_log",
    metadata,
    sa.Column("project", sa.String(128), primary_key=True),
    # (project, seq) is the primary key: two appends can never both write entry N.
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    # Text, not a timestamp: the hash covers these exact characters on every database.
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("action", sa.String(128), nullable=False),
    sa.Column("subject", sa.String(512), nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_cairn_audit_log_subject", "project", "subject"),
    sa.Index("ix_cairn_audit_log_action", "project", "action"),
)

audit_head = sa.Table(
    "cairn_audit_head",
    metadata,
    sa.Column("project", sa.String(128), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    # The head's signature by a key outside the database (registry/anchor.py); NULL: unsigned.
    sa.Column("algorithm", sa.String(32), nullable=True),
    sa.Column("key_id", sa.String(64), nullable=True),
    sa.Column("signature", sa.String(256), nullable=True),
)

approvals = sa.Table(
    "cairn_approvals",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("model", sa.String(256), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("reviewer", sa.String(128), nullable=False),
    sa.Column("ticket", sa.String(128), nullable=False),
    sa.Column("decision", sa.String(16), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("author", sa.String(128), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_cairn_approvals_version", "project", "model", "version"),
)
APPROVAL_ACTION = "approval.recorded"
"""The audit action whose entries ``cairn_approvals`` indexes (one row per entry)."""

alias_moves = sa.Table(
    "cairn_alias_moves",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("model", sa.String(256), nullable=False),
    sa.Column("alias", sa.String(128), nullable=False),
    sa.Column("version", sa.String(64), nullable=True),
    sa.Column("previous", sa.String(64), nullable=True),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_cairn_alias_moves_alias", "project", "model", "alias"),
)
MOVED_ACTION = "alias.moved"
"""The audit action whose entries ``cairn_alias_moves`` indexes (one row per entry)."""


def ensure_tables(engine: Engine) -> None:
    """Make sure the registry's tables exist on ``engine``: its schema is brought to its head
    (once per engine)."""
    create_tables(metadata, engine)
