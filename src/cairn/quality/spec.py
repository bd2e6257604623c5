"""Suites and checks: what to validate, written in YAML or Python, validated when built.

A suite file::

    name: applications
    source: applications            # optional: the applied source it guards (materialize)
    actions: {medium: halt}         # optional: severity -> action overrides
    sample_rows: 20                 # failing rows kept per check
    references:                     # optional: other tables named by checks
      customers: ../data/profiles.parquet
    expectations:
      - expect_column_values_to_not_be_null: {column: customer_id, severity: critical}
      - type: expect_column_values_to_be_between       # Great Expectations' long form
        kwargs: {column: amount, min_value: 0, max_value: 50000}
        severity: high
        layer: business

Each check is checked at once: its expectation must exist and its arguments must have the
declared names and types; a bad check raises one :class:`~cairn.quality.errors.SuiteError`
naming it, its position (``check #3``) and its line in the file. Columns are checked against
the data when the suite runs.

Example
-------
>>> from cairn.quality.check import Check
>>> suite = Suite("s", [Check("expect_column_values_to_not_be_null", {"column": "id"})])
>>> suite.resolved()[0].severity, suite.resolved()[0].action
(<Severity.CRITICAL: 'critical'>, <Action.HALT: 'halt'>)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cairn.core.errors import DefinitionError
from cairn.quality import expectations as _families  # noqa: F401  (registers every family)
from cairn.quality._yaml import dump_suite, load_with_lines, read_text
from cairn.quality.check import Check, Location, ResolvedCheck, parse_check
from cairn.quality.errors import SuiteError
from cairn.quality.expectations.registry import get_expectation
from cairn.quality.params import bind_args
from cairn.quality.severity import (
    DEFAULT_SEVERITY,
    Action,
    Layer,
    Severity,
    default_actions,
    parse_actions,
)

SUITE_KEYS = (
    "name",
    "description",
    "source",
    "actions",
    "sample_rows",
    "references",
    "expectations",
)
_GX_IGNORED = ("id", "meta", "notes", "expectation_suite_name", "data_asset_type", "ge_cloud_id")


@dataclass(frozen=True)
class Suite:
    """A named list of checks with the actions their severities map to.

    Parameters
    ----------
    name:
        The suite's name (results are kept under it).
    checks:
        The checks, in order.
    actions:
        Severity -> action overrides, as enums or names (default: critical and high halt,
        medium warns, low logs).
    sample_rows:
        Failing rows kept per failing check.
    source:
        The applied source this suite guards, when used as a materialization gate.
    references:
        Names of other tables (paths) that checks refer to.
    base_dir:
        Folder that relative paths in checks resolve against (the suite file's folder).
    """

    name: str
    checks: Sequence[Check]
    actions: Mapping[Any, Action | str] = field(default_factory=default_actions)
    sample_rows: int = 20
    source: str | None = None
    description: str = ""
    references: Mapping[str, str] = field(default_factory=dict)
    base_dir: Path | None = field(default=None, compare=False)
    path: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise SuiteError(f"suite name must be a non-empty string; got {self.name!r}.")
        if isinstance(self.sample_rows, bool) or not isinstance(self.sample_rows, int):
            raise SuiteError(f"suite {self.name!r}: sample_rows must be an integer.")
        if not 0 <= self.sample_rows <= 10_000:
            raise SuiteError(f"suite {self.name!r}: sample_rows must be in [0, 10000].")
        object.__setattr__(self, "checks", tuple(self.checks))
        object.__setattr__(self, "actions", parse_actions(dict(self.actions), owner="actions"))
        self.resolved()  # every check is validated now, not when data arrives

    def resolved(self) -> list[ResolvedCheck]:
        """Every check bound to its expectation, with severity, layer and action resolved."""
        out = []
        for i, check in enumerate(self.checks, start=1):
            if not isinstance(check, Check):
                raise SuiteError(f"suite {self.name!r}: check #{i} must be a Check; got {check!r}.")
            if check.location is None or check.location.index == 0:
                check = Check(
                    check.expectation,
                    check.kwargs,
                    check.severity,
                    check.layer,
                    check.meta,
                    Location(i),
                )
            owner = check.describe()
            expectation = get_expectation(check.expectation, owner=owner)
            args = bind_args(check.kwargs, expectation.params, owner=owner)
            expectation.check_args(args, owner)
            layer = Layer(check.layer) if check.layer is not None else expectation.layer
            severity = (
                Severity(check.severity) if check.severity is not None else DEFAULT_SEVERITY[layer]
            )
            out.append(
                ResolvedCheck(
                    i, check, expectation, args, severity, layer, Action(self.actions[severity])
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """The suite as plain data (round-trips through :meth:`from_dict`)."""
        defaults = default_actions()
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "actions": {
                str(s): str(a) for s, a in self.actions.items() if defaults[Severity(s)] != a
            },
            "sample_rows": self.sample_rows,
            "references": dict(self.references),
            "expectations": [c.to_dict() for c in self.checks],
        }

    def to_yaml(self) -> str:
        """The suite as a YAML file (checks in the short form)."""
        return dump_suite(self.to_dict())

    @property
    def digest(self) -> str:
        """SHA-256 of the suite's content (kept with every result)."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    @classmethod
    def from_dict(
        cls,
        data: Any,
        *,
        origin: str | None = None,
        lines: Sequence[int] = (),
        base_dir: Path | None = None,
        path: Path | None = None,
        default_name: str | None = None,
    ) -> Suite:
        """Build a suite from parsed YAML/JSON (Great Expectations' suite JSON included)."""
        where = origin or "suite"
        if not isinstance(data, Mapping):
            raise SuiteError(
                f"{where}: a suite must be a mapping with 'expectations'; "
                f"got {type(data).__name__}."
            )
        unknown = [k for k in data if k not in SUITE_KEYS and k not in _GX_IGNORED]
        if unknown:
            raise SuiteError(
                f"{where}: unknown key {unknown[0]!r}; allowed keys are {', '.join(SUITE_KEYS)}."
            )
        items = data.get("expectations")
        if not isinstance(items, list):
            raise SuiteError(f"{where}: 'expectations' must be a list of checks; got {items!r}.")
        checks = [
            parse_check(item, Location(i, origin, lines[i - 1] if i - 1 < len(lines) else None))
            for i, item in enumerate(items, start=1)
        ]
        references = data.get("references") or {}
        if not isinstance(references, Mapping) or not all(
            isinstance(v, str) for v in references.values()
        ):
            raise SuiteError(f"{where}: 'references' must map names to paths; got {references!r}.")
        name = data.get("name") or data.get("expectation_suite_name") or default_name
        if not isinstance(name, str):
            raise SuiteError(f"{where}: the suite needs a 'name' (text); got {name!r}.")
        try:
            return cls(
                name=name,
                checks=checks,
                actions=parse_actions(data.get("actions"), owner=f"{where}: actions"),
                sample_rows=data.get("sample_rows", 20),
                source=data.get("source"),
                description=str(data.get("description") or ""),
                references={str(k): v for k, v in references.items()},
                base_dir=base_dir,
                path=path,
            )
        except SuiteError:
            raise
        except DefinitionError as exc:
            raise SuiteError(str(exc)) from None


def load_suite(path: str | Path) -> Suite:
    """Read a suite from a YAML (or Great Expectations JSON) file.

    Relative paths in the suite (references, reference profiles) resolve against the file's
    folder; the suite's name defaults to the file name without its extension.
    """
    file = Path(path)
    data, lines = load_with_lines(read_text(file), origin=str(file), list_key="expectations")
    return Suite.from_dict(
        data,
        origin=str(file),
        lines=lines,
        base_dir=file.resolve().parent,
        path=file,
        default_name=file.stem,
    )


def as_suite(suite: Suite | str | Path) -> Suite:
    """A Suite, loading it when given a path."""
    return suite if isinstance(suite, Suite) else load_suite(suite)
