"""Adverse-action reason codes: the top factors pushing a score toward decline, as texts.

A reason-code file (YAML) maps each model feature to a code and one text per direction:

.. code-block:: yaml

    features:
      debt:
        code: D01
        high: Debt too high for the income
        missing: Debt not reported
        reference: 1000      # optional; default: the model's median split threshold
    default: Other factors in the credit profile

Only contributions above zero (toward decline) become reason codes, largest first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cairn.core.errors import ConfigError
from cairn.core.predictions import Direction, ReasonCode

REASON_CODES_FILE = "reason_codes.yaml"
"""The reason-code file a deployment reads unless it names another."""

_DIRECTIONS = ("high", "low", "missing", "category", "text")
_ENTRY_KEYS = frozenset({"code", "reference", *_DIRECTIONS})


@dataclass(frozen=True)
class ReasonCodeBook:
    """Reason texts per feature and direction.

    Example
    -------
    >>> entry = {"code": "D01", "high": "Debt too high"}
    >>> book = ReasonCodeBook.from_dict({"features": {"debt": entry}})
    >>> book.text("debt", "high"), book.code("debt")
    ('Debt too high', 'D01')
    >>> book.text("age", "low")
    'Age too low'
    """

    features: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    default: str = "Other factors"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "reason codes") -> ReasonCodeBook:
        """Check and build a book; a :class:`ConfigError` names the bad key."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where}: expected a mapping with 'features'; got {data!r}.")
        unknown = sorted(set(data) - {"features", "default"})
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r}; allowed: default, features.")
        features = data.get("features") or {}
        if not isinstance(features, Mapping):
            raise ConfigError(f"{where}: 'features' must map feature names to entries.")
        for name, entry in features.items():
            if not isinstance(entry, Mapping):
                raise ConfigError(f"{where}: features.{name} must be a mapping; got {entry!r}.")
            bad = sorted(set(entry) - _ENTRY_KEYS)
            if bad:
                raise ConfigError(
                    f"{where}: features.{name} has unknown key {bad[0]!r}; allowed: "
                    f"{', '.join(sorted(_ENTRY_KEYS))}."
                )
            ref = entry.get("reference")
            if ref is not None and not isinstance(ref, int | float):
                raise ConfigError(f"{where}: features.{name}.reference must be a number.")
        return cls(dict(features), str(data.get("default", "Other factors")))

    @classmethod
    def from_yaml(cls, path: str | Path) -> ReasonCodeBook:
        """Read a reason-code file."""
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"Cannot read the reason-code file {path}: {exc}") from None
        return cls.from_dict(data, str(path))

    def code(self, feature: str) -> str:
        """The feature's code (its name upper-cased when the file gives none)."""
        return str(self.features.get(feature, {}).get("code", feature.upper()))

    def reference(self, feature: str) -> float | None:
        """The value above which the feature counts as high, when the file sets one."""
        ref = self.features.get(feature, {}).get("reference")
        return None if ref is None else float(ref)

    def text(self, feature: str, direction: Direction) -> str:
        """The reason text for a feature pushing toward decline in ``direction``."""
        entry = self.features.get(feature, {})
        for key in (direction, "text"):
            if key in entry:
                return str(entry[key])
        label = feature.replace("_", " ").capitalize()
        return {
            "high": f"{label} too high",
            "low": f"{label} too low",
            "missing": f"{label} not available",
            "category": f"{label} ({'{value}'})",
        }[direction]


def direction_of(value: Any, is_category: bool, reference: float | None) -> Direction:
    """Whether a value counts as missing, a category, high or low against its reference.

    Example
    -------
    >>> direction_of(5.0, False, 3.0), direction_of(None, False, 3.0)
    ('high', 'missing')
    >>> direction_of("rent", True, None)
    'category'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "missing"
    if is_category:
        return "category"
    if reference is None:
        return "high"
    return "high" if float(value) >= reference else "low"


def top_reasons(
    contributions: Sequence[float],
    names: Sequence[str],
    values: Sequence[Any],
    book: ReasonCodeBook,
    *,
    categorical: frozenset[str] = frozenset(),
    references: Mapping[str, float] | None = None,
    k: int = 4,
) -> list[ReasonCode]:
    """The ``k`` largest positive contributions (toward decline) as reason codes.

    ``contributions`` holds one value per name (without the bias column).

    Example
    -------
    >>> entry = {"code": "D01", "high": "Debt too high"}
    >>> book = ReasonCodeBook.from_dict({"features": {"debt": entry}})
    >>> [r.text for r in top_reasons([0.5, -0.2], ["debt", "income"], [9e3, 1e3], book)]
    ['Debt too high']
    """
    refs = references or {}
    order = sorted(range(len(names)), key=lambda i: -contributions[i])
    out: list[ReasonCode] = []
    for i in order[:k]:
        phi = float(contributions[i])
        if phi <= 0:
            break
        name = names[i]
        ref = book.reference(name)
        direction = direction_of(
            values[i], name in categorical, ref if ref is not None else refs.get(name)
        )
        text = book.text(name, direction).replace("{value}", str(values[i]))
        out.append(ReasonCode(name, direction, phi, values[i], book.code(name), text))
    return out


def summarize(reasons: Sequence[ReasonCode], decision: str) -> str:
    """One human-readable sentence for the decision and its main reasons.

    Example
    -------
    >>> r = ReasonCode("debt", "high", 0.5, 9e3, "D01", "Debt too high")
    >>> summarize([r], "decline")
    'Decision: decline. Main reason: Debt too high.'
    >>> summarize([], "approve")
    'Decision: approve.'
    """
    if not reasons:
        return f"Decision: {decision}."
    texts = [r.text for r in reasons]
    if len(texts) == 1:
        return f"Decision: {decision}. Main reason: {texts[0]}."
    return f"Decision: {decision}. Main reasons: {'; '.join(texts[:-1])}; and {texts[-1]}."
