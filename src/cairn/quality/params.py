"""Declared arguments of expectations: names, kinds, defaults, and the checks that run on them.

Each expectation lists its :class:`Param` s; :func:`bind_args` checks a check's keyword
arguments against them in one place and returns them with defaults filled in, or raises a
:class:`~cairn.quality.errors.SuiteError` naming the argument, what is allowed and what was
received. Arguments every Great Expectations expectation accepts (``result_format``,
``catch_exceptions``, ``include_config``) are accepted and ignored.

Example
-------
>>> params = (Param("column", "column", required=True), Param("mostly", "fraction", default=1.0))
>>> bind_args({"column": "age"}, params, owner="check #1")
{'column': 'age', 'mostly': 1.0}
>>> bind_args({"column": "age", "mostly": 2}, params, owner="check #1")
Traceback (most recent call last):
...
cairn.quality.errors.SuiteError: check #1: argument 'mostly' must be a number in [0, 1]; got 2.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cairn.quality.errors import SuiteError

IGNORED = frozenset({"result_format", "catch_exceptions", "include_config"})
"""Great Expectations' universal arguments that change nothing here."""

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(us|ms|s|m|h|d|w)\s*$")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool, datetime, date))


def _column(v: Any) -> Any:
    if isinstance(v, str) and v:
        return v
    raise TypeError("a column name (a non-empty string)")


def _columns(v: Any) -> Any:
    if isinstance(v, (list, tuple)) and v and all(isinstance(c, str) and c for c in v):
        if len(set(v)) != len(v):
            raise TypeError("a list of distinct column names")
        return list(v)
    raise TypeError("a non-empty list of column names")


def _number(v: Any) -> Any:
    if _is_number(v):
        return v
    raise TypeError("a number")


def _bound(v: Any) -> Any:
    if v is None or _is_number(v) or isinstance(v, (str, datetime, date)):
        return v
    raise TypeError("a number, a date/time (ISO string) or null")


def _fraction(v: Any) -> Any:
    if _is_number(v) and 0 <= v <= 1:
        return float(v)
    raise TypeError("a number in [0, 1]")


def _positive(v: Any) -> Any:
    if _is_number(v) and v > 0:
        return v
    raise TypeError("a positive number")


def _count(v: Any) -> Any:
    if v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 0):
        return v
    raise TypeError("a non-negative integer or null")


