"""Cairn's counterfactuals beside dice-ml's on the same declined rows of any model.

One implementation, used by ``benchmarks/model_families.py`` (every family's registered
version, loaded as ``cairn serve`` loads it) and by ``tests/explain/test_counterfactual_dice.py``
(a LightGBM trained on the example project). A :class:`Target` is what both methods explain: a
scorer (P(positive) of the float code matrix), its features and categorical levels, the
version's reference profile, the decision threshold and the deployment's
:class:`~cairn.core.deployments.CounterfactualPolicy`; :meth:`Target.of` builds it from a
loaded :class:`~cairn.serving.models.ScoringModel`.

Both methods get the same declaration. Cairn: :func:`cairn.explain.counterfactual_engine.
find_counterfactual` (exact for scorecards, a budgeted search otherwise). dice-ml 0.12 (method
``random``, model-agnostic, ``predict_proba`` = the scorer over the code matrix of its feature
values): its data is declared from the same feasible values Cairn uses (a numeric feature's
range, a categorical feature's allowed levels; immutables are not varied), ``total_cfs``
candidates per row, its best one taken (valid first, then fewest changes, then smallest
distance), which favours dice. Every answer of both is re-scored through the scorer:

* **found**: share of rows with an answer;
* **validity**: share of answers whose re-scored decision is the other one;
* **sparsity**: mean number of changed features per answer;
* **distance**: mean of Cairn's distance (per numeric feature ``|change| / IQR``, 1 per
  categorical one) per answer;
* **ms**: wall time per row (mean and median).

dice-ml refuses a query with a missing value; the model reads one as missing (NaN), and the
example's online rows have some. So dice-ml is handed a sentinel in its place
(:data:`MISSING_NUMBER`, or the level :data:`MISSING_LEVEL`, never a value it may move to) that
its ``predict_proba`` maps back to NaN: both methods see the same row, and either may fill a
missing value with a feasible one (1 towards the distance).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from cairn.core.deployments import CounterfactualPolicy
from cairn.explain.counterfactual import CounterfactualProblem, RowScorer
from cairn.explain.counterfactual_engine import find_counterfactual
from cairn.explain.counterfactual_feasible import Feasible, feasible_features
from cairn.profiles.columns import NumericReference
from cairn.profiles.profile import ReferenceProfile
from cairn.serving.models import ScoringModel

__all__ = ["Side", "Target", "compare_with_dice", "dice_available"]

MISSING_NUMBER = -1.0e18
MISSING_LEVEL = "<missing>"
"""What dice-ml holds for a missing numeric value / category (mapped back to NaN)."""
Row = tuple[bool, bool, int, float, float]
"""One row's answer: found, valid, changed features, distance, ms."""


def dice_available() -> bool:
    """Whether dice-ml can be imported."""
    return importlib.util.find_spec("dice_ml") is not None


