"""A frozen copy of every ``cairn_*`` table as the release before the migration history
created them (each store's ``MetaData.create_all``, no version table), and one row for each.

Never edit this to follow a schema change: it is what old databases look like.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa

legacy = sa.MetaData()
T = sa.Table
C = sa.Column
Str, Int, Big, Text, Flt = sa.String, sa.Integer, sa.BigInteger, sa.Text, sa.Float
Bool, When = sa.Boolean, sa.DateTime(timezone=True)

T("cairn_definitions", legacy,
  C("project", Str(128), primary_key=True), C("kind", Str(32), primary_key=True),
  C("name", Str(256), primary_key=True), C("version", Int, primary_key=True),
  C("definition_hash", Str(64), nullable=False), C("spec", Text, nullable=False),
  C("applied_at", When, nullable=False), C("applied_by", Str(128), nullable=False))  # fmt: skip
T("cairn_materializations", legacy,
  C("id", Int, primary_key=True, autoincrement=True),
  C("project", Str(128), nullable=False, index=True), C("view", Str(256), nullable=False),
  C("store", Str(512), nullable=False), C("definition_hash", Str(64), nullable=False),
  C("kind", Str(16), nullable=False), C("start_us", Big, nullable=True),
  C("end_us", Big, nullable=False), C("max_event_us", Big, nullable=True),
  C("rows_written", Big, nullable=False), C("finished_at", When, nullable=False))  # fmt: skip
T("cairn_quality_runs", legacy,
  C("id", Int, primary_key=True, autoincrement=True), C("project", Str(128), nullable=False),
  C("suite", Str(256), nullable=False), C("suite_digest", Str(64), nullable=False),
  C("data", Str(1024), nullable=False), C("rows", Big, nullable=False),
  C("started_at", When, nullable=False), C("seconds", Flt, nullable=False),
  C("queries", Int, nullable=False), C("verdict", Str(16), nullable=False),
  C("action", Str(16), nullable=False), C("health", Flt, nullable=True),
  C("checks", Int, nullable=False), C("failed", Int, nullable=False),
  C("result", Text, nullable=False),
  sa.Index("ix_cairn_quality_runs_suite", "project", "suite", "started_at"))  # fmt: skip
T("cairn_quality_checks", legacy,
  C("run_id", Int, sa.ForeignKey("cairn_quality_runs.id"), primary_key=True),
  C("position", Int, primary_key=True), C("expectation", Str(128), nullable=False),
  C("target", Str(512), nullable=False), C("layer", Str(16), nullable=False),
  C("severity", Str(16), nullable=False), C("dimension", Str(16), nullable=False),
  C("success", Bool, nullable=False), C("observed", Text, nullable=True),
  C("unexpected_count", Big, nullable=True), C("unexpected_share", Flt, nullable=True))  # fmt: skip
T("cairn_monitor_runs", legacy,
  C("id", Int, primary_key=True, autoincrement=True), C("project", Str(128), nullable=False),
  C("deployment", Str(256), nullable=False), C("model_name", Str(256), nullable=False),
  C("model_version", Str(64), nullable=False), C("window_start", Big, nullable=False),
  C("window_end", Big, nullable=False), C("as_of", Big, nullable=False),
  C("anchor", Str(32), nullable=False), C("status", Str(16), nullable=False),
  C("message", Text, nullable=False), C("rows", Big, nullable=False),
  C("segment_column", Str(256), nullable=True), C("segments", Text, nullable=False),
  C("performance", Text, nullable=True), C("started_at", When, nullable=False),
  C("seconds", Flt, nullable=False),
  sa.Index("ix_cairn_monitor_runs_deployment", "project", "deployment", "id"))  # fmt: skip
T("cairn_monitor_results", legacy,
  C("run_id", Int, sa.ForeignKey("cairn_monitor_runs.id"), primary_key=True),
  C("segment", Str(512), primary_key=True), C("feature", Str(256), primary_key=True),
  C("kind", Str(16), nullable=False), C("status", Str(16), nullable=False),
  C("band", Str(16), nullable=True), C("drifted", Bool, nullable=False),
  C("rows", Big, nullable=False), C("psi", Flt, nullable=True),
  C("detail", Text, nullable=False))  # fmt: skip
T("cairn_monitor_signals", legacy,
  C("id", Int, primary_key=True, autoincrement=True),
  C("run_id", Int, sa.ForeignKey("cairn_monitor_runs.id"), nullable=False),
  C("project", Str(128), nullable=False), C("deployment", Str(256), nullable=False),
  C("kind", Str(32), nullable=False), C("subject", Str(256), nullable=False),
  C("segment", Str(512), nullable=True), C("band", Str(16), nullable=False),
  C("value", Flt, nullable=False), C("at", Big, nullable=False), C("body", Text, nullable=False),
  sa.Index("ix_cairn_monitor_signals_deployment", "project", "deployment", "at"))  # fmt: skip
T("cairn_monitor_changes", legacy,
  C("run_id", Int, sa.ForeignKey("cairn_monitor_runs.id"), primary_key=True),
  C("segment", Str(512), primary_key=True), C("subject", Str(256), primary_key=True),
  C("previous_run_id", Int, nullable=True), C("previous", Str(16), nullable=True),
  C("current", Str(16), nullable=False), C("value", Flt, nullable=True))  # fmt: skip
T("cairn_audit_log", legacy,
  C("project", Str(128), primary_key=True),
  C("seq", Big, primary_key=True, autoincrement=False), C("at", Str(40), nullable=False),
  C("actor", Str(128), nullable=False), C("action", Str(128), nullable=False),
  C("subject", Str(512), nullable=False), C("details", Text, nullable=False),
  C("prev_hash", Str(64), nullable=False), C("hash", Str(64), nullable=False),
  sa.Index("ix_cairn_audit_log_subject", "project", "subject"),
  sa.Index("ix_cairn_audit_log_action", "project", "action"))  # fmt: skip
T("cairn_audit_head", legacy,
  C("project", Str(128), primary_key=True), C("seq", Big, nullable=False),
  C("hash", Str(64), nullable=False))  # fmt: skip
T("cairn_approvals", legacy,
  C("id", Int, primary_key=True, autoincrement=True), C("project", Str(128), nullable=False),
  C("model", Str(256), nullable=False), C("version", Str(64), nullable=False),
  C("reviewer", Str(128), nullable=False), C("ticket", Str(128), nullable=False),
  C("decision", Str(16), nullable=False), C("note", Text, nullable=False),
  C("author", Str(128), nullable=False), C("at", When, nullable=False),
  sa.Index("ix_cairn_approvals_version", "project", "model", "version"))  # fmt: skip
T("cairn_alias_moves", legacy,
  C("id", Int, primary_key=True, autoincrement=True), C("project", Str(128), nullable=False),
  C("model", Str(256), nullable=False), C("alias", Str(128), nullable=False),
  C("version", Str(64), nullable=True), C("previous", Str(64), nullable=True),
  C("actor", Str(128), nullable=False), C("reason", Text, nullable=False),
  C("at", When, nullable=False),
  sa.Index("ix_cairn_alias_moves_alias", "project", "model", "alias"))  # fmt: skip
T("cairn_rollouts", legacy,
  C("project", Str(128), primary_key=True), C("deployment", Str(128), primary_key=True),
  C("version", Int, primary_key=True, autoincrement=False), C("spec", Text, nullable=False),
  C("actor", Str(128), nullable=False), C("reason", Text, nullable=False),
  C("at", When, nullable=False))  # fmt: skip


def example_row(table: sa.Table, project: str) -> dict[str, Any]:
    """One row for ``table``, every column filled (ids 1, so foreign keys point at run 1)."""
    at = datetime(2026, 3, 1, 12, 30)
    row: dict[str, Any] = {}
    for column in table.columns:
        kind = column.type
        if column.name == "project":
            row[column.name] = project
        elif isinstance(kind, sa.DateTime):
            row[column.name] = at
        elif isinstance(kind, sa.Boolean):
            row[column.name] = True
        elif isinstance(kind, sa.Integer):
            row[column.name] = 1
        elif isinstance(kind, sa.Float):
            row[column.name] = 0.25
        elif isinstance(kind, sa.Text):  # the stores keep JSON in their text columns
            row[column.name] = json.dumps({"column": column.name})
        else:
            row[column.name] = column.name[: getattr(kind, "length", None) or 64]
    return row
