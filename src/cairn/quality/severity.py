"""Layers, severities, actions and health dimensions: the vocabulary of a check's verdict.

Every check belongs to one **layer** (what kind of rule it is), carries one **severity** (how
bad a failure is) and counts towards one health **dimension**. A suite maps severities to
**actions**; by default critical and high failures halt, medium ones warn, low ones are logged.

Example
-------
>>> default_actions()[Severity.HIGH]
<Action.HALT: 'halt'>
>>> Action.worst([Action.LOG, Action.WARN])
<Action.WARN: 'warn'>
>>> Severity.parse("warning", owner="severity")  # Great Expectations' name is accepted
<Severity.MEDIUM: 'medium'>
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, TypeVar

from cairn.core.errors import DefinitionError

E = TypeVar("E", bound=StrEnum)


class Layer(StrEnum):
    """The four layers of validation, in the order data meets them."""

    SCHEMA = "schema"
    STATISTICAL = "statistical"
    BUSINESS = "business"
    ML = "ml"

    @classmethod
    def parse(cls, value: Any, *, owner: str) -> Layer:
        """The layer named ``value``, or a DefinitionError listing the choices."""
        return _parse(cls, value, owner, {})


class Severity(StrEnum):
    """How bad a failure is; each severity maps to an action."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @classmethod
    def parse(cls, value: Any, *, owner: str) -> Severity:
        """The severity named ``value`` (Great Expectations' ``warning``/``info`` map to
        medium/low), or a DefinitionError listing the choices."""
        return _parse(cls, value, owner, {"warning": cls.MEDIUM, "info": cls.LOW})

    @property
    def weight(self) -> int:
        """Weight in the health score: critical 4, high 3, medium 2, low 1."""
        return {"critical": 4, "high": 3, "medium": 2, "low": 1}[self.value]


class Action(StrEnum):
    """What a failing check makes the caller do; ``none`` when nothing failed."""

    HALT = "halt"
    WARN = "warn"
    LOG = "log"
    NONE = "none"

    @classmethod
    def parse(cls, value: Any, *, owner: str) -> Action:
        """The action named ``value``, or a DefinitionError listing the choices."""
        return _parse(cls, value, owner, {})

    @property
    def rank(self) -> int:
        """Order of gravity: halt 3, warn 2, log 1, none 0."""
        return {"halt": 3, "warn": 2, "log": 1, "none": 0}[self.value]

    @classmethod
    def worst(cls, actions: Iterable[Action]) -> Action:
        """The gravest of ``actions`` (``none`` for an empty list)."""
        return max(actions, key=lambda a: a.rank, default=cls.NONE)


class Dimension(StrEnum):
    """The five dimensions of the health score."""

    COMPLETENESS = "completeness"
    VALIDITY = "validity"
    CONSISTENCY = "consistency"
    UNIQUENESS = "uniqueness"
    TIMELINESS = "timeliness"


DEFAULT_SEVERITY = {
    Layer.SCHEMA: Severity.CRITICAL,
    Layer.BUSINESS: Severity.HIGH,
    Layer.STATISTICAL: Severity.MEDIUM,
    Layer.ML: Severity.HIGH,
}
"""A check's severity when neither the check nor the suite names one."""


def default_actions() -> dict[Severity, Action]:
    """critical, high -> halt; medium -> warn; low -> log."""
    return {
        Severity.CRITICAL: Action.HALT,
        Severity.HIGH: Action.HALT,
        Severity.MEDIUM: Action.WARN,
        Severity.LOW: Action.LOG,
    }


def parse_actions(value: Any, *, owner: str) -> dict[Severity, Action]:
    """The default actions overridden by a ``{severity: action}`` mapping."""
    if value is None:
        return default_actions()
    if not isinstance(value, Mapping):
        raise DefinitionError(
            f"{owner} must be a mapping of severity to action (e.g. {{medium: halt}}); "
            f"got {value!r}."
        )
    actions = default_actions()
    for key, action in value.items():
        severity = Severity.parse(key, owner=f"{owner} key")
        actions[severity] = Action.parse(action, owner=f"{owner}[{key}]")
    return actions


def _parse(cls: type[E], value: Any, owner: str, aliases: Mapping[str, E]) -> E:
    if isinstance(value, cls):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in aliases:
            return aliases[text]
        for member in cls:
            if member.value == text:
                return member
    allowed = ", ".join(repr(m.value) for m in cls)
    raise DefinitionError(f"{owner} must be one of {allowed}; got {value!r}.")
