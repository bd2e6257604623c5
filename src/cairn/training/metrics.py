"""Discrimination and calibration metrics of a binary credit score.

Example
-------
>>> import numpy as np
>>> m = evaluate(np.array([0, 0, 1, 1]), np.array([0.1, 0.6, 0.4, 0.9]), threshold=0.5)
>>> m["auc"], m["gini"], m["ks"], m["precision"], m["recall"], round(m["brier"], 4)
(0.75, 0.5, 0.5, 0.5, 0.5, 0.185)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from cairn.core.errors import DataError

METRICS = ("auc", "gini", "ks", "precision", "recall", "brier", "positive_rate", "rows")
"""What :func:`evaluate` returns, in display order."""


def evaluate(
    y: npt.NDArray[np.integer] | npt.NDArray[np.floating],
    score: npt.NDArray[np.floating],
    threshold: float = 0.5,
) -> dict[str, float]:
    """AUC, Gini (2·AUC − 1), the KS statistic (max |TPR − FPR|), precision and recall of
    ``score >= threshold``, the Brier score, the positive rate and the row count."""
    from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

    y = np.asarray(y, dtype=np.int64)
    score = np.asarray(score, dtype=np.float64)
    if len(np.unique(y)) < 2:
        raise DataError(
            f"AUC and KS need both classes; the label has only {np.unique(y).tolist()} "
            f"in these {len(y)} rows."
        )
    auc = float(roc_auc_score(y, score))
    fpr, tpr, _ = roc_curve(y, score)
    predicted = score >= threshold
    tp = int(np.sum(predicted & (y == 1)))
    return {
        "auc": auc,
        "gini": 2 * auc - 1,
        "ks": float(np.max(np.abs(tpr - fpr))),
        "precision": tp / int(predicted.sum()) if predicted.any() else 0.0,
        "recall": tp / int((y == 1).sum()),
        "brier": float(brier_score_loss(y, score)),
        "positive_rate": float(np.mean(y)),
        "rows": float(len(y)),
    }
