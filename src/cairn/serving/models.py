"""What serving scores: a model of any family with its input columns, and the loader protocol.

The composition root implements :class:`ModelLoader` over the registry (``cairn.app``), so
serving never imports tracking or training. A :class:`ScoringModel` turns feature values into
one float matrix itself (categories become their level index, as training saw them), which
keeps pandas off the request path, and scores, explains and warms through its family's
:class:`~cairn.serving.scorers.Scorer`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt
import orjson

from cairn.core.errors import DataError
from cairn.serving.scorers import LightGBMScorer, Scorer

if TYPE_CHECKING:
    from cairn.profiles.profile import ReferenceProfile

FloatMatrix = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ScoringModel:
    """A loaded model version ready to score.

    Parameters
    ----------
    name, version:
        The registered model and version.
    booster:
        The model: a :class:`~cairn.serving.scorers.Scorer` of any family, or a native
        LightGBM booster (wrapped in :class:`~cairn.serving.scorers.LightGBMScorer`).
    features:
        Model input columns, in order.
    refs:
        The ``view:feature`` reference of each column, same order (None: request-time only).
    categories:
        Per categorical column, its levels (index = the code the booster expects).
    profile:
        The version's reference profile, when the loader read it (counterfactuals take the
        feasible ranges, scales and levels from it).

    Example
    -------
    >>> levels = {"home": ["own", "rent"]}
    >>> m = ScoringModel("m", "1", None, ["x", "home"], ["v:x", "v:home"], levels)
    >>> m.matrix([{"x": 2, "home": "rent"}, {"x": None, "home": "boat"}]).tolist()
    [[2.0, 1.0], [nan, nan]]
    """

    name: str
    version: str
    booster: Any
    features: list[str]
    refs: list[str | None]
    categories: dict[str, list[str]] = field(default_factory=dict)
    references: dict[str, float] = field(default_factory=dict)
    profile: ReferenceProfile | None = field(default=None, repr=False, compare=False)
    """The version's reference profile (counterfactuals' feasible ranges; None: not loaded)."""
    scorer: Scorer = field(init=False, repr=False, compare=False)
    """How this model scores and explains (its family's)."""
    categorical: frozenset[str] = field(init=False, repr=False, compare=False)
    """The categorical columns (derived from ``categories`` once, for reason codes)."""
    _codes: dict[str, dict[str, float]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        codes = {
            c: {lv: float(i) for i, lv in enumerate(lvs)} for c, lvs in self.categories.items()
        }
        object.__setattr__(self, "_codes", codes)  # derived once; the value stays frozen
        scorer = self.booster if isinstance(self.booster, Scorer) else LightGBMScorer(self.booster)
        object.__setattr__(self, "scorer", scorer)
        object.__setattr__(self, "categorical", frozenset(self.categories))

    @property
    def online_refs(self) -> list[str]:
        """The ``view:feature`` references read from the online store."""
        return [r for r in self.refs if r is not None]

    def matrix(self, rows: Sequence[Mapping[str, Any]]) -> FloatMatrix:
        """Rows of column -> value as the booster's float64 matrix (unknown levels: NaN)."""
        codes = self._codes
        X = np.full((len(rows), len(self.features)), np.nan)
        for j, name in enumerate(self.features):
            levels = codes.get(name)
            for i, row in enumerate(rows):
                value = row.get(name)
                if value is None:
                    continue
                if levels is not None:
                    X[i, j] = levels.get(str(value), math.nan)
                    continue
                X[i, j] = self._number(name, value)
        return X

    def _number(self, name: str, value: Any) -> float:
        """A numeric feature's value: a real, finite number (``null`` is missing).

        Strings (``"NaN"``, ``"1_000"``, ``"1e400"``) and booleans are refused rather than
        parsed: a value the model would see as missing must not be explained as present.
        """
        if type(value) is float or type(value) is int:
            number = float(value)
        elif isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
            number = float(value)  # numpy scalars from the online store
        else:
            raise DataError(
                f"Feature {name!r} of model {self.name}/{self.version} must be a number "
                f"sent as a JSON number (null when missing); got {_shown(value)}."
            )
        if math.isinf(number):
            raise DataError(
                f"Feature {name!r} of model {self.name}/{self.version} must be a finite number; "
                f"got {_shown(value)}."
            )
        return number

    @property
    def family(self) -> str:
        """The model family (``lightgbm``, ``xgboost``, ``sklearn``, ``scorecard``)."""
        return self.scorer.family

    def score(self, X: FloatMatrix) -> FloatMatrix:
        """The probability of the positive class for each row."""
        return self.scorer.predict(X)

    def contributions(self, X: FloatMatrix) -> FloatMatrix:
        """Per row, each feature's contribution and the bias last, adding up to the margin
        (log-odds, or points for a scorecard)."""
        return self.scorer.contributions(X)

    def warm(self) -> None:
        """Score and explain one empty row, so the first request does not pay for it."""
        X = self.matrix([{}])
        self.score(X)
        self.contributions(X)


def _shown(value: Any) -> str:
    """What was received, as JSON when it is JSON (``true``, ``"NaN"``), shortened."""
    try:
        text = orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    except (orjson.JSONEncodeError, TypeError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class ModelLoader(Protocol):
    """Loads models from the registry (implemented by ``cairn.app``).

    ``resolve`` is cheap (one registry read) and tells whether an alias moved; ``load``
    downloads and parses a version. Both raise when the registry is unreachable.
    """

    def resolve(self, ref: str) -> str:
        """The version ``ref`` (``NAME@ALIAS`` or ``NAME/VERSION``) points at now."""
        ...

    def load(self, ref: str, version: str) -> ScoringModel:
        """Load ``version`` of the model named in ``ref``."""
        ...
