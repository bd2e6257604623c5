"""The peers of the model-families benchmark: each family's own library scoring and explaining
the fitted model it trained, on its native input built beforehand (untimed).

* LightGBM: ``booster.predict`` on the float code matrix (the booster's fastest input; the
  pandas categories are level codes inside it), ``pred_contrib``; one thread, as Cairn.
* XGBoost: ``inplace_predict`` on the same matrix (the booster was trained on it),
  ``predict(DMatrix, pred_contribs=True)``; one thread.
* scikit-learn: ``predict_proba`` on the training DataFrame layout
  (``FeatureFrame.transform``); contributions by ``shap.TreeExplainer`` (HistGradientBoosting)
  or ``shap.LinearExplainer`` on the pipeline's transformed inputs (logistic regression).
* optbinning: ``Scorecard.predict_proba`` on the DataFrame with text categories as objects (how
  optbinning reads them); no per-characteristic contribution API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Index = int | slice


@dataclass
class Peer:
    """A family's own predict and (when it has one) contributions over prebuilt inputs."""

    family: str
    fitted: Any
    features: list[str]
    categories: dict[str, list[str]]
    contrib_note: str = ""

    def inputs(self, rows: Sequence[Mapping[str, Any]], X: np.ndarray) -> Any:
        """The native input of ``rows`` (``X``: Cairn's code matrix of the same rows)."""
        import pandas as pd

        from cairn.training.frame import FeatureFrame

        if self.family in ("lightgbm", "xgboost"):
            return _Rows(np.ascontiguousarray(X), lambda a, i: a[i : i + 1], lambda a, s: a[s])
        frame = FeatureFrame(self.features, self.categories).transform(pd.DataFrame(list(rows)))
        if self.family == "scorecard":
            frame = frame.astype({n: object for n in self.categories})
        frame = frame.reset_index(drop=True)
        return _Rows(frame, lambda f, i: f.iloc[i : i + 1], lambda f, s: f.iloc[s])

    def predict(self, native: Any, index: Index) -> np.ndarray:
        """The probability of the positive class of row ``index`` (or rows ``index``)."""
        data = native.get(index)
        est = self.fitted.estimator
        if self.family == "lightgbm":
            return np.asarray(est.predict(data, num_threads=1))
        if self.family == "xgboost":
            return np.asarray(native.booster(est).inplace_predict(data))
        return np.asarray(est.predict_proba(data)[:, 1])

    def contributions(self, native: Any) -> Callable[[int], np.ndarray] | None:
        """Row ``i`` -> its native contributions, bias last (None: the family has none)."""
        est = self.fitted.estimator
        if self.family == "lightgbm":
            self.contrib_note = "LightGBM predict(pred_contrib=True, num_threads=1)"
            return lambda i: np.asarray(
                est.predict(native.get(i), pred_contrib=True, num_threads=1)
            )
        if self.family == "xgboost":
            import xgboost as xgb

            booster = native.booster(est)
            names, types = list(booster.feature_names), list(booster.feature_types)
            self.contrib_note = "XGBoost predict(DMatrix, pred_contribs=True), nthread 1"

            def xgb_contrib(i: int) -> np.ndarray:
                d = xgb.DMatrix(native.get(i), feature_names=names, feature_types=types,
                                enable_categorical=True, nthread=1)  # fmt: skip
                return np.asarray(booster.predict(d, pred_contribs=True))

            return xgb_contrib
        if self.family == "scorecard":
            self.contrib_note = "none (optbinning has no per-characteristic contribution API)"
            return None
        return self._shap(native)

    def _shap(self, native: Any) -> Callable[[int], np.ndarray] | None:
        import shap

        est = self.fitted.estimator
        try:
            if self.family == "sklearn-logistic":
                pre, lr = est[:-1], est[-1]
                means = np.asarray(self.fitted.linear_means, dtype=np.float64).ravel()
                explainer = shap.LinearExplainer(lr, (means, np.eye(len(means))))
                bias = float(np.ravel(explainer.expected_value)[0])
                self.contrib_note = "shap.LinearExplainer (training means) on pipeline[:-1] output"

                def linear(i: int) -> np.ndarray:
                    phi = np.asarray(explainer.shap_values(pre.transform(native.get(i))))
                    return np.hstack([phi.reshape(1, -1), [[bias]]])

                linear(0)
                return linear
            tree = shap.TreeExplainer(est)
            tree_bias = float(np.ravel(tree.expected_value)[-1])
            self.contrib_note = "shap.TreeExplainer(HistGradientBoostingClassifier)"

            def trees(i: int) -> np.ndarray:
                values = np.asarray(tree.shap_values(native.get(i)))
                if values.ndim == 3:
                    values = values[..., -1]
                return np.hstack([values.reshape(1, -1), [[tree_bias]]])

            trees(0)
            return trees
        except Exception as exc:  # a peer that cannot explain this model is reported, not fatal
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
            self.contrib_note = f"shap could not explain it: {type(exc).__name__}: {first}"
            return None


class _Rows:
    """Prebuilt native inputs: single rows cut once, slices on demand."""

    def __init__(
        self, data: Any, one: Callable[[Any, int], Any], many: Callable[[Any, slice], Any]
    ) -> None:
        self.data = data
        self._many = many
        self._singles = [one(data, i) for i in range(len(data))]
        self._booster: Any = None

    def get(self, index: Index) -> Any:
        """Row ``index`` (cut beforehand) or the rows of a slice."""
        if isinstance(index, slice):
            return self._many(self.data, index)
        return self._singles[index]

    def booster(self, booster: Any) -> Any:
        """A one-thread copy of an XGBoost booster (made once)."""
        if self._booster is None:
            self._booster = booster.copy()
            self._booster.set_param({"nthread": 1})
        return self._booster


def peer_of(fam: Any, model: Any) -> Peer:
    """The peer of a trained family (``model``: the loaded ScoringModel, for its columns)."""
    return Peer(fam.family, fam.fitted, list(model.features), dict(model.categories))
