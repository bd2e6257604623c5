"""Exact path-dependent TreeSHAP as array arithmetic over every leaf of an ensemble at once.

Path-dependent TreeSHAP (Lundberg et al. 2018) credits each leaf ``l`` of value ``v`` to the
features on its root path. Per unique feature ``i`` of that path, ``z_i`` is the product of
the cover fractions of the path's splits on ``i`` (the share of training rows that follow it)
and ``o_i`` is 1 when the explained row follows all of them, else 0. The leaf's value function
is the product game ``g(S) = v * prod_{i in S} o_i * prod_{i not in S} z_i``, whose Shapley
values are

``phi_j = v * (o_j - z_j) * sum_k w(k) * [t^k] prod_{i != j} (z_i + o_i t)``,
``w(k) = k! (d - k - 1)! / d!``

with ``d`` the number of players. :class:`LeafPaths` precomputes, once per ensemble, every
leaf's path as ``D`` feature slots (``D`` the longest path's unique features; shorter paths are
padded with null players ``z = o = 1``, which leaves Shapley values unchanged), so explaining a
batch is: all split tests of all trees at once, one ``and``-reduction per slot, the product
polynomial built in ``D`` steps and divided by each slot's factor (synthetic division), and one
matrix product onto the features. No Python loop runs per tree, node or row.

A leaf's values depend on the row only through which of its ``D`` slots the row follows, so
(as Fast TreeSHAP v2, Yang 2021) each group of leaves precomputes its values for all ``2**D``
patterns once (:meth:`_Group.tabulated`, when the table stays under :data:`TABLE_CELLS`); a
row then costs its split tests, one pattern index per leaf and a lookup.

Example
-------
>>> from sklearn.tree import DecisionTreeRegressor
>>> from cairn.explain.treeshap import tree_ensemble
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 3)); y = X[:, 0] + (X[:, 1] > 0)
>>> ens = tree_ensemble(DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y))
>>> phi = LeafPaths.of(ens.trees, ens.scale, 3).shap(X[:5])
>>> bool(np.allclose(phi.sum(axis=1) + ens.expected(), ens.raw(X[:5]))), phi.shape
(True, (5, 3))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from math import factorial
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from cairn.explain.treeshap_tree import Tree

__all__ = ["LeafPaths"]

FloatMatrix = npt.NDArray[np.float64]
IntVector = npt.NDArray[np.int64]
BoolMatrix = npt.NDArray[np.bool_]
CHUNK = 1 << 17
"""Rows are explained in chunks of about this many (row, leaf, slot) cells."""
TABLE_CELLS = 1 << 21
"""The most cells (leaves x 2**slots x slots) a group's lookup table may hold (16 MiB)."""


