"""What each feature of a counterfactual may become, and the answer re-scored.

The **feasible values** of a feature:

* an ``immutable`` feature never changes;
* a numeric feature's new value lies in its declared ``ranges`` entry, else in the reference
  profile's observed ``[min, max]`` (without either it is not changed: there is nothing to say
  what is feasible); a feature in ``directions`` only increases (or decreases);
* a categorical feature may become any level the model knows (and the profile saw, when there
  is one); ``directions`` and ``ranges`` do not apply to it (naming one there is an error);
* a **missing** current value (NaN) may be filled with any feasible value, either direction
  (there is no current value to move away from); it counts 1 towards the distance;
* a numeric feature whose reference sample holds only **whole numbers** (counts, years,
  ratings) moves in whole steps: a candidate between two whole numbers is rounded away from
  the current value (``0 -> 0.0039`` years of seniority becomes ``0 -> 1``).

The **scale** of a numeric feature (its distance is ``|new - old| / scale``) is its
interquartile range in the reference profile's sample (the version's
``reference_profile.json``), else its standard deviation there, else the width of its feasible
range, else 1. :func:`answer` re-scores a candidate through the scorer and returns it only when
it turns the decision.

Example
-------
>>> import numpy as np
>>> from cairn.core.deployments import CounterfactualPolicy
>>> class Linear:  # P(positive) rises with x0
...     family = "linear"
...     def predict(self, X):
...         return 1 / (1 + np.exp(-(X[:, 0] - 5)))
>>> p = CounterfactualProblem(
...     Linear(), np.array([7.0, 1.0]), ["debt", "home"], {"home": ["own", "rent"]}, 0.5,
...     CounterfactualPolicy(ranges={"debt": (0.0, 10.0)}))
>>> [(f.name, f.lo, f.hi, f.scale) for f in feasible_features(p)]
[('debt', 0.0, 10.0, 10.0), ('home', nan, nan, 1.0)]
>>> feasible_features(p)[1].shown(0.0)
'own'
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cairn.core.deployments import CounterfactualPolicy
from cairn.core.errors import ConfigError
from cairn.explain.counterfactual import (
    Change,
    Counterfactual,
    CounterfactualProblem,
    FloatVector,
    Method,
)
from cairn.profiles.columns import CategoricalReference, NumericReference

__all__ = [
    "Feasible",
    "answer",
    "at_most",
    "check_policy",
    "feasible_features",
    "not_found",
    "numeric_grid",
]


@dataclass(frozen=True)
class Feasible:
    """What one actionable feature may become (see the module)."""

    column: int
    name: str
    levels: tuple[str, ...] | None
    """The model's levels of a categorical feature (None: numeric)."""
    allowed: tuple[int, ...] = ()
    """The level indices it may take (categorical)."""
    lo: float = math.nan
    hi: float = math.nan
    direction: str | None = None
    scale: float = 1.0
    anchor: float = math.nan
    """Where a missing numeric value is filled nearest to: the profile's median, if known."""
    whole: bool = False
    """Whether it moves in whole steps (its reference sample holds only whole numbers)."""

    def snap(self, old: float, new: float) -> float:
        """``new`` in whole steps when the feature takes them: rounded away from ``old`` (to
        the nearest whole number when ``old`` is missing), else as it is."""
        if not self.whole or new == math.floor(new):
            return new
        if math.isnan(old):
            return float(round(new))
        return float(math.ceil(new) if new > old else math.floor(new))

    @property
    def categorical(self) -> bool:
        """Whether the feature is categorical."""
        return self.levels is not None

    def admits(self, old: float, new: float) -> bool:
        """Whether ``new`` is a feasible change of ``old`` (not equal to it)."""
        if self.levels is not None:
            return int(new) in self.allowed and not (old == new)
        if not self.lo <= new <= self.hi or new == old:
            return False
        if math.isnan(old) or self.direction is None:
            return True
        return new > old if self.direction == "increase" else new < old

    def cost(self, old: float, new: float) -> float:
        """This change's share of the distance."""
        if self.levels is not None or math.isnan(old):
            return 1.0
        return abs(new - old) / self.scale

    def shown(self, code: float) -> Any:
        """A code-matrix value as a feature value (a level name; None when missing)."""
        if math.isnan(code):
            return None
        if self.levels is not None:
            i = int(code)
            return self.levels[i] if 0 <= i < len(self.levels) and i == code else None
        return int(code) if code.is_integer() and abs(code) < 2**53 else float(code)


