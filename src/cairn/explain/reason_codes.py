"""Reason codes: the top factors pushing a score up, toward the deployment's positive decision,
as texts (for credit, whose positive decision is ``decline``: adverse-action reasons; for an
outreach model whose positive decision is ``follow_up``: why a customer is targeted).

A reason-code file (YAML) maps each model feature to a code and one text per direction:

.. code-block:: yaml

    features:
      debt:
        code: D01
        high: Debt too high for the income
        missing: Debt not reported
        reference: 1000      # optional; default: the model's median split threshold
    default: Other factors in the credit profile

Only contributions above zero (toward the positive decision) become reason codes, largest
first. Which decisions get them on the request path is the deployment's ``explain`` setting.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cairn.core.errors import ConfigError
from cairn.core.file_model import FileModel, Number, json_schema, parse
from cairn.core.file_model import key as file_key
from cairn.core.predictions import REFER, Direction, ReasonCode

REASON_CODES_FILE = "reason_codes.yaml"
"""The reason-code file a deployment reads unless it names another."""


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
        """Check and build a book; a :class:`ConfigError` names ``where`` and the bad key
        (``reason_codes.yaml: features.debt.reference must be a number; got 'ten'.``)."""
        book = parse(ReasonCodesFile, data, source=where)
        return cls(dict(data.get("features") or {}), book.default)

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
        """The reason text for a feature pushing toward the positive decision in ``direction``."""
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


# The file's model: what reason_codes.yaml accepts, and its JSON Schema.


class ReasonEntry(FileModel):
    """features.NAME: one feature's code and its text per direction."""

    code: str | None = file_key(
        None, "The feature's code (default: its name upper-cased).", examples=["R01"]
    )
    reference: Number | None = file_key(
        None,
        "The value from which the feature counts as high, else low (default: the model's "
        "median split threshold).",
    )
    high: str | None = file_key(None, "Text when a high value pushed the score up.")
    low: str | None = file_key(None, "Text when a low value pushed the score up.")
    missing: str | None = file_key(None, "Text when the missing value pushed the score up.")
    category: str | None = file_key(
        None, "Text for a category level; {value} stands for the level.",
        examples=["Housing status ({value})"],
    )  # fmt: skip
    text: str | None = file_key(None, "Text for any direction without its own.")


class ReasonCodesFile(FileModel):
    """reason_codes.yaml: the reason texts of a deployment's model, per feature and direction.
    Features pushing the score up (toward the positive decision) become reason codes."""

    features: dict[str, ReasonEntry] | None = file_key(
        None, "Feature name -> its code and texts (features not named get generic texts)."
    )
    default: str = file_key(
        "Other factors", "The text of factors the file does not name.",
        examples=["Other factors in the credit profile"],
    )  # fmt: skip


def reason_codes_schema() -> dict[str, Any]:
    """The JSON Schema of a reason-code file (``reason_codes.yaml``)."""
    return json_schema(
        ReasonCodesFile,
        title=REASON_CODES_FILE,
        description="Reason codes: a code and one text per direction (high, low, missing, "
        "category) for each model feature; the factors that pushed a score up, toward the "
        "positive decision, are explained with them.",
    )


def _is_nan(value: Any) -> bool:
    """Whether ``value`` is a NaN of any real type (Python, numpy float16/32/64)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return math.isnan(float(value))


def direction_of(value: Any, is_category: bool, reference: float | None) -> Direction:
    """Whether a value counts as missing, a category, high or low against its reference.

    Example
    -------
    >>> direction_of(5.0, False, 3.0), direction_of(None, False, 3.0)
    ('high', 'missing')
    >>> direction_of("rent", True, None)
    'category'
    >>> import numpy as np
    >>> direction_of(np.float32("nan"), False, 3.0)  # any real NaN (a store's float32 too)
    'missing'
    """
    if value is None or _is_nan(value):
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
    """The ``k`` largest positive contributions (toward the positive decision) as reason codes.

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


def summarize(reasons: Sequence[ReasonCode], decision: str, positive: str | None = None) -> str:
    """One human-readable sentence for the decision and its main reasons.

    Reason codes are the factors toward the positive decision: they are the reasons of a
    positive decision, and what spoke for the positive decision in a negative one. Given
    ``positive`` (the deployment's positive decision), a negative decision's codes are worded
    so; without it every decision's codes read as its reasons.

    Example
    -------
    >>> r = ReasonCode("debt", "high", 0.5, 9e3, "D01", "Debt too high")
    >>> summarize([r], "decline")
    'Decision: decline. Main reason: Debt too high.'
    >>> summarize([], "approve")
    'Decision: approve.'
    >>> summarize([r], "skip", positive="follow_up")
    'Decision: skip. Factor toward follow_up: Debt too high.'
    >>> summarize([], "refer")
    'Decision: refer. Insufficient data to decide: a person must decide.'
    """
    if decision == REFER:  # too little data: no reasons, and no feature named as present
        return f"Decision: {REFER}. Insufficient data to decide: a person must decide."
    if not reasons:
        return f"Decision: {decision}."
    texts = [r.text for r in reasons]
    listed = texts[0] if len(texts) == 1 else f"{'; '.join(texts[:-1])}; and {texts[-1]}"
    if positive is not None and decision != positive:
        lead = "Factor" if len(texts) == 1 else "Factors"
        return f"Decision: {decision}. {lead} toward {positive}: {listed}."
    lead = "Main reason" if len(texts) == 1 else "Main reasons"
    return f"Decision: {decision}. {lead}: {listed}."