def _bool(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    raise TypeError("true or false")


def _string(v: Any) -> Any:
    if isinstance(v, str) and v:
        return v
    raise TypeError("a non-empty string")


def _scalar(v: Any) -> Any:
    if _is_scalar(v) and v is not None:
        return v
    raise TypeError("a single value (string, number, boolean or date)")


def _values(v: Any) -> Any:
    if isinstance(v, (list, tuple, set, frozenset)) and all(_is_scalar(x) for x in v):
        return list(v)
    raise TypeError("a list of values")


def _quantile_ranges(v: Any) -> Any:
    if not isinstance(v, Mapping) or set(v) != {"quantiles", "value_ranges"}:
        raise TypeError("a mapping with 'quantiles' and 'value_ranges'")
    qs, ranges = v["quantiles"], v["value_ranges"]
    if not isinstance(qs, (list, tuple)) or not qs or not all(_is_number(q) for q in qs):
        raise TypeError("a mapping whose 'quantiles' is a non-empty list of numbers")
    if not all(0 <= q <= 1 for q in qs):
        raise TypeError("a mapping whose 'quantiles' lie in [0, 1]")
    ok = isinstance(ranges, (list, tuple)) and len(ranges) == len(qs)
    ok = ok and all(
        isinstance(r, (list, tuple)) and len(r) == 2 and all(x is None or _is_number(x) for x in r)
        for r in ranges
    )
    if not ok:
        raise TypeError("a mapping with one [min, max] pair in 'value_ranges' per quantile")
    return {"quantiles": [float(q) for q in qs], "value_ranges": [list(r) for r in ranges]}


def _duration(v: Any) -> Any:
    if isinstance(v, timedelta):
        return v.total_seconds()
    if _is_number(v) and v > 0:
        return float(v)
    if isinstance(v, str) and (m := _DURATION.match(v)):
        return float(m.group(1)) * _UNITS[m.group(2)]
    raise TypeError("a duration such as '36h', '7d', '90m' or a number of seconds")


KINDS: dict[str, Callable[[Any], Any]] = {
    "column": _column,
    "columns": _columns,
    "number": _number,
    "bound": _bound,
    "fraction": _fraction,
    "positive": _positive,
    "count": _count,
    "bool": _bool,
    "string": _string,
    "scalar": _scalar,
    "values": _values,
    "quantile_ranges": _quantile_ranges,
    "duration": _duration,
}
"""Argument kind -> converter that returns the value or raises TypeError(expected)."""

_SCALAR = ["string", "number", "boolean"]
KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "column": {"type": "string", "minLength": 1},
    "columns": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "minItems": 1,
        "uniqueItems": True,
    },
    "number": {"type": "number"},
    "bound": {"type": ["number", "string"]},
    "fraction": {"type": "number", "minimum": 0, "maximum": 1},
    "positive": {"type": "number", "exclusiveMinimum": 0},
    "count": {"type": "integer", "minimum": 0},
    "bool": {"type": "boolean"},
    "string": {"type": "string", "minLength": 1},
    "scalar": {"type": _SCALAR},
    "values": {"type": "array", "items": {"type": [*_SCALAR, "null"]}},
    "quantile_ranges": {
        "type": "object",
        "required": ["quantiles", "value_ranges"],
        "additionalProperties": False,
        "properties": {
            "quantiles": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "number", "minimum": 0, "maximum": 1},
            },
            "value_ranges": {
                "type": "array",
                "items": {
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 2,
                    "items": {"type": ["number", "null"]},
                },
            },
        },
    },
    "duration": {
        "anyOf": [
            {"type": "string", "pattern": _DURATION.pattern},
            {"type": "number", "exclusiveMinimum": 0},
        ]
    },
}
"""Argument kind -> the JSON Schema of what its converter accepts (the suite schema is built
from the declared :class:`Param` s with it)."""


@dataclass(frozen=True)
class Param:
    """One declared argument: its name, kind (a key of :data:`KINDS`), and default.

    A parameter with ``nullable=True`` also accepts null (``None``); one with ``choices``
    accepts only those values.
    """

    name: str
    kind: str
    required: bool = False
    default: Any = None
    nullable: bool = False
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Param {self.name!r}: unknown kind {self.kind!r}.")

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of this argument's values (null too when it may be left out)."""
        values: dict[str, Any] = dict(KIND_SCHEMAS[self.kind])
        if self.choices:
            values["enum"] = list(self.choices)
        # a null argument counts as not given: allowed unless the argument is required
        nullable = self.nullable or not self.required
        out = {"anyOf": [values, {"type": "null"}]} if nullable else values
        if self.default is not None:
            out = {**out, "default": self.default}
        return out


def bind_args(
    kwargs: Mapping[str, Any], params: tuple[Param, ...], *, owner: str
) -> dict[str, Any]:
    """Check ``kwargs`` against ``params``; the arguments with defaults filled in."""
    known = {p.name: p for p in params}
    for name in kwargs:
        if name in known or name in IGNORED:
            continue
        if name in ("row_condition", "condition_parser"):
            raise SuiteError(f"{owner}: argument {name!r} is not supported; filter the data first.")
        close = difflib.get_close_matches(str(name), list(known), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise SuiteError(
            f"{owner}: unknown argument {name!r}{hint}; allowed arguments are "
            f"{', '.join(known) or 'none'}."
        )
    out: dict[str, Any] = {}
    for p in params:
        if p.name not in kwargs or (kwargs[p.name] is None and not p.nullable):
            if p.required:
                raise SuiteError(f"{owner}: the argument {p.name!r} is required.")
            out[p.name] = p.default
            continue
        value = kwargs[p.name]
        if value is None:
            out[p.name] = None
            continue
        try:
            out[p.name] = KINDS[p.kind](value)
        except TypeError as exc:
            raise SuiteError(
                f"{owner}: argument {p.name!r} must be {exc}; got {value!r}."
            ) from None
        if p.choices and out[p.name] not in p.choices:
            raise SuiteError(
                f"{owner}: argument {p.name!r} must be one of "
                f"{', '.join(repr(c) for c in p.choices)}; got {value!r}."
            )
    return out