def check_policy(problem: CounterfactualProblem) -> None:
    """One ConfigError naming the key and feature when the policy names a feature the model
    does not have, or gives a categorical feature a direction or a range."""
    policy, known = problem.policy, set(problem.features)
    sections: list[tuple[str, Sequence[str]]] = [
        ("immutable", policy.immutable),
        ("directions", list(policy.directions)),
        ("ranges", list(policy.ranges)),
    ]
    for section, names in sections:
        for name in names:
            if name not in known:
                raise ConfigError(
                    f"{problem.where}.{section} names {name!r}, which the model does not have "
                    f"(its features: {', '.join(problem.features)})."
                )
            if section != "immutable" and name in problem.categories:
                raise ConfigError(
                    f"{problem.where}.{section}.{name}: {name!r} is categorical; directions "
                    f"and ranges apply to numeric features only."
                )


def feasible_features(problem: CounterfactualProblem) -> list[Feasible]:
    """The actionable features and their feasible values (see the module), in model order."""
    policy, profile = problem.policy, problem.profile
    out: list[Feasible] = []
    for j, name in enumerate(problem.features):
        if name in policy.immutable:
            continue
        ref = profile.features.get(name) if profile is not None else None
        levels = problem.categories.get(name)
        if levels is not None:
            seen = set(ref.categories) if isinstance(ref, CategoricalReference) else None
            allowed = tuple(i for i, lv in enumerate(levels) if seen is None or lv in seen)
            if allowed:
                out.append(Feasible(j, name, tuple(levels), allowed))
            continue
        numeric = ref if isinstance(ref, NumericReference) else None
        lo, hi = _range(policy, name, numeric)
        if math.isnan(lo):
            continue
        out.append(
            Feasible(
                j, name, None, lo=lo, hi=hi, direction=policy.directions.get(name),
                scale=_scale(numeric, lo, hi), anchor=_median(numeric),
                whole=_whole(numeric),
            )
        )  # fmt: skip
    return out


def numeric_grid(f: Feasible, ref: NumericReference | None, old: float) -> FloatVector:
    """Candidate new values of a numeric feature: the profile's bin edges and points within
    its feasible range, and the range ends, that :meth:`Feasible.admits`."""
    values = [f.lo, f.hi]
    if ref is not None:
        values += ref.binning.edges.tolist() + ref.binning.points.tolist()
    grid = np.unique([f.snap(old, float(v)) for v in values])
    return np.asarray([v for v in grid if f.admits(old, float(v))], dtype=np.float64)


def _range(
    policy: CounterfactualPolicy, name: str, ref: NumericReference | None
) -> tuple[float, float]:
    if name in policy.ranges:
        lo, hi = policy.ranges[name]
        return float(lo), float(hi)
    if ref is not None and ref.min is not None and ref.max is not None:
        return float(ref.min), float(ref.max)
    return math.nan, math.nan


def _whole(ref: NumericReference | None) -> bool:
    if ref is None or ref.sample.size == 0:
        return False
    sample = ref.sample[np.isfinite(ref.sample)]
    return bool(sample.size) and bool(np.all(sample == np.floor(sample)))


def _scale(ref: NumericReference | None, lo: float, hi: float) -> float:
    if ref is not None and ref.sample.size >= 4:
        q1, q3 = np.quantile(ref.sample, [0.25, 0.75])
        if q3 > q1:
            return float(q3 - q1)
    if ref is not None and ref.std:
        return float(ref.std)
    return float(hi - lo) if hi > lo else 1.0


def _median(ref: NumericReference | None) -> float:
    if ref is None or ref.sample.size == 0:
        return math.nan
    return float(np.median(ref.sample))


def answer(
    problem: CounterfactualProblem,
    changed: Mapping[int, float],
    feasible: Sequence[Feasible],
    method: Method,
    started: float,
) -> Counterfactual | None:
    """The counterfactual setting columns ``changed`` (column -> new code), re-scored through
    the scorer; None when it does not turn the decision (never reported as found)."""
    x = problem.x
    new = x.copy()
    for j, value in changed.items():
        new[j] = value
    score = float(problem.score_rows(new[None, :])[0])
    before = bool(problem.positive(problem.score_rows(x[None, :]))[0])
    after = bool(problem.positive(np.array([score]))[0])
    if after == before:
        return None
    by_column = {f.column: f for f in feasible}
    changes = tuple(
        Change(by_column[j].name, by_column[j].shown(float(x[j])), by_column[j].shown(v))
        for j, v in sorted(changed.items())
    )
    distance = sum(by_column[j].cost(float(x[j]), v) for j, v in changed.items())
    return Counterfactual(True, changes, score, after, method, float(distance), _ms(started))


def at_most(k: int) -> str:
    """``"at most 1 feature"``, ``"at most 3 features"``."""
    return f"at most {k} feature" + ("" if k == 1 else "s")


def not_found(method: Method, reason: str, started: float) -> Counterfactual:
    """A counterfactual that was not found, and why."""
    return Counterfactual(False, (), None, None, method, None, _ms(started), reason)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
