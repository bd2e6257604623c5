"""0001: every ``cairn_*`` table as the stores created them before the schema had a history.

The metadata store (definitions, materializations), the quality store (runs, checks), the
monitoring history (runs, results, signals, changes), the registry (audit log and head,
approvals, alias moves) and the rollout store (rollouts).

That release created its tables lazily, store by store, so a database it made may hold only
some of them: this revision creates each table (with its indexes) only when it is missing, and
leaves an existing one and its rows as they are. On such a database, running it amounts to
stamping it ``0001``.

Revision ID: 0001
Revises: (none)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Index = tuple[str, list[str]]


def _create(name: str, *columns: sa.Column[object] | sa.Constraint, indexes: list[Index]) -> None:
    if sa.inspect(op.get_bind()).has_table(name):
        return
    op.create_table(name, *columns)
    for index_name, index_columns in indexes:
        op.create_index(index_name, name, index_columns)


def upgrade() -> None:
    _create(
        "cairn_definitions",
        sa.Column("project", sa.String(128), primary_key=True),
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(256), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("definition_hash", sa.String(64), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied_by", sa.String(128), nullable=False),
        indexes=[],
    )
    _create(
        "cairn_materializations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("view", sa.String(256), nullable=False),
        sa.Column("store", sa.String(512), nullable=False),
        sa.Column("definition_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("start_us", sa.BigInteger, nullable=True),
        sa.Column("end_us", sa.BigInteger, nullable=False),
        sa.Column("max_event_us", sa.BigInteger, nullable=True),
        sa.Column("rows_written", sa.BigInteger, nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        indexes=[("ix_cairn_materializations_project", ["project"])],
    )
    _create(
        "cairn_quality_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("suite", sa.String(256), nullable=False),
        sa.Column("suite_digest", sa.String(64), nullable=False),
        sa.Column("data", sa.String(1024), nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("queries", sa.Integer, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("health", sa.Float, nullable=True),
        sa.Column("checks", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        indexes=[("ix_cairn_quality_runs_suite", ["project", "suite", "started_at"])],
    )
    _create(
        "cairn_quality_checks",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("cairn_quality_runs.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("expectation", sa.String(128), nullable=False),
        sa.Column("target", sa.String(512), nullable=False),
        sa.Column("layer", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("observed", sa.Text, nullable=True),
        sa.Column("unexpected_count", sa.BigInteger, nullable=True),
        sa.Column("unexpected_share", sa.Float, nullable=True),
        indexes=[],
    )
    _monitoring()
    _registry()
    _create(
        "cairn_rollouts",
        sa.Column("project", sa.String(128), primary_key=True),
        sa.Column("deployment", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        indexes=[],
    )


def _monitoring() -> None:
    _create(
        "cairn_monitor_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("deployment", sa.String(256), nullable=False),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("window_start", sa.BigInteger, nullable=False),
        sa.Column("window_end", sa.BigInteger, nullable=False),
        sa.Column("as_of", sa.BigInteger, nullable=False),
        sa.Column("anchor", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("segment_column", sa.String(256), nullable=True),
        sa.Column("segments", sa.Text, nullable=False),
        sa.Column("performance", sa.Text, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        indexes=[("ix_cairn_monitor_runs_deployment", ["project", "deployment", "id"])],
    )
    _create(
        "cairn_monitor_results",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("cairn_monitor_runs.id"), primary_key=True),
        sa.Column("segment", sa.String(512), primary_key=True),
        sa.Column("feature", sa.String(256), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("band", sa.String(16), nullable=True),
        sa.Column("drifted", sa.Boolean, nullable=False),
        sa.Column("rows", sa.BigInteger, nullable=False),
        sa.Column("psi", sa.Float, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
        indexes=[],
    )
    _create(
        "cairn_monitor_signals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("cairn_monitor_runs.id"), nullable=False),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("deployment", sa.String(256), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("segment", sa.String(512), nullable=True),
        sa.Column("band", sa.String(16), nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("at", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        indexes=[("ix_cairn_monitor_signals_deployment", ["project", "deployment", "at"])],
    )
    _create(
        "cairn_monitor_changes",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("cairn_monitor_runs.id"), primary_key=True),
        sa.Column("segment", sa.String(512), primary_key=True),
        sa.Column("subject", sa.String(256), primary_key=True),
        sa.Column("previous_run_id", sa.Integer, nullable=True),
        sa.Column("previous", sa.String(16), nullable=True),
        sa.Column("current", sa.String(16), nullable=False),
        sa.Column("value", sa.Float, nullable=True),
        indexes=[],
    )


def _registry() -> None:
    _create(
        "cairn_audit_log",
        sa.Column("project", sa.String(128), primary_key=True),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(512), nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        indexes=[
            ("ix_cairn_audit_log_subject", ["project", "subject"]),
            ("ix_cairn_audit_log_action", ["project", "action"]),
        ],
    )
    _create(
        "cairn_audit_head",
        sa.Column("project", sa.String(128), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        indexes=[],
    )
    _create(
        "cairn_approvals",
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
        indexes=[("ix_cairn_approvals_version", ["project", "model", "version"])],
    )
    _create(
        "cairn_alias_moves",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project", sa.String(128), nullable=False),
        sa.Column("model", sa.String(256), nullable=False),
        sa.Column("alias", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("previous", sa.String(64), nullable=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        indexes=[("ix_cairn_alias_moves_alias", ["project", "model", "alias"])],
    )


def downgrade() -> None:
    for name in (
        "cairn_rollouts",
        "cairn_alias_moves",
        "cairn_approvals",
        "cairn_audit_head",
        "cairn_audit_log",
        "cairn_monitor_changes",
        "cairn_monitor_signals",
        "cairn_monitor_results",
        "cairn_monitor_runs",
        "cairn_quality_checks",
        "cairn_quality_runs",
        "cairn_materializations",
        "cairn_definitions",
    ):
        op.drop_table(name)
