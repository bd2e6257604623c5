"""The composition root: settings -> concrete stores and engines; the FeatureStore facade."""

from __future__ import annotations

from cairn.app.feature_store import ApplyResult, FeatureStore, current_user

__all__ = ["ApplyResult", "FeatureStore", "current_user"]