@dataclass(frozen=True)
class Side:
    """One method's numbers over the same rows (see the module)."""

    label: str
    method: str
    rows: int
    found: float
    validity: float
    sparsity: float
    distance: float
    ms_mean: float
    ms_p50: float

    def line(self) -> str:
        """One printable row."""
        return (
            f"{self.label:<14} rows={self.rows} found={self.found:.0%} "
            f"validity={self.validity:.0%} sparsity={self.sparsity:.2f} "
            f"distance={self.distance:.3f} ms/row={self.ms_mean:.0f} (p50 {self.ms_p50:.0f})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (NaN, a mean over no answers: None)."""
        return {
            k: None if isinstance(v, float) and math.isnan(v) else v
            for k, v in asdict(self).items()
        }


@dataclass(frozen=True)
class Target:
    """The model both methods explain, and the declaration both follow (see the module)."""

    scorer: RowScorer
    features: list[str]
    categories: dict[str, list[str]]
    profile: ReferenceProfile
    threshold: float
    policy: CounterfactualPolicy

    @classmethod
    def of(cls, model: ScoringModel, threshold: float, policy: CounterfactualPolicy) -> Target:
        """The target of a loaded version (its reference profile is required)."""
        if model.profile is None:
            raise ValueError(f"{model.name}/{model.version} has no reference profile")
        return cls(model.scorer, model.features, model.categories, model.profile, threshold, policy)

    def problem(self, x: np.ndarray) -> CounterfactualProblem:
        """Cairn's problem for the code row ``x``."""
        return CounterfactualProblem(
            self.scorer, x, self.features, self.categories, self.threshold, self.policy,
            self.profile,
        )  # fmt: skip

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Feature values (level names for categories) as the float code matrix."""
        X = np.full((len(frame), len(self.features)), np.nan)
        for j, name in enumerate(self.features):
            col = frame[name]
            levels = self.categories.get(name)
            if levels is None:
                X[:, j] = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
            else:
                codes = {lv: float(i) for i, lv in enumerate(levels)}
                X[:, j] = [codes.get(str(v), math.nan) for v in col]
        return X

    def values(self, X: np.ndarray) -> pd.DataFrame:
        """The code matrix as feature values (level names for categories)."""
        cols: dict[str, Any] = {}
        for j, name in enumerate(self.features):
            levels = self.categories.get(name)
            if levels is None:
                cols[name] = X[:, j]
            else:
                cols[name] = [None if math.isnan(v) else levels[int(v)] for v in X[:, j]]
        return pd.DataFrame(cols)

    def declined(self, X: np.ndarray) -> np.ndarray:
        """Whether each row makes the positive (declined) decision."""
        return np.asarray(self.scorer.predict(X) >= self.threshold)


class _Proba:
    """dice-ml's view of the model: ``predict_proba`` of feature-value rows."""

    def __init__(self, target: Target) -> None:
        self.target = target

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        X = _decoded(self.target, frame)
        p = np.asarray(self.target.scorer.predict(X), dtype=np.float64)
        return np.column_stack([1 - p, p])


def _decoded(target: Target, frame: pd.DataFrame) -> np.ndarray:
    """dice-ml's rows as the code matrix, its missing sentinels NaN again."""
    X = target.matrix(frame[target.features])
    X[X == MISSING_NUMBER] = np.nan
    return X


def _encoded(target: Target, X: np.ndarray) -> pd.DataFrame:
    """Code rows as dice-ml's queries: feature values, a missing one as its sentinel."""
    frame = target.values(X)
    for name in target.features:
        if name in target.categories:
            frame[name] = frame[name].astype(object).where(frame[name].notna(), MISSING_LEVEL)
        else:
            frame[name] = frame[name].fillna(MISSING_NUMBER)
    return frame


def cairn_rows(target: Target, X: np.ndarray) -> tuple[list[Row], str]:
    """Cairn's answer per row of ``X`` (re-scored through the scorer) and its method."""
    index = {name: j for j, name in enumerate(target.features)}
    out: list[Row] = []
    method = "-"
    for x in X:
        started = time.perf_counter()
        cf = find_counterfactual(target.problem(x))
        ms = (time.perf_counter() - started) * 1000
        method = cf.method
        new = x.copy()
        for c in cf.changes:
            levels = target.categories.get(c.feature)
            j = index[c.feature]
            new[j] = float(levels.index(c.after)) if levels is not None else float(c.after)
        valid = cf.found and not bool(target.declined(new[None, :])[0])
        out.append((cf.found, valid, len(cf.changes), cf.distance or 0.0, ms))
    return out, method


def dice_rows(target: Target, X: np.ndarray, *, total_cfs: int, seed: int) -> list[Row]:
    """dice-ml's best answer per row of ``X`` under the same declaration (see the module)."""
    import dice_ml

    feasible = {f.name: f for f in feasible_features(target.problem(X[0]))}
    vary = [f for f in target.features if f in feasible]
    declared: dict[str, list[Any]] = {}
    precision: dict[str, Any] = {}
    permitted: dict[str, list[Any]] = {}
    for j, name in enumerate(target.features):
        f = feasible.get(name)
        levels = target.categories.get(name)
        if levels is not None:
            declared[name] = list(levels) + [MISSING_LEVEL] * bool(np.isnan(X[:, j]).any())
            if f is not None:
                permitted[name] = [levels[i] for i in f.allowed]
            continue
        ref = target.profile.features.get(name)
        lo, hi = (f.lo, f.hi) if f is not None else _observed(ref, X[:, j])
        declared[name] = [lo, hi]
        precision[name] = _precision(ref)
        if f is not None:
            permitted[name] = [lo, hi]
    data = dice_ml.Data(features=declared, outcome_name="_decision", type_and_precision=precision)
    model = dice_ml.Model(model=_Proba(target), backend="sklearn")
    dice = dice_ml.Dice(data, model, "random")
    queries = _encoded(target, X)
    out: list[Row] = []
    for i in range(len(X)):
        started = time.perf_counter()
        # dice-ml 0.12 warns on current pandas and draws a tqdm bar per call on stderr
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            answer = dice.generate_counterfactuals(
                queries.iloc[[i]], total_CFs=total_cfs, desired_class="opposite",
                features_to_vary=vary, permitted_range=permitted,
                stopping_threshold=1 - target.threshold, random_seed=seed, verbose=False,
            )  # fmt: skip
        found = answer.cf_examples_list[0].final_cfs_df  # None when it found none
        ms = (time.perf_counter() - started) * 1000
        out.append(_best(target, found, feasible, X[i], ms))
    return out


def compare_with_dice(
    target: Target,
    X: np.ndarray,
    *,
    dice_rows_max: int | None = None,
    total_cfs: int = 4,
    seed: int = 0,
) -> tuple[Side, Side | None, Side | None]:
    """Cairn on every row of ``X``; Cairn and dice-ml on its first ``dice_rows_max`` rows
    (all when None). The dice sides are None when dice-ml is not installed or ``X`` is empty."""
    rows, method = cairn_rows(target, X)
    everything = side("cairn", method, rows)
    if not dice_available() or len(X) == 0:
        return everything, None, None
    n = len(X) if dice_rows_max is None else min(dice_rows_max, len(X))
    theirs = dice_rows(target, X[:n], total_cfs=total_cfs, seed=seed)
    return everything, side("cairn", method, rows[:n]), side("dice-ml", "random", theirs)


def side(label: str, method: str, rows: Sequence[Row]) -> Side:
    """The numbers of one method's answers (see the module)."""
    found = [r for r in rows if r[0]]
    ms = [r[4] for r in rows]
    return Side(
        label=label,
        method=method,
        rows=len(rows),
        found=len(found) / max(len(rows), 1),
        validity=sum(r[1] for r in found) / max(len(found), 1),
        sparsity=float(np.mean([r[2] for r in found])) if found else math.nan,
        distance=float(np.mean([r[3] for r in found])) if found else math.nan,
        ms_mean=float(np.mean(ms)) if ms else math.nan,
        ms_p50=float(np.median(ms)) if ms else math.nan,
    )


def _best(
    target: Target,
    found: pd.DataFrame | None,
    feasible: dict[str, Feasible],
    x: np.ndarray,
    ms: float,
) -> Row:
    """dice's best candidate: valid first, then fewest changes, then smallest distance."""
    if found is None or found.empty:
        return False, False, 0, 0.0, ms
    cands = _decoded(target, found)
    valid = ~target.declined(cands)
    best: Row | None = None
    for row, ok in zip(cands, valid, strict=True):
        changed = [j for j in range(len(x)) if not _same(row[j], x[j])]
        names = [target.features[j] for j in changed]
        distance = sum(
            feasible[n].cost(float(x[j]), float(row[j])) if n in feasible else 1.0
            for j, n in zip(changed, names, strict=True)
        )
        item = (True, bool(ok), len(changed), float(distance), ms)
        if best is None or (not item[1], item[2], item[3]) < (not best[1], best[2], best[3]):
            best = item
    assert best is not None
    return best


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _observed(ref: Any, column: np.ndarray) -> tuple[float, float]:
    """A fixed numeric feature's declared range: the profile's and the rows' values."""
    lo, hi = float(np.nanmin(column)), float(np.nanmax(column))
    if isinstance(ref, NumericReference) and ref.min is not None and ref.max is not None:
        lo, hi = min(lo, float(ref.min)), max(hi, float(ref.max))
    return lo, hi


def _precision(ref: Any) -> Any:
    """dice-ml's type of a numeric feature: ``"int"`` when the profile saw only whole
    numbers, else ``["float", decimals]`` (at most 4, as observed)."""
    if not isinstance(ref, NumericReference) or ref.sample.size == 0:
        return ["float", 4]
    sample = ref.sample[np.isfinite(ref.sample)]
    if np.all(sample == np.round(sample)):
        return "int"
    for decimals in range(1, 5):
        if np.allclose(sample, np.round(sample, decimals)):
            return ["float", decimals]
    return ["float", 4]
