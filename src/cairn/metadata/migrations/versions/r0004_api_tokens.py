"""0004: API tokens (issue 15).

``cairn_api_tokens`` holds one row per API token of a project: who holds it, its role, when it
expires or was revoked, and the SHA-256 hash of its secret (never the secret). Creating and
revoking a token are also entries of the project's audit chain.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cairn_api_tokens",
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
    )
    op.create_index("ix_cairn_api_tokens_hash", "cairn_api_tokens", ["hash"], unique=True)
    op.create_index("ix_cairn_api_tokens_project", "cairn_api_tokens", ["project", "holder"])


def downgrade() -> None:
    op.drop_index("ix_cairn_api_tokens_project", table_name="cairn_api_tokens")
    op.drop_index("ix_cairn_api_tokens_hash", table_name="cairn_api_tokens")
    op.drop_table("cairn_api_tokens")
