"""0002: index the monitoring signals by run.

:class:`cairn.monitoring.history.MonitorHistory` reads a run's signals with
``WHERE run_id = ? ORDER BY id`` for every run it loads (``get``, ``latest``, the report and
the dashboard) and counts them with ``WHERE run_id IN (...) GROUP BY run_id`` for every page
of ``runs``. The only index on ``cairn_monitor_signals`` leads with ``(project, deployment)``,
and PostgreSQL does not index a foreign key by itself, so each of those reads scanned every
signal ever recorded: the table grows by a few rows per column and segment of every run.
``(run_id, id)`` answers both reads from the index, in order.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cairn_monitor_signals_run", "cairn_monitor_signals", ["run_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_cairn_monitor_signals_run", table_name="cairn_monitor_signals")