@dataclass(frozen=True)
class LeafPaths:
    """Every leaf path of an ensemble as flat arrays (see the module)."""

    feature: IntVector
    """Per split node (all trees, plus one always-left node last): the feature it tests."""
    threshold: FloatMatrix
    missing_left: npt.NDArray[np.bool_]
    categorical: IntVector
    """The split nodes that test a category bitset."""
    left_bitset: npt.NDArray[np.uint32]
    """Per categorical node (in :attr:`categorical` order): the words of categories going left."""
    known_bitset: npt.NDArray[np.uint32]
    edge_node: IntVector
    """Per path edge, grouped by (leaf, slot): the split node it passes."""
    edge_left: npt.NDArray[np.bool_]
    """Per path edge: the path goes to the left child."""
    starts: IntVector
    """Per (leaf, slot): the offset of its first edge (every slot has at least one)."""
    groups: tuple[_Group, ...]
    """The leaves, grouped by their padded number of slots."""
    n_features: int

    @classmethod
    def of(cls, trees: Sequence[Tree], scale: float, n_features: int) -> LeafPaths:
        """The leaf paths of ``trees`` over ``n_features`` inputs."""
        nodes: list[tuple[int, int]] = []  # (tree, node) of each split node, global order
        index: dict[tuple[int, int], int] = {}
        leaves: list[tuple[float, list[tuple[int, list[tuple[int, bool]], float]]]] = []
        for t, tree in enumerate(trees):
            for n in np.flatnonzero(tree.left >= 0):
                index[(t, int(n))] = len(nodes)
                nodes.append((t, int(n)))
            for leaf, path in _paths(tree):
                slots: dict[int, tuple[list[tuple[int, bool]], float]] = {}
                for parent, went_left in path:
                    f = int(tree.feature[parent])
                    child = tree.left[parent] if went_left else tree.right[parent]
                    cover = tree.cover[parent]
                    frac = float(tree.cover[child] / cover) if cover > 0 else 0.0
                    edges, z = slots.get(f, ([], 1.0))
                    slots[f] = ([*edges, (index[(t, parent)], went_left)], z * frac)
                if slots:
                    items = [(f, edges, z) for f, (edges, z) in slots.items()]
                    leaves.append((float(tree.value[leaf]) * scale, items))
        always = len(nodes)  # a virtual node every row goes left at (threshold +inf)
        leaves.sort(key=lambda leaf: len(leaf[1]))
        edge_node: list[int] = []
        edge_left: list[bool] = []
        starts: list[int] = []
        groups: list[_Group] = []
        begin = 0
        while begin < len(leaves):
            depth = _padded(len(leaves[begin][1]))
            end = begin
            while end < len(leaves) and _padded(len(leaves[end][1])) == depth:
                end += 1
            zero = np.ones((end - begin, depth))
            onto = np.zeros(((end - begin) * depth, n_features))
            for li, (_, items) in enumerate(leaves[begin:end]):
                for s in range(depth):
                    starts.append(len(edge_node))
                    if s < len(items):
                        f, edges, z = items[s]
                        edge_node.extend(e for e, _ in edges)
                        edge_left.extend(g for _, g in edges)
                        zero[li, s] = z
                        onto[li * depth + s, f] = 1.0
                    else:
                        edge_node.append(always)
                        edge_left.append(True)
            value = np.array([v for v, _ in leaves[begin:end]], dtype=np.float64)
            group = _Group(len(starts) - zero.size, zero, onto, value, _weights(depth))
            groups.append(group.tabulated())
            begin = end
        categorical = [g for g, (t, node) in enumerate(nodes) if _is_categorical(trees[t], node)]
        words = 8
        left_bits = np.zeros((len(categorical), words), dtype=np.uint32)
        known_bits = np.zeros((len(categorical), words), dtype=np.uint32)
        for c, g in enumerate(categorical):
            t, node = nodes[g]
            left, known = trees[t].left_bitset, trees[t].known_bitset
            assert left is not None and known is not None
            left_bits[c], known_bits[c] = left[node], known[node]
        return cls(
            feature=np.array([int(trees[t].feature[n]) for t, n in nodes] + [0], np.int64),
            threshold=np.array([float(trees[t].threshold[n]) for t, n in nodes] + [np.inf]),
            missing_left=np.array([bool(trees[t].missing_left[n]) for t, n in nodes] + [True]),
            categorical=np.array(categorical, dtype=np.int64),
            left_bitset=left_bits,
            known_bitset=known_bits,
            edge_node=np.array(edge_node, dtype=np.int64),
            edge_left=np.array(edge_left, dtype=bool),
            starts=np.array(starts, dtype=np.int64),
            groups=tuple(groups),
            n_features=n_features,
        )

    def shap(self, X: FloatMatrix) -> FloatMatrix:
        """The SHAP values of the rows of ``X``, shape (rows, features), bias excluded."""
        X = np.asarray(X, dtype=np.float64)
        cells = max(1, len(self.starts))
        step = max(1, CHUNK // cells)
        out = np.zeros((len(X), self.n_features))
        for begin in range(0, len(X), step):
            rows = X[begin : begin + step]
            match = self.goes_left(rows)[:, self.edge_node] == self.edge_left
            one = np.logical_and.reduceat(match, self.starts, axis=1)
            for group in self.groups:
                out[begin : begin + step] += group.shap(one)
        return out

    def goes_left(self, X: FloatMatrix) -> BoolMatrix:
        """(rows, split nodes): does the row go to the left child at each split node."""
        x = X[:, self.feature]
        missing = np.isnan(x)
        with np.errstate(invalid="ignore"):
            left = np.where(missing, self.missing_left, x <= self.threshold)
        if len(self.categorical):
            c = x[:, self.categorical]
            bad = np.isnan(c) | (c < 0) | (c >= 256)
            code = np.where(bad, 0, c).astype(np.int64)
            rows = np.arange(len(self.categorical))[None, :]
            word = code // 32
            bit = code % 32
            in_left = ((self.left_bitset[rows, word].astype(np.int64) >> bit) & 1).astype(bool)
            known = ((self.known_bitset[rows, word].astype(np.int64) >> bit) & 1).astype(bool)
            in_left &= ~bad
            known &= ~bad
            default = self.missing_left[self.categorical]
            left[:, self.categorical] = np.where(in_left | known, in_left, default)
        return np.asarray(left, dtype=bool)


@dataclass(frozen=True)
class _Group:
    """Leaves with the same number of slots ``D`` (see the module)."""

    start: int
    """The offset of the group's first (leaf, slot) cell."""
    zero: FloatMatrix
    """Per (leaf, slot): the product of the cover fractions (1 for a padding slot)."""
    onto: FloatMatrix
    """(leaf * slot, features): 1 where a slot is that feature (0 for padding)."""
    value: FloatMatrix
    """Per leaf: its value times the ensemble's scale."""
    weights: FloatMatrix
    """Shapley weights ``w(k)`` for ``k = 0 .. D - 1``."""
    table: FloatMatrix | None = None
    """(leaf, pattern, slot): :meth:`per_slot` of every pattern of "row follows the slot"
    flags (pattern bit ``s`` = slot ``s``), when small enough (:data:`TABLE_CELLS`)."""

    def tabulated(self) -> _Group:
        """This group with :attr:`table` (Fast TreeSHAP v2: a row only looks its values up),
        unless the ``leaves * 2**D * D`` table would exceed :data:`TABLE_CELLS`."""
        leaves, depth = self.zero.shape
        patterns = 1 << depth
        if leaves * patterns * depth > TABLE_CELLS:
            return self
        bits = ((np.arange(patterns)[:, None] >> np.arange(depth)[None, :]) & 1).astype(bool)
        table = np.empty((leaves, patterns, depth))
        step = max(1, CHUNK // (leaves * depth))  # bounded temporaries
        for begin in range(0, patterns, step):
            chunk = bits[begin : begin + step]
            one = np.repeat(chunk[:, None, :], leaves, axis=1)
            table[:, begin : begin + step] = self.per_slot(one).transpose(1, 0, 2)
        return replace(self, table=table)

    def shap(self, ones: BoolMatrix) -> FloatMatrix:
        """The group's SHAP values from every cell's "row follows the slot" flags."""
        leaves, depth = self.zero.shape
        n = len(ones)
        one = ones[:, self.start : self.start + self.zero.size].reshape(n, leaves, depth)
        if self.table is not None:
            pattern = (one.astype(np.int64) << np.arange(depth)).sum(axis=2)
            per_slot = self.table[np.arange(leaves)[None, :], pattern]
        else:
            per_slot = self.per_slot(one)
        return np.asarray(per_slot.reshape(n, leaves * depth) @ self.onto, dtype=np.float64)

    def per_slot(self, one: BoolMatrix) -> FloatMatrix:
        """(rows, leaves, slots): each slot's SHAP value from the flags ``one`` (same shape)
        by the product polynomial (see the module)."""
        n, leaves, depth = one.shape
        o = one.astype(np.float64)
        z = self.zero
        poly = np.zeros((n, leaves, depth + 1))  # coefficients of prod_i (z_i + o_i t)
        poly[..., 0] = 1.0
        for i in range(depth):
            shifted = poly[..., :-1] * o[..., i, None]
            poly *= z[None, :, i, None]
            poly[..., 1:] += shifted
        # o_j = 0: poly / z_j, so the weighted sum is (w . poly) / z_j
        by_zero = (poly[..., :depth] @ self.weights)[..., None] / np.where(z > 0, z, 1.0)
        by_one = np.zeros((n, leaves, depth))  # [t^k] of poly / (z_j + t), from the top
        with_one = np.zeros((n, leaves, depth))
        for k in range(depth - 1, -1, -1):
            by_one = poly[..., k + 1, None] - z * by_one
            with_one += self.weights[k] * by_one
        total = np.where(one, with_one, by_zero)
        return np.asarray(self.value[None, :, None] * (o - z) * total, dtype=np.float64)


def _is_categorical(tree: Tree, node: int) -> bool:
    return tree.categorical is not None and bool(tree.categorical[node])


def _padded(slots: int) -> int:
    """The group size a path of ``slots`` unique features is padded to (even, so few groups)."""
    return slots + slots % 2


def _weights(depth: int) -> FloatMatrix:
    d = depth
    return np.array([factorial(k) * factorial(d - k - 1) / factorial(d) for k in range(d)])


def _paths(tree: Tree) -> list[tuple[int, list[tuple[int, bool]]]]:
    """Per leaf of ``tree``: its node and the (split node, went left) edges from the root."""
    out: list[tuple[int, list[tuple[int, bool]]]] = []
    stack: list[tuple[int, list[tuple[int, bool]]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        if tree.left[node] < 0:
            out.append((node, path))
            continue
        stack.append((int(tree.right[node]), [*path, (node, False)]))
        stack.append((int(tree.left[node]), [*path, (node, True)]))
    return out
