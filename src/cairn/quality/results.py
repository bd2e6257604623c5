"""Validation results: per check and per run, JSON-ready and read back from the result store.

Example
-------
>>> from cairn.quality.severity import Action
>>> r = ValidationResult("s", "d" * 64, "frame", 0, [], datetime(2026, 1, 1, tzinfo=UTC), 0.1, 1)
>>> r.verdict, r.action, r.health.score
('passed', <Action.NONE: 'none'>, None)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from cairn.quality.health import HealthScore, health_score
from cairn.quality.severity import Action, Dimension, Layer, Severity


def jsonable(value: Any) -> Any:
    """``value`` with dates, decimals, numpy scalars, bytes and NaN made JSON-safe."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return str(value)


@dataclass(frozen=True)
class CheckResult:
    """The result of one check.

    ``unexpected_share`` is unexpected / rows considered (non-missing rows; all rows for the
    null check), as Great Expectations' ``unexpected_percent`` / 100. ``failing_rows`` holds up
    to the suite's ``sample_rows`` failing rows as ``{"row": position, "values": {column: value}}``
    (``row`` is the 0-based position in the data). ``action`` is what a failure of this check does.
    """

    index: int
    expectation: str
    kwargs: Mapping[str, Any]
    layer: Layer
    severity: Severity
    dimension: Dimension
    action: Action
    success: bool
    observed: Any
    unexpected_count: int | None = None
    unexpected_share: float | None = None
    considered: int | None = None
    missing_count: int | None = None
    failing_rows: Sequence[Mapping[str, Any]] = field(default_factory=list)
    details: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""

    @property
    def target(self) -> str:
        """The column(s) the check is about, for display."""
        k = self.kwargs
        if "column_A" in k:
            return f"{k['column_A']} > {k.get('column_B')}"
        if "column" in k:
            return str(k["column"])
        if k.get("column_list"):
            return ", ".join(map(str, k["column_list"]))
        return "(table)"

    @property
    def score(self) -> float:
        """Share of what the check looked at that passed (0 or 1 for aggregate checks)."""
        if self.unexpected_share is not None and self.considered:
            return 1.0 - self.unexpected_share
        return 1.0 if self.success else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "index": self.index,
            "expectation": self.expectation,
            "kwargs": jsonable(self.kwargs),
            "layer": str(self.layer),
            "severity": str(self.severity),
            "dimension": str(self.dimension),
            "action": str(self.action),
            "success": self.success,
            "observed": jsonable(self.observed),
            "unexpected_count": self.unexpected_count,
            "unexpected_share": self.unexpected_share,
            "considered": self.considered,
            "missing_count": self.missing_count,
            "failing_rows": jsonable(self.failing_rows),
            "details": jsonable(self.details),
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CheckResult:
        """Inverse of :meth:`to_dict` (values come back as JSON types)."""
        return cls(
            index=int(d["index"]),
            expectation=str(d["expectation"]),
            kwargs=dict(d["kwargs"]),
            layer=Layer(d["layer"]),
            severity=Severity(d["severity"]),
            dimension=Dimension(d["dimension"]),
            action=Action(d["action"]),
            success=bool(d["success"]),
            observed=d.get("observed"),
            unexpected_count=d.get("unexpected_count"),
            unexpected_share=d.get("unexpected_share"),
            considered=d.get("considered"),
            missing_count=d.get("missing_count"),
            failing_rows=list(d.get("failing_rows") or []),
            details=dict(d.get("details") or {}),
            message=str(d.get("message") or ""),
        )


@dataclass(frozen=True)
class ValidationResult:
    """The result of running a suite over some data.

    ``verdict`` is ``passed`` when every check passed; ``action`` is the gravest action among
    the failed checks (``none`` when nothing failed); ``queries`` counts the DuckDB queries
    over the data: one aggregate query, plus one for failing rows when a row-level check
    failed (plus a small range probe when integer bounds are needed and neither file metadata
    nor memory has them).
    """

    suite: str
    suite_digest: str
    data: str
    rows: int
    checks: Sequence[CheckResult]
    started_at: datetime
    seconds: float
    queries: int
    run_id: int | None = None

    @property
    def verdict(self) -> str:
        """``passed`` or ``failed``."""
        return "passed" if all(c.success for c in self.checks) else "failed"

    @property
    def action(self) -> Action:
        """The gravest action among failed checks."""
        return Action.worst(c.action for c in self.failures)

    @property
    def failures(self) -> list[CheckResult]:
        """The checks that failed."""
        return [c for c in self.checks if not c.success]

    @property
    def halting(self) -> list[CheckResult]:
        """The failed checks whose action is halt."""
        return [c for c in self.failures if c.action is Action.HALT]

    @property
    def health(self) -> HealthScore:
        """The health score (see :mod:`cairn.quality.health`)."""
        return health_score((c.dimension, c.severity, c.score) for c in self.checks)

    def describe_failures(self, checks: Sequence[CheckResult] | None = None) -> str:
        """``#3 expect_… (amount): 12 unexpected (0.4%); #5 …`` for error messages."""
        parts = []
        for c in self.failures if checks is None else checks:
            if c.unexpected_count is not None and c.unexpected_share is not None:
                found = f"{c.unexpected_count} unexpected ({c.unexpected_share:.2%})"
            else:
                found = f"observed {_short(c.observed)}"
            reason = f", {c.message}" if c.message else ""
            parts.append(f"#{c.index} {c.expectation} ({c.target}) [{c.severity}]: {found}{reason}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with verdict, action and health."""
        return {
            "suite": self.suite,
            "suite_digest": self.suite_digest,
            "data": self.data,
            "rows": self.rows,
            "started_at": self.started_at.isoformat(),
            "seconds": self.seconds,
            "queries": self.queries,
            "run_id": self.run_id,
            "verdict": self.verdict,
            "action": str(self.action),
            "health": self.health.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), indent=1)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ValidationResult:
        """Inverse of :meth:`to_dict`."""
        started = datetime.fromisoformat(d["started_at"])
        return cls(
            suite=d["suite"],
            suite_digest=d["suite_digest"],
            data=d["data"],
            rows=int(d["rows"]),
            checks=[CheckResult.from_dict(c) for c in d["checks"]],
            started_at=started if started.tzinfo else started.replace(tzinfo=UTC),
            seconds=float(d["seconds"]),
            queries=int(d["queries"]),
            run_id=d.get("run_id"),
        )


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = json.dumps(jsonable(value))
    return text if len(text) <= 60 else text[:57] + "..."
