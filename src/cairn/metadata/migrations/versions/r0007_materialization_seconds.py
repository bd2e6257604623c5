"""0007: how long each materialization run took (issue 21, the dashboard's Features page).

``cairn_materializations.seconds`` holds the wall time of the run (reading the source and
writing the online store), as :class:`cairn.online.materialize.MaterializeResult` measures
it. Runs recorded before this revision have none (shown as unknown).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cairn_materializations", sa.Column("seconds", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cairn_materializations") as batch:
        batch.drop_column("seconds")
