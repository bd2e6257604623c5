"""0006: the retraining ledger (issue 19).

``cairn_retraining_ledger`` holds one row per retraining decision of a project, unique on
``(project, policy, trig, window_key)``: a decision recorded twice, by one process or by several
at once, is one row (the insert does nothing on that key). The row then follows its run
(``state``: decided, training, trained, gated, refused, challenger, shadow, canary_proposed,
approved, rejected, failed; a skip decision is ``skipped``), with its numbers as JSON, its
reason, the training run and when it was decided (the engine's clock, µs) and written.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cairn_retraining_ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("policy", sa.String(128), nullable=False),
        sa.Column("trig", sa.String(16), nullable=False),
        sa.Column("window_key", sa.String(256), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("numbers", sa.Text, nullable=False),
        sa.Column("decided_at", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("training_run_id", sa.String(64), nullable=True),
        sa.UniqueConstraint(
            "project", "policy", "trig", "window_key", name="uq_cairn_retraining_ledger_key"
        ),
    )
    op.create_index(
        "ix_cairn_retraining_ledger_policy",
        "cairn_retraining_ledger",
        ["project", "policy", "decided_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_cairn_retraining_ledger_policy", table_name="cairn_retraining_ledger")
    op.drop_table("cairn_retraining_ledger")
