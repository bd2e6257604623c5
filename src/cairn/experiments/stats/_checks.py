"""Argument checks shared by the public test functions (bad arguments raise ConfigError)."""

from __future__ import annotations

import math
from typing import Literal, TypeAlias

from cairn.core.errors import ConfigError

Alternative: TypeAlias = Literal["two-sided", "greater", "less"]
ALTERNATIVES: tuple[str, ...] = ("two-sided", "greater", "less")


def check_alpha(alpha: float, *, name: str = "alpha") -> float:
    """Return ``alpha`` if it lies strictly between 0 and 1, else raise ConfigError."""
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0 < alpha < 1:
        raise ConfigError(f"{name} must be a number strictly between 0 and 1; got {alpha!r}.")
    return float(alpha)


def check_alternative(alternative: str) -> Alternative:
    """Return ``alternative`` if it is one of two-sided, greater, less."""
    if alternative == "two-sided":
        return "two-sided"
    if alternative in ("greater", "less"):
        return "greater" if alternative == "greater" else "less"
    raise ConfigError(f"alternative must be one of {', '.join(ALTERNATIVES)}; got {alternative!r}.")


def check_positive(value: float, name: str) -> float:
    """Return ``value`` if it is a finite number above 0."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"{name} must be a number above 0; got {value!r}.")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be finite; got {value!r}.")
    return float(value)


def check_finite(value: float, name: str) -> float:
    """Return ``value`` if it is a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number; got {value!r}.")
    return float(value)
