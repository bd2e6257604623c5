"""Serving's :class:`~cairn.serving.models.ModelLoader` over the project's registry.

Resolves ``NAME@ALIAS`` through :class:`~cairn.registry.models.ModelRegistry`, downloads the
version's native booster (``model.lgb``) and its run's ``feature_frame.json`` and
``train_config.json``, and builds a :class:`~cairn.serving.models.ScoringModel`. Only LightGBM
versions can be served: serving never loads an MLflow pyfunc wrapper (DESIGN §5).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from cairn.core.errors import ConfigError
from cairn.explain import split_references
from cairn.registry.models import ModelRegistry
from cairn.serving.models import ScoringModel
from cairn.tracking import Tracker


class RegistryModelLoader:
    """Loads deployment models from a project's registry.

    Parameters
    ----------
    tracker, registry:
        The project's MLflow tracker and governed registry.
    """

    def __init__(self, tracker: Tracker, registry: ModelRegistry) -> None:
        self.tracker = tracker
        self.registry = registry

    def resolve(self, ref: str) -> str:
        """The version ``ref`` points at now."""
        return self.registry.resolve(ref)[1].version

    def load(self, ref: str, version: str) -> ScoringModel:
        """Download and parse ``version`` of the model ``ref`` names."""
        name = ref.split("@")[0].split("/")[0]
        mv = self.registry.version(name, version)
        if mv.tags.get("cairn.flavor", "lightgbm") != "lightgbm" or mv.run_id is None:
            raise ConfigError(
                f"{name}/{version} is a {mv.tags.get('cairn.flavor')!r} model; serving loads "
                f"native LightGBM boosters only (point the deployment at a LightGBM version)."
            )
        frame: dict[str, Any] = self.tracker.load_json(mv.run_id, "feature_frame.json")
        config: dict[str, Any] = self.tracker.load_json(mv.run_id, "train_config.json")
        booster = self._booster(mv.source)
        by_name = {str(r).split(":", 1)[-1]: str(r) for r in config.get("features", [])}
        features = [str(f) for f in frame["features"]]
        return ScoringModel(
            name=name,
            version=version,
            booster=booster,
            features=features,
            refs=[by_name.get(f) for f in features],
            categories={k: list(v) for k, v in frame.get("categories", {}).items()},
            references=split_references(booster),
        )

    def _booster(self, source: str) -> Any:
        import lightgbm

        with tempfile.TemporaryDirectory() as tmp, self.tracker.session() as mlflow:
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=source, dst_path=tmp, tracking_uri=self.tracker.uri
                )
            )
            found = next(iter(sorted(local.rglob("model.lgb"))), None)
            if found is None:
                raise ConfigError(f"The model at {source} has no native booster (model.lgb).")
            return lightgbm.Booster(model_file=str(found))
