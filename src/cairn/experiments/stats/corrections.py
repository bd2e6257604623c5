"""Multiple-comparison corrections over a declared family of p-values.

Bonferroni and Holm control the family-wise error rate, Benjamini–Hochberg the false
discovery rate. Adjusted p-values are monotone in the raw ones and capped at 1, so comparing
an adjusted p-value with α is the corrected decision (as ``statsmodels`` ``multipletests``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal, TypeAlias

import numpy as np

from cairn.core.errors import ConfigError

Correction: TypeAlias = Literal["holm", "bh", "bonferroni"]
CORRECTIONS: tuple[str, ...] = ("holm", "bh", "bonferroni")


def adjust_p_values(p_values: Sequence[float], method: Correction) -> list[float]:
    """Adjust a family of p-values for multiple comparisons.

    Parameters
    ----------
    p_values : sequence of float
        Raw p-values in [0, 1], one per comparison of the family.
    method : {"holm", "bh", "bonferroni"}
        Holm's step-down, Benjamini–Hochberg step-up, or Bonferroni.

    Returns
    -------
    list of float
        Adjusted p-values in the input order.

    Example
    -------
    >>> adjust_p_values([0.01, 0.04, 0.03], "holm")
    [0.03, 0.06, 0.06]
    >>> [round(p, 3) for p in adjust_p_values([0.01, 0.04, 0.03], "bh")]
    [0.03, 0.04, 0.04]
    """
    if method not in CORRECTIONS:
        raise ConfigError(f"method must be one of {', '.join(CORRECTIONS)}; got {method!r}.")
    values = [float(p) for p in p_values]
    for p in values:
        if not (math.isfinite(p) and 0.0 <= p <= 1.0):
            raise ConfigError(f"p_values must all lie in [0, 1]; got {p!r} in {list(p_values)}.")
    m = len(values)
    if m == 0:
        return []
    raw = np.asarray(values, dtype=float)
    if method == "bonferroni":
        return [float(v) for v in np.minimum(raw * m, 1.0)]
    order = np.argsort(raw, kind="stable")
    ranked = raw[order]
    if method == "holm":
        adjusted = np.maximum.accumulate(ranked * (m - np.arange(m)))
    else:
        adjusted = np.minimum.accumulate((ranked * m / np.arange(1, m + 1))[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    return [float(v) for v in out]
