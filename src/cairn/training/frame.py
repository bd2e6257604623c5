"""From a training set to model inputs: numeric features as float64, text as categories.

Categories are fixed from the training rows (a value seen only later becomes missing), and the
same :class:`FeatureFrame` turns any later frame (validation, monitoring, serving) into the
exact columns and dtypes the model was fitted on.

Example
-------
>>> import pandas as pd
>>> train = pd.DataFrame({"income": [10, None, 30], "home": ["rent", "owner", None]})
>>> ff = FeatureFrame.fit(train, ["income", "home"])
>>> [c.kind for c in ff.columns], ff.categories
(['double', 'string'], {'home': ['owner', 'rent']})
>>> X = ff.transform(pd.DataFrame({"income": [5], "home": ["parents"]}))
>>> X.dtypes.astype(str).tolist(), X["home"].isna().tolist()
(['float64', 'category'], [True])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cairn.core.errors import DataError
from cairn.tracking.models import Column


@dataclass(frozen=True)
class FeatureFrame:
    """The model's input columns and, for text columns, their categories."""

    features: list[str]
    categories: dict[str, list[str]]

    @classmethod
    def fit(cls, frame: pd.DataFrame, features: Sequence[str]) -> FeatureFrame:
        """Learn which columns are categorical (text, boolean-free) and their levels."""
        missing = [f for f in features if f not in frame.columns]
        if missing:
            raise DataError(
                f"The training set lacks the feature column(s) {missing}; "
                f"got {list(frame.columns)}."
            )
        categories: dict[str, list[str]] = {}
        for name in features:
            col = frame[name]
            if _is_text(col):
                levels = col.dropna().astype(str).unique().tolist()
                categories[name] = sorted(levels)
        return cls(list(features), categories)

    @property
    def columns(self) -> list[Column]:
        """The model signature's input columns."""
        return [Column(f, "string" if f in self.categories else "double") for f in self.features]

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The model inputs of ``frame``: float64 numbers and fixed categories, in order."""
        out: dict[str, pd.Series] = {}
        for name in self.features:
            if name not in frame.columns:
                raise DataError(f"Model input lacks the feature column {name!r}.")
            col = frame[name]
            if name in self.categories:
                out[name] = _as_category(col, self.categories[name])
            else:
                out[name] = _as_float(col, name)
        return pd.DataFrame(out, index=frame.index)

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """The float64 matrix serving builds for the same rows: numbers as floats, a category
        as its level index in :attr:`categories`, missing or unseen values as NaN.

        Example
        -------
        >>> ff = FeatureFrame(["x", "home"], {"home": ["own", "rent"]})
        >>> ff.matrix(pd.DataFrame({"x": [2, None], "home": ["rent", "boat"]})).tolist()
        [[2.0, 1.0], [nan, nan]]
        """
        return code_matrix(self.transform(frame))


def code_matrix(X: pd.DataFrame, categories: dict[str, list[str]] | None = None) -> np.ndarray:
    """Model inputs as serving's float64 matrix: numbers as they are, a category as its level
    index (in ``categories[name]`` when given, else the column's own levels), missing or
    unknown as NaN. The one conversion every family's training side uses.

    Example
    -------
    >>> X = pd.DataFrame({"x": [1.5, None], "home": pd.Categorical(["rent", None])})
    >>> code_matrix(X, {"home": ["own", "rent"]}).tolist()
    [[1.5, 1.0], [nan, nan]]
    """
    out = np.empty(X.shape, dtype=np.float64)
    for j, name in enumerate(X.columns):
        col = X[name]
        levels = (categories or {}).get(str(name))
        if levels is not None:
            col = pd.Series(pd.Categorical(col.astype(object), categories=levels))
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy(dtype=np.float64)
            out[:, j] = np.where(codes < 0, np.nan, codes)
        else:
            out[:, j] = col.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _is_text(col: pd.Series) -> bool:
    dtype = col.dtype
    return bool(
        isinstance(dtype, pd.CategoricalDtype)
        or pd.api.types.is_string_dtype(dtype)
        or dtype.kind == "O"
    )


def _as_category(col: pd.Series, levels: list[str]) -> pd.Series:
    text = col.astype("string")
    known = text.where(text.isin(levels))  # unseen levels become missing
    values = known.to_numpy(dtype=object, na_value=np.nan)
    return pd.Series(pd.Categorical(values, categories=levels), index=col.index, name=col.name)


def _as_float(col: pd.Series, name: str) -> pd.Series:
    try:
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise DataError(
            f"Feature {name!r} must be numeric or text; its dtype {col.dtype} cannot be "
            f"converted to float64."
        ) from None
    return pd.Series(values, index=col.index, name=name)
