"""Explanations: exact TreeSHAP contributions and adverse-action reason codes.

:func:`tree_contributions` takes LightGBM's native ``pred_contrib`` values (identical to
``shap.TreeExplainer``); :func:`top_reasons` turns the factors pushing toward decline into
coded texts from a :class:`ReasonCodeBook` (a YAML file per project), and :func:`summarize`
writes one sentence. Imports only :mod:`cairn.core`.
"""

from __future__ import annotations

from cairn.explain.contributions import split_references, tree_contributions
from cairn.explain.example import REASON_CODES_FILE, write_example_reason_codes
from cairn.explain.reason_codes import ReasonCodeBook, direction_of, summarize, top_reasons

__all__ = [
    "REASON_CODES_FILE",
    "ReasonCodeBook",
    "direction_of",
    "split_references",
    "summarize",
    "top_reasons",
    "tree_contributions",
    "write_example_reason_codes",
]
