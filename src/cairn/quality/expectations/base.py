"""The contract of an expectation: declared arguments in, SQL aggregates and a verdict out.

An expectation never touches data itself. Given its bound arguments and a
:class:`~cairn.quality.context.CompileContext`, :meth:`Expectation.plan` returns a
:class:`Plan`: SQL aggregate expressions (the compiler folds the aggregates of every check of a
suite into one query), a function turning their values into an :class:`Outcome`, and, for
row-level checks, a :class:`RowFilter` that finds failing rows when the check fails.

:func:`row_level` builds the plan of a Great Expectations "column map" expectation: rows where
the column is missing are not considered (except by the null check itself), ``mostly`` is the
share of considered rows that must pass, and a check over no considered rows passes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cairn.quality.context import CompileContext
from cairn.quality.params import Param
from cairn.quality.severity import Dimension, Layer

Values = Mapping[str, Any]


@dataclass(frozen=True)
class Outcome:
    """What one check found.

    ``considered`` is the number of rows a row-level check looked at (non-missing rows; all
    rows for the null check), ``unexpected_count`` how many of them failed. Aggregate checks
    leave both None.
    """

    success: bool
    observed: Any
    unexpected_count: int | None = None
    considered: int | None = None
    missing_count: int | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True)
class RowFilter:
    """How to find a check's failing rows.

    ``predicate`` is SQL over one row, true where the row fails. ``columns`` are shown with
    each failing row. With ``exact_count`` the aggregate query could only tell pass from fail
    (uniqueness checks): the number of failing rows is counted by the failing-row query and
    handed back to ``evaluate`` as ``values["unexpected"]``.
    """

    predicate: str
    columns: tuple[str, ...]
    exact_count: bool = False


@dataclass(frozen=True)
class Plan:
    """A compiled check: aggregates by local key, how to judge them, and its failing rows."""

    aggregates: Mapping[str, str]
    evaluate: Callable[[Values], Outcome]
    rows: RowFilter | None = None


class Expectation(ABC):
    """One kind of check. Subclasses declare ``name``, ``layer``, ``dimension``, ``params``."""

    name: ClassVar[str]
    layer: ClassVar[Layer]
    dimension: ClassVar[Dimension]
    params: ClassVar[tuple[Param, ...]]
    schema_check: ClassVar[bool] = False
    """True for checks about which columns exist: their columns need not be in the data."""

    def columns(self, args: Mapping[str, Any]) -> list[str]:
        """The columns of the validated table the check reads (checked to exist first)."""
        out: list[str] = []
        for key in ("column", "column_A", "column_B", "label_column", "timestamp_column"):
            if isinstance(args.get(key), str):
                out.append(args[key])
        for key in ("column_list",):
            if isinstance(args.get(key), list):
                out.extend(args[key])
        return list(dict.fromkeys(out))

    def range_columns(self, args: Mapping[str, Any]) -> list[str]:
        """Integer columns whose min/max the compiler should probe before planning (one small
        query for the whole suite); their ranges are then in :meth:`CompileContext.int_range`."""
        return []

    def check_args(self, args: Mapping[str, Any], owner: str) -> None:  # noqa: B027
        """Checks across arguments (e.g. at least one bound); raise SuiteError naming owner."""

    @abstractmethod
    def plan(self, args: Mapping[str, Any], ctx: CompileContext) -> Plan:
        """The SQL aggregates and the verdict of this check on the context's table."""


def row_level(
    ctx: CompileContext,
    column: str | None,
    unexpected: str,
    *,
    mostly: float,
    considered: str | None = None,
    columns: tuple[str, ...] = (),
) -> Plan:
    """The plan of a row-level ("column map") check.

    Parameters
    ----------
    column:
        The column whose missing values are left out (None: every row is considered unless
        ``considered`` says otherwise).
    unexpected:
        SQL true for a considered row that fails.
    considered:
        SQL true for the rows the check looks at (default: the column is present).
    """
    if considered is None:
        considered = ctx.present(column) if column is not None else "TRUE"
    failing = f"({considered}) AND coalesce(({unexpected}), TRUE)"
    aggregates = {
        "considered": f"count_if({considered})",
        "unexpected": f"count_if({failing})",
    }
    shown = columns or ((column,) if column is not None else ())

    def evaluate(v: Values) -> Outcome:
        n_considered, bad = int(v["considered"] or 0), int(v["unexpected"] or 0)
        missing = int(v["__rows"]) - n_considered
        return Outcome(
            success=mostly_success(n_considered, bad, mostly),
            observed=_share(bad, n_considered),
            unexpected_count=bad,
            considered=n_considered,
            missing_count=missing,
        )

    return Plan(aggregates, evaluate, RowFilter(failing, shown))


def mostly_success(considered: int, unexpected: int, mostly: float) -> bool:
    """Great Expectations' rule: passing share >= mostly; vacuously true with no rows.

    Example
    -------
    >>> mostly_success(100, 5, 0.95), mostly_success(100, 6, 0.95), mostly_success(0, 0, 1.0)
    (True, False, True)
    """
    if considered == 0:
        return True
    return (considered - unexpected) / considered >= mostly


def _share(bad: int, considered: int) -> float:
    return bad / considered if considered else 0.0


def within(
    value: Any,
    min_value: Any,
    max_value: Any,
    strict_min: bool = False,
    strict_max: bool = False,
) -> bool:
    """Whether ``value`` lies between the bounds (None: unbounded on that side; a None value
    is never within).

    Example
    -------
    >>> within(5, 1, 5), within(5, 1, 5, strict_max=True), within(None, 1, 5)
    (True, False, False)
    """
    if value is None:
        return False
    if min_value is not None and (value <= min_value if strict_min else value < min_value):
        return False
    return max_value is None or (value < max_value if strict_max else value <= max_value)


BETWEEN_PARAMS = (
    Param("min_value", "bound", nullable=True),
    Param("max_value", "bound", nullable=True),
    Param("strict_min", "bool", default=False),
    Param("strict_max", "bool", default=False),
)
"""The bounds of every ``…_to_be_between`` expectation (at least one must be given)."""


def check_bounds(args: Mapping[str, Any], owner: str) -> None:
    """At least one bound, and min <= max when both are numbers."""
    from cairn.quality.errors import SuiteError

    lo, hi = args.get("min_value"), args.get("max_value")
    if lo is None and hi is None:
        raise SuiteError(f"{owner}: give min_value, max_value or both; both are null.")
    if type(lo) is type(hi) and lo is not None and hi is not None and lo > hi:
        raise SuiteError(f"{owner}: min_value {lo!r} is greater than max_value {hi!r}.")
