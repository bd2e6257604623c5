"""One binary tree as flat node arrays (:class:`Tree`): the shape every scikit-learn tree is
read into for TreeSHAP (:mod:`cairn.explain.treeshap`, :mod:`cairn.explain.treeshap_paths`).

Example
-------
>>> import numpy as np
>>> t = Tree(left=np.array([1, -1, -1]), right=np.array([2, -1, -1]),
...          feature=np.array([0, 0, 0]), threshold=np.array([0.5, 0.0, 0.0]),
...          missing_left=np.array([True, False, False]), value=np.array([0.0, 1.0, 2.0]),
...          cover=np.array([2.0, 1.0, 1.0]))
>>> t.predict(np.array([[0.0], [1.0], [np.nan]])).tolist()
[1.0, 2.0, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Tree"]

FloatMatrix = npt.NDArray[np.float64]
FloatVector = npt.NDArray[np.float64]
BoolVector = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Tree:
    """One binary tree as flat node arrays (a leaf has ``left == -1``)."""

    left: npt.NDArray[np.int64]
    right: npt.NDArray[np.int64]
    feature: npt.NDArray[np.int64]
    threshold: FloatVector
    missing_left: BoolVector
    value: FloatVector
    cover: FloatVector
    categorical: BoolVector | None = None
    """Per node: the split tests a category bitset (HistGradientBoosting)."""
    left_bitset: npt.NDArray[np.uint32] | None = None
    """Per categorical node: the 8 words of categories going left."""
    known_bitset: npt.NDArray[np.uint32] | None = None
    """Per categorical node: the 8 words of categories seen in training."""

    def goes_left(self, node: int, X: FloatMatrix) -> BoolVector:
        """Per row of ``X``: does it go to the left child at ``node``."""
        x = X[:, self.feature[node]]
        missing = np.isnan(x)
        if self.categorical is not None and self.categorical[node]:
            assert self.left_bitset is not None and self.known_bitset is not None
            code = np.where(missing | (x < 0), 0, x).astype(np.int64)
            valid = ~missing & (x >= 0) & (code < 256)
            code = np.where(valid, code, 0)
            in_left = _in_bitset(self.left_bitset[node], code) & valid
            known = _in_bitset(self.known_bitset[node], code) & valid
            to_default = ~(in_left | known)
            return np.where(to_default, bool(self.missing_left[node]), in_left)
        with np.errstate(invalid="ignore"):
            le = x <= self.threshold[node]
        return np.where(missing, bool(self.missing_left[node]), le)

    def predict(self, X: FloatMatrix) -> FloatVector:
        """The leaf value per row."""
        node = np.zeros(len(X), dtype=np.int64)
        active = self.left[node] >= 0
        while active.any():
            for n in np.unique(node[active]):
                rows = np.flatnonzero(node == n)
                left = self.goes_left(int(n), X[rows])
                node[rows] = np.where(left, self.left[n], self.right[n])
            active = self.left[node] >= 0
        return self.value[node]


def _in_bitset(words: npt.NDArray[np.uint32], code: npt.NDArray[np.int64]) -> BoolVector:
    word = words[code // 32].astype(np.int64)
    return ((word >> (code % 32)) & 1).astype(bool)
