"""The training set's own gate: checks that must pass before a model is fitted.

Failures stop training (``DataError`` listing each); warnings are logged with the run. Results
of the project's data quality suites can be passed in and are logged beside these.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"y": [0, 1] * 10, "x": [1.0, 2.0] + [None] * 18})
>>> report = check_training_set(
...     frame, "y", ["x"], train_rows=range(10), validation_rows=range(10, 20))
>>> report.passed, [(c.name, c.level) for c in report.checks if c.level != "pass"]
(True, [('feature_missing_share:x', 'warn')])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from cairn.core.errors import DataError

Level = Literal["pass", "warn", "fail"]
MIN_ROWS = 20
WARN_MISSING_SHARE = 0.5


@dataclass(frozen=True)
class QualityCheck:
    """One check: its name, level (pass/warn/fail), a message and the measured value."""

    name: str
    level: Level
    message: str
    value: float | None = None


@dataclass(frozen=True)
class QualityReport:
    """Every check of a training set; ``passed`` unless one failed."""

    checks: list[QualityCheck]
    suites: list[dict[str, Any]] = field(default_factory=list)
    """Results of external data quality suites, as given."""

    @property
    def passed(self) -> bool:
        """No check failed (warnings allowed)."""
        return not any(c.level == "fail" for c in self.checks) and all(
            bool(s.get("passed", True)) for s in self.suites
        )

    @property
    def failures(self) -> list[QualityCheck]:
        """The failed checks."""
        return [c for c in self.checks if c.level == "fail"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (logged as ``quality.json``)."""
        counts = {lvl: sum(c.level == lvl for c in self.checks) for lvl in ("pass", "warn", "fail")}
        return {
            "suite": "cairn.training",
            "passed": self.passed,
            "counts": counts,
            "checks": [asdict(c) for c in self.checks],
            "suites": list(self.suites),
        }

    def raise_for_failures(self, where: str) -> None:
        """DataError naming every failed check."""
        failed = self.failures
        if failed:
            listing = "; ".join(f"{c.name}: {c.message}" for c in failed)
            raise DataError(f"{where}: the training set failed {len(failed)} check(s): {listing}")
        bad_suites = [s.get("name", "suite") for s in self.suites if not s.get("passed", True)]
        if bad_suites:
            raise DataError(f"{where}: data quality suite(s) failed: {', '.join(bad_suites)}.")


def check_training_set(
    frame: pd.DataFrame,
    label: str,
    features: Sequence[str],
    *,
    train_rows: Sequence[int] | npt.NDArray[np.int64],
    validation_rows: Sequence[int] | npt.NDArray[np.int64],
    test_rows: Sequence[int] | npt.NDArray[np.int64] = (),
    suites: Sequence[Mapping[str, Any]] = (),
) -> QualityReport:
    """Rows, a binary label with both classes in each part (the test part when there is one),
    and missing or constant features."""
    checks: list[QualityCheck] = []
    n = len(frame)
    checks.append(
        QualityCheck(
            "rows_minimum",
            "pass" if n >= MIN_ROWS else "fail",
            f"{n} rows (at least {MIN_ROWS} needed)",
            float(n),
        )
    )
    y = frame[label]
    values = set(pd.unique(y.dropna()).tolist())
    nulls = int(y.isna().sum())
    binary = values <= {0, 1} and nulls == 0
    checks.append(
        QualityCheck(
            "label_binary",
            "pass" if binary else "fail",
            f"label {label!r} must be 0/1 without missing values; got values "
            f"{sorted(values, key=str)[:5]} and {nulls} missing",
            float(nulls),
        )
    )
    parts = [("train", train_rows), ("validation", validation_rows)]
    if len(test_rows):
        parts.append(("test", test_rows))
    for part, rows in parts:
        part_y = y.iloc[np.asarray(rows, dtype=np.int64)]
        classes = sorted(set(pd.unique(part_y.dropna()).tolist()), key=str)
        checks.append(
            QualityCheck(
                f"both_classes:{part}",
                "pass" if len(classes) >= 2 else "fail",
                f"the {part} rows hold label value(s) {classes} ({len(part_y)} rows); both "
                f"0 and 1 are needed",
                float(len(classes)),
            )
        )
    for name in features:
        col = frame[name]
        share = float(col.isna().mean()) if n else 1.0
        level: Level = "fail" if share >= 1.0 else "warn" if share > WARN_MISSING_SHARE else "pass"
        checks.append(
            QualityCheck(
                f"feature_missing_share:{name}",
                level,
                f"{share:.1%} of {name!r} is missing",
                share,
            )
        )
        if share < 1.0 and col.nunique(dropna=True) <= 1:
            checks.append(
                QualityCheck(
                    f"feature_constant:{name}", "warn", f"{name!r} has a single value", 1.0
                )
            )
    return QualityReport(checks, [dict(s) for s in suites])
