"""0005: what each materialization run saw of its source (issue 17, item 6).

``cairn_materializations.source_files`` holds, as JSON, the file set of the view's source when
an incremental run read it (per file: size and modification time; a Delta table: its files
too). The next incremental run compares it with the files it finds and materializes the rows
of new or rewritten files whatever their created time, so a row that lands behind the
watermark still reaches the online store. The column is written in the same row (one
statement) as the run's watermark. Runs recorded before this revision have none: the first
incremental run after the upgrade reads the whole source once.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cairn_materializations", sa.Column("source_files", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cairn_materializations") as batch:
        batch.drop_column("source_files")
