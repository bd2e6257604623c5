"""Getting the training set from the offline store, checked against the training config.

Training depends on a *shape*, not on the app: anything with ``project``, ``root`` and
``get_historical_features(entity_df, features)`` returning ``.to_df()`` and ``.manifest``
(:class:`cairn.FeatureStore` is one) can feed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import pandas as pd

from cairn.core.errors import ConfigError, EntityDataFrameError, UnknownFeatureError
from cairn.core.manifest import TrainingSetManifest
from cairn.training.config import TrainConfig

TIME_COLUMN = "event_timestamp"


class TrainingSetJob(Protocol):
    """A training-set query: rows on demand, and the manifest of what they were built from."""

    def to_df(self) -> pd.DataFrame:
        """The rows, entity columns first, in the entity rows' order."""
        ...

    @property
    def manifest(self) -> TrainingSetManifest:
        """What the rows were built from."""
        ...


class OfflineFeatures(Protocol):
    """What training needs of a feature store."""

    project: str
    root: Path

    def get_historical_features(
        self, entity_df: str, features: Sequence[str], full_feature_names: bool = False
    ) -> TrainingSetJob:
        """A point-in-time-correct training set for the entity rows (SQL or a file path)."""
        ...


@dataclass(frozen=True)
class TrainingSet:
    """The rows, the feature columns in them, and the manifest."""

    frame: pd.DataFrame
    feature_columns: list[str]
    manifest: TrainingSetManifest


def entity_input(config: TrainConfig, root: Path) -> str:
    """The config's entity rows for the offline store: SQL as is, a relative path resolved in
    the project folder."""
    text = config.entities.strip()
    head = text.split(None, 1)[0].upper() if text else ""
    if head in ("SELECT", "WITH", "FROM", "VALUES", "(SELECT"):
        return text
    path = Path(text).expanduser()
    return str(path if path.is_absolute() else root / path)


def build_training_set(config: TrainConfig, store: OfflineFeatures) -> TrainingSet:
    """Query the offline store; a config naming a missing feature or label is a clear error."""
    short = [ref.partition(":")[2] for ref in config.features]
    full = len(set(short)) != len(short)  # two views share a feature name
    try:
        job = store.get_historical_features(
            entity_input(config, store.root), config.features, full_feature_names=full
        )
        frame = job.to_df()
        manifest = job.manifest
    except UnknownFeatureError as exc:
        raise UnknownFeatureError(f"{config.source}: features: {exc}") from None
    except EntityDataFrameError as exc:
        raise EntityDataFrameError(f"{config.source}: entities: {exc}") from None
    columns = [ref.replace(":", "__") for ref in config.features] if full else short
    entity_columns = [c for c in frame.columns if c not in columns]
    if config.label not in frame.columns or config.label not in entity_columns:
        raise ConfigError(
            f"{config.source}: label {config.label!r} is not a column of the entity rows; "
            f"expected one of {entity_columns} (the entities query must select the label, "
            f"e.g. SELECT customer_id, event_timestamp, defaulted FROM applications)."
        )
    if TIME_COLUMN not in frame.columns:
        raise ConfigError(
            f"{config.source}: the entity rows lack {TIME_COLUMN!r}, which the time-based "
            f"split needs; got {entity_columns}."
        )
    return TrainingSet(frame, columns, manifest)
