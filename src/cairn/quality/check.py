"""Checks: one expectation with its arguments, severity and layer, and where it was written.

A check is validated when its suite is built (see :mod:`cairn.quality.spec`); this module holds
the check itself and how one item of a suite file becomes a check, in either form::

    - expect_column_values_to_not_be_null: {column: id, severity: critical}   # short
    - type: expect_column_values_to_not_be_null                                # GX long form
      kwargs: {column: id}
      severity: critical
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cairn.core.errors import DefinitionError
from cairn.quality.errors import SuiteError
from cairn.quality.expectations.base import Expectation
from cairn.quality.severity import Action, Layer, Severity

CHECK_KEYS = ("severity", "layer", "meta", "description", "notes", "id", "rendered_content")
"""Keys of a check besides its expectation and arguments (GX's id/notes are ignored)."""


@dataclass(frozen=True)
class Location:
    """Where a check was written: its 1-based position and, from a file, the file and line."""

    index: int
    file: str | None = None
    line: int | None = None

    def describe(self, expectation: str) -> str:
        """``file.yaml:12: check #3 (expect_…)``."""
        where = f"{self.file}:{self.line}: " if self.file and self.line else ""
        return f"{where}check #{self.index} ({expectation})"


@dataclass(frozen=True)
class Check:
    """One check: an expectation name, its arguments, and optionally severity and layer.

    Example
    -------
    >>> Check("expect_column_values_to_be_between", {"column": "age", "min_value": 18},
    ...       severity="high").severity
    <Severity.HIGH: 'high'>
    """

    expectation: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity | str | None = None
    layer: Layer | str | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    location: Location | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        owner = self.describe()
        if not isinstance(self.kwargs, Mapping):
            raise SuiteError(f"{owner}: kwargs must be a mapping; got {self.kwargs!r}.")
        if not isinstance(self.meta, Mapping):
            raise SuiteError(f"{owner}: meta must be a mapping; got {self.meta!r}.")
        for key, enum in (("severity", Severity), ("layer", Layer)):
            value = getattr(self, key)
            if value is None:
                continue
            try:
                object.__setattr__(self, key, enum.parse(value, owner=f"{owner}: {key}"))
            except SuiteError:
                raise
            except DefinitionError as exc:
                raise SuiteError(str(exc)) from None

    def describe(self) -> str:
        """How errors name this check."""
        location = self.location or Location(0)
        if location.index == 0:
            return f"check ({self.expectation})"
        return location.describe(self.expectation)

    def to_dict(self) -> dict[str, Any]:
        """Great Expectations' long form, plus severity and layer when set."""
        out: dict[str, Any] = {"type": self.expectation, "kwargs": dict(self.kwargs)}
        if self.severity is not None:
            out["severity"] = str(self.severity)
        if self.layer is not None:
            out["layer"] = str(self.layer)
        if self.meta:
            out["meta"] = dict(self.meta)
        return out


@dataclass(frozen=True)
class ResolvedCheck:
    """A check with its expectation, bound arguments, effective severity, layer and action."""

    index: int
    check: Check
    expectation: Expectation
    args: dict[str, Any]
    severity: Severity
    layer: Layer
    action: Action

    @property
    def owner(self) -> str:
        """How errors name this check."""
        return self.check.describe()


def parse_check(item: Any, location: Location) -> Check:
    """One list item: the long form (``type``/``kwargs``) or the short ``{expect_…: args}``."""
    owner = location.describe("?")
    if not isinstance(item, Mapping):
        raise SuiteError(f"{owner}: a check must be a mapping; got {item!r}.")
    if "type" in item or "expectation_type" in item:
        name = item.get("type", item.get("expectation_type"))
        unknown = [k for k in item if k not in ("type", "expectation_type", "kwargs", *CHECK_KEYS)]
        if unknown:
            raise SuiteError(
                f"{location.describe(str(name))}: unknown key {unknown[0]!r}; a check has "
                f"type, kwargs, severity, layer and meta."
            )
        kwargs, extra = item.get("kwargs") or {}, item
    else:
        names = [k for k in item if str(k).startswith("expect_")]
        if len(names) != 1:
            raise SuiteError(
                f"{owner}: write a check as {{expect_…: {{arguments}}}} or with 'type' and "
                f"'kwargs'; got keys {', '.join(map(str, item))}."
            )
        name = names[0]
        stray = [k for k in item if k != name and k not in CHECK_KEYS]
        if stray:
            raise SuiteError(
                f"{location.describe(name)}: unknown key {stray[0]!r} beside the expectation; "
                f"allowed: {', '.join(CHECK_KEYS[:3])}."
            )
        args = item[name] or {}
        if not isinstance(args, Mapping):
            raise SuiteError(
                f"{location.describe(name)}: arguments must be a mapping; got {args!r}."
            )
        kwargs = {k: v for k, v in args.items() if k not in CHECK_KEYS}
        extra = {**{k: v for k, v in item.items() if k != name}, **args}
    if not isinstance(name, str):
        raise SuiteError(f"{owner}: the expectation name must be text; got {name!r}.")
    return Check(
        name,
        kwargs,
        extra.get("severity"),
        extra.get("layer"),
        extra.get("meta") or {},
        location,
    )
