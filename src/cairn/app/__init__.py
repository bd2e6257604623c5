"""The composition root: :class:`Project` wires settings to concrete stores, the tracker, the
registry and the services; :class:`FeatureStore` is the feature facade (Feast's names).

Names load on first use, so opening a project for a command that never touches features never
imports pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cairn.core.lazy import lazy_exports

if TYPE_CHECKING:
    from cairn.app.feature_store import ApplyResult, FeatureStore
    from cairn.app.identity import current_user
    from cairn.app.project import Project
    from cairn.app.scoring import score_history

__getattr__ = lazy_exports(
    __name__,
    {
        "ApplyResult": "cairn.app.feature_store",
        "FeatureStore": "cairn.app.feature_store",
        "Project": "cairn.app.project",
        "current_user": "cairn.app.identity",
        "score_history": "cairn.app.scoring",
    },
)

__all__ = ["ApplyResult", "FeatureStore", "Project", "current_user", "score_history"]
