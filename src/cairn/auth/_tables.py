"""The API token table, in a ``MetaData`` of its own (next to the other stores' tables, in the
metadata database). Migration ``0004`` creates it; a test keeps the two equal.

Only the SHA-256 hash of a token's secret is stored: the secret itself is shown once, when the
token is created, and never written anywhere by Cairn.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

api_tokens = sa.Table(
    "cairn_api_tokens",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("project", sa.String(128), nullable=False),
    sa.Column("holder", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_by", sa.String(128), nullable=True),
    sa.Index("ix_cairn_api_tokens_hash", "hash", unique=True),
    sa.Index("ix_cairn_api_tokens_project", "project", "holder"),
)
