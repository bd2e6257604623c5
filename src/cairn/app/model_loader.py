"""Serving's :class:`~cairn.serving.models.ModelLoader` over the project's registry.

Resolves ``NAME@ALIAS`` through :class:`~cairn.registry.models.ModelRegistry`, downloads the
version's artifact and its run's ``feature_frame.json``, ``train_config.json`` and
``reference_profile.json`` (when logged), and builds a
:class:`~cairn.serving.models.ScoringModel` whose scorer is its family's
(:data:`cairn.serving.scorers.FAMILIES`, by the version's ``cairn.flavor`` tag). Serving never
loads an MLflow pyfunc wrapper: each family reads its own artifact.

Before a family reads the downloaded folder, the whole folder is hashed and compared with the
``artifact_sha256`` the audit chain recorded at registration
(:mod:`cairn.registry.artifact_trust`): a tampered or replaced artifact is refused with
:class:`~cairn.registry.artifact_trust.ArtifactTamperedError`, so a server, a shadow or a
canary never loads it (the server keeps serving what it has loaded).
"""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from cairn.core.errors import ConfigError
from cairn.profiles.profile import ReferenceProfile
from cairn.registry.artifact_trust import check_artifact
from cairn.registry.models import ModelRegistry
from cairn.serving.models import ScoringModel
from cairn.serving.scorers import FAMILIES, Scorer, load_scorer
from cairn.tracking import Tracker
from cairn.tracking.artifact_digest import folder_sha256
from cairn.tracking.errors import MissingArtifactError

logger = logging.getLogger(__name__)
PROFILE_FILE = "reference_profile.json"
"""The version's reference profile, logged by training (counterfactuals' feasible ranges)."""


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
        flavor = mv.tags.get("cairn.flavor", "lightgbm")
        if flavor not in FAMILIES or mv.run_id is None:
            raise ConfigError(
                f"{name}/{version} is a {flavor!r} model; serving loads the families "
                f"{', '.join(sorted(FAMILIES))} (point the deployment at one of those)."
            )
        frame: dict[str, Any] = self.tracker.load_json(mv.run_id, "feature_frame.json")
        config: dict[str, Any] = self.tracker.load_json(mv.run_id, "train_config.json")
        by_name = {str(r).split(":", 1)[-1]: str(r) for r in config.get("features", [])}
        features = [str(f) for f in frame["features"]]
        categories = {k: list(v) for k, v in frame.get("categories", {}).items()}
        scorer = self._scorer(name, version, flavor, mv.source, features, categories)
        return ScoringModel(
            name=name,
            version=version,
            booster=scorer,
            features=features,
            refs=[by_name.get(f) for f in features],
            categories=categories,
            references=scorer.references(),
            profile=self._profile(mv.run_id),
        )

    def _profile(self, run_id: str) -> ReferenceProfile | None:
        """The run's ``reference_profile.json`` (None when it logged none: counterfactuals then
        take feasible ranges from the deployment's declaration only)."""
        try:
            raw = self.tracker.load_json(run_id, PROFILE_FILE)
        except MissingArtifactError:
            return None
        return ReferenceProfile.from_dict(raw)

    def _scorer(
        self,
        name: str,
        version: str,
        flavor: str,
        source: str,
        features: list[str],
        categories: dict[str, list[str]],
    ) -> Scorer:
        with tempfile.TemporaryDirectory() as tmp, self.tracker.session() as mlflow:
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=source, dst_path=tmp, tracking_uri=self.tracker.uri
                )
            )
            began = time.perf_counter()
            check = check_artifact(self.registry.audit, name, version, folder_sha256(local))
            logger.debug(
                "Verified %s/%s's artifact in %.1f ms",
                name,
                version,
                (time.perf_counter() - began) * 1000,
            )
            check.enforce()
            return load_scorer(flavor, local, features=features, categories=categories)
