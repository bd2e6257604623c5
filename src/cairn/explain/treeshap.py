"""Exact path-dependent TreeSHAP over scikit-learn's tree structures.

The values of Lundberg et al. (2018, *Consistent individualized feature attribution for tree
ensembles*, Algorithm 2), computed leaf by leaf as the Shapley values of each leaf's product
game, every leaf of every tree and every row at once
(:mod:`cairn.explain.treeshap_paths`): no Python loop per tree, node or row.

Supported (:func:`tree_ensemble`): ``DecisionTreeClassifier``/``Regressor``,
``RandomForest*``, ``ExtraTrees*``, ``GradientBoostingClassifier`` (margin = the initial raw
prediction + ``learning_rate`` times the sum of the trees) and
``HistGradientBoostingClassifier`` (its ``_predictors`` node arrays; categorical splits by
their bitsets, unknown categories and missing values go the learned direction). The values
explained are the trees' outputs: the class-1 probability for a forest or a single tree
classifier, the raw log-odds for gradient boosting.

Example
-------
>>> from sklearn.tree import DecisionTreeRegressor
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 3)); y = X[:, 0] + (X[:, 1] > 0)
>>> ens = tree_ensemble(DecisionTreeRegressor(max_depth=3, random_state=0).fit(X, y))
>>> phi = tree_shap(ens, X[:5])
>>> bool(np.allclose(phi.sum(axis=1), ens.raw(X[:5]))), phi.shape
(True, (5, 4))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from cairn.core.errors import ConfigError
from cairn.explain.treeshap_paths import LeafPaths
from cairn.explain.treeshap_tree import Tree

__all__ = ["Tree", "TreeEnsemble", "model_input", "tree_ensemble", "tree_shap"]

FloatMatrix = npt.NDArray[np.float64]
FloatVector = npt.NDArray[np.float64]
BoolVector = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class TreeEnsemble:
    """``raw(X) = base + scale * sum(tree outputs)``: what :func:`tree_shap` explains."""

    trees: list[Tree]
    base: float
    scale: float
    _paths: dict[int, LeafPaths] = field(default_factory=dict, compare=False, repr=False)

    def paths(self, n_features: int) -> LeafPaths:
        """The leaf paths :func:`tree_shap` evaluates (built on first use, then kept)."""
        if n_features not in self._paths:
            self._paths[n_features] = LeafPaths.of(self.trees, self.scale, n_features)
        return self._paths[n_features]

    def raw(self, X: FloatMatrix) -> FloatVector:
        """The explained output per row."""
        total = np.zeros(len(X))
        for tree in self.trees:
            total += tree.predict(X)
        return self.base + self.scale * total

    def expected(self) -> float:
        """The cover-weighted mean output (the bias of the contributions)."""
        total = sum(
            float(t.value[_leaves(t)] @ t.cover[_leaves(t)]) / float(t.cover[0]) for t in self.trees
        )
        return float(self.base + self.scale * total)


def tree_shap(ensemble: TreeEnsemble, X: FloatMatrix) -> FloatMatrix:
    """Exact path-dependent SHAP values, shape (rows, features + 1), bias last; each row sums
    to ``ensemble.raw(X)`` (computed by :class:`~cairn.explain.treeshap_paths.LeafPaths`,
    built once per ensemble and input width)."""
    X = np.asarray(X, dtype=np.float64)
    n, k = X.shape
    phi = np.zeros((n, k + 1))
    phi[:, :k] = ensemble.paths(k).shap(X)
    phi[:, k] = ensemble.expected()
    return phi


def tree_ensemble(model: Any) -> TreeEnsemble:
    """The trees of a fitted scikit-learn tree model (see the module for the supported ones).

    Raises
    ------
    ConfigError
        ``model`` is not one of the supported tree models.
    """
    from sklearn import ensemble, tree

    if isinstance(model, ensemble.HistGradientBoostingClassifier):
        return _hist_gradient_boosting(model)
    if isinstance(model, ensemble.GradientBoostingClassifier):
        if model.n_trees_per_iteration_ != 1:
            raise ConfigError("TreeSHAP: GradientBoostingClassifier must be binary.")
        trees = [_sklearn_tree(e.tree_, classifier=False) for e in model.estimators_[:, 0]]
        base = float(model._raw_predict_init(np.zeros((1, model.n_features_in_)))[0, 0])
        return TreeEnsemble(trees, base, float(model.learning_rate))
    forests = (
        ensemble.RandomForestClassifier,
        ensemble.RandomForestRegressor,
        ensemble.ExtraTreesClassifier,
        ensemble.ExtraTreesRegressor,
    )
    if isinstance(model, forests):
        classifier = hasattr(model, "classes_")
        trees = [_sklearn_tree(e.tree_, classifier=classifier) for e in model.estimators_]
        return TreeEnsemble(trees, 0.0, 1.0 / len(trees))
    if isinstance(model, (tree.DecisionTreeClassifier, tree.DecisionTreeRegressor)):
        classifier = hasattr(model, "classes_")
        return TreeEnsemble([_sklearn_tree(model.tree_, classifier=classifier)], 0.0, 1.0)
    raise ConfigError(
        f"TreeSHAP: expected a scikit-learn decision tree, forest, extra trees, gradient "
        f"boosting or histogram gradient boosting model; got {type(model).__name__}."
    )


def _sklearn_tree(t: Any, *, classifier: bool) -> Tree:
    value = np.asarray(t.value, dtype=np.float64)[:, 0, :]
    if classifier:
        if value.shape[1] != 2:
            raise ConfigError(
                f"TreeSHAP: expected a binary classifier; got {value.shape[1]} classes."
            )
        value = value[:, 1] / value.sum(axis=1)
    else:
        value = value[:, 0]
    missing = getattr(t, "missing_go_to_left", None)
    return Tree(
        left=np.asarray(t.children_left, dtype=np.int64),
        right=np.asarray(t.children_right, dtype=np.int64),
        feature=np.asarray(t.feature, dtype=np.int64),
        threshold=np.asarray(t.threshold, dtype=np.float64),
        missing_left=np.zeros(t.node_count, bool) if missing is None else np.asarray(missing, bool),
        value=value,
        cover=np.asarray(t.weighted_n_node_samples, dtype=np.float64),
    )


def _hist_gradient_boosting(model: Any) -> TreeEnsemble:
    if model.n_trees_per_iteration_ != 1:
        raise ConfigError("TreeSHAP: HistGradientBoostingClassifier must be binary.")
    known, f_idx_map = model._bin_mapper.make_known_categories_bitsets()
    order = _input_order(model)
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        categorical = nodes["is_categorical"].astype(bool)
        left_bits = np.zeros((len(nodes), 8), dtype=np.uint32)
        known_bits = np.zeros((len(nodes), 8), dtype=np.uint32)
        for i in np.flatnonzero(categorical & ~leaf):
            left_bits[i] = predictor.raw_left_cat_bitsets[nodes["bitset_idx"][i]]
            known_bits[i] = known[f_idx_map[nodes["feature_idx"][i]]]
        trees.append(
            Tree(
                left=np.where(leaf, -1, nodes["left"].astype(np.int64)),
                right=np.where(leaf, -1, nodes["right"].astype(np.int64)),
                feature=order[nodes["feature_idx"].astype(np.int64)],
                threshold=nodes["num_threshold"].astype(np.float64),
                missing_left=nodes["missing_go_to_left"].astype(bool),
                value=nodes["value"].astype(np.float64),
                cover=nodes["count"].astype(np.float64),
                categorical=categorical,
                left_bitset=left_bits,
                known_bitset=known_bits,
            )
        )
    return TreeEnsemble(trees, float(np.ravel(model._baseline_prediction)[0]), 1.0)


def model_input(model: Any, X: Any) -> FloatMatrix:
    """The float matrix the trees of ``model`` split on, in the columns of ``X`` (a
    HistGradientBoosting model's categories as its own ordinal codes)."""
    pre = getattr(model, "_preprocessor", None)
    if pre is None:
        return np.asarray(X, dtype=np.float64)
    Z = np.asarray(pre.transform(X), dtype=np.float64)
    out = np.empty_like(Z)
    out[:, _input_order(model)] = Z
    return out


def _input_order(model: Any) -> npt.NDArray[np.int64]:
    """Per column the HistGradientBoosting predictors see: the input column it comes from."""
    pre = getattr(model, "_preprocessor", None)
    if pre is None:
        return np.arange(model.n_features_in_, dtype=np.int64)
    picked = [
        np.flatnonzero(cols) if np.asarray(cols).dtype == bool else np.asarray(cols)
        for _, _, cols in pre.transformers_
        if not (isinstance(cols, (list, np.ndarray)) and len(cols) == 0)
    ]
    return np.concatenate(picked).astype(np.int64)


def _leaves(tree: Tree) -> npt.NDArray[np.intp]:
    return np.flatnonzero(tree.left < 0)
