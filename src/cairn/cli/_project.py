"""What the training, registry and lineage commands open: the store, tracker and registry."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from cairn.app.feature_store import FeatureStore, current_user
from cairn.registry.models import ModelRegistry
from cairn.tracking import Tracker


class ProjectContext:
    """A project folder's feature store, MLflow tracker and model registry (opened lazily)."""

    def __init__(self, repo: Path) -> None:
        self.store = FeatureStore(repo)

    @cached_property
    def tracker(self) -> Tracker:
        """The project's MLflow tracker (``tracking`` settings)."""
        s = self.store
        return Tracker.for_project(s.settings.tracking, s.root, s.project)

    @cached_property
    def registry(self) -> ModelRegistry:
        """The project's model registry with its governance records."""
        return ModelRegistry(self.tracker, self.store.metadata.engine, self.store.project)

    @property
    def user(self) -> str:
        """Who is acting (``CAIRN_USER`` or the OS user)."""
        return current_user()
