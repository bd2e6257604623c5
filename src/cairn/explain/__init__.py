"""Explanations: exact TreeSHAP contributions and reason codes (adverse-action reasons for credit).

:func:`tree_contributions` takes LightGBM's native ``pred_contrib`` values (identical to
``shap.TreeExplainer``); :func:`top_reasons` turns the factors pushing a score toward the
deployment's positive decision (``decline`` for credit, ``follow_up`` for an outreach model) into
coded texts from a :class:`ReasonCodeBook` (a YAML file per project), and :func:`summarize`
writes one sentence. :func:`explain_globally` is a version's global explanation (importance,
partial dependence and ICE, contribution summaries), logged at training time and shown by
``cairn models explain``. Imports only :mod:`cairn.core`.
"""

from __future__ import annotations

from typing import Any

from cairn.explain.contributions import split_references, tree_contributions
from cairn.explain.global_explanation import GlobalExplanation, explain_globally
from cairn.explain.reason_codes import (
    REASON_CODES_FILE,
    ReasonCodeBook,
    direction_of,
    summarize,
    top_reasons,
)

__all__ = [
    "REASON_CODES_FILE",
    "GlobalExplanation",
    "ReasonCodeBook",
    "direction_of",
    "explain_globally",
    "split_references",
    "summarize",
    "top_reasons",
    "tree_contributions",
]


def __getattr__(name: str) -> Any:
    # The example project's file writer moved to cairn.quickstart (old name kept until 0.3).
    if name == "write_example_reason_codes":
        import importlib

        return importlib.import_module("cairn.quickstart.example.reason_codes").__dict__[name]
    raise AttributeError(f"module 'cairn.explain' has no attribute {name!r}")
