"""The training set as an MLflow dataset input, versioned by Cairn's full-content digest.

MLflow's own dataset digest hashes at most the first 10,000 rows, so it cannot tell two data
versions apart (DESIGN §3.6). Cairn's manifest digest covers every source byte, every entity
row and every definition hash. MLflow stores a dataset digest in a ``VARCHAR(36)`` column and
refuses longer ones, so the dataset's digest is the first :data:`DIGEST_CHARS` hex characters of
the manifest's SHA-256 (128 bits); the full digest is in the input's tag
``cairn.manifest_digest``, in the dataset source, and in the run's manifest artifact.

No schema is inferred from the data: the columns are passed in, already known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cairn.core.manifest import TrainingSetManifest
from cairn.tracking import _mlflow
from cairn.tracking.models import Column, schema_of

DIGEST_CHARS = 32
SOURCE_TYPE = "cairn_offline_store"
DATASET_NAME = "training_set"
DIGEST_TAG = "cairn.manifest_digest"

_source_class: Any = None


def source_of(
    manifest: TrainingSetManifest, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What the dataset source records: project, digest, feature refs, data versions, rows.

    Example
    -------
    >>> from datetime import UTC, datetime
    >>> m = TrainingSetManifest("p", ["v:f"], {}, {"s": {"sha256": "ab"}}, {"rows": 1}, 1,
    ...                         datetime(2026, 1, 1, tzinfo=UTC))
    >>> source_of(m)["sources"]
    {'s': 'sha256:ab'}
    """
    versions = {
        name: (
            f"delta:{info['delta_version']}"
            if info.get("delta_version") is not None
            else f"sha256:{info.get('sha256')}"
        )
        for name, info in manifest.sources.items()
    }
    return {
        "project": manifest.project,
        "manifest_digest": manifest.digest,
        "feature_refs": list(manifest.feature_refs),
        "sources": versions,
        "entity_sha256": manifest.entity.get("sha256"),
        "rows": manifest.row_count,
        **dict(extra or {}),
    }


def manifest_dataset(
    manifest: TrainingSetManifest,
    *,
    columns: Sequence[Column] = (),
    context: str = "training",
    extra: Mapping[str, Any] | None = None,
) -> tuple[Any, dict[str, str]]:
    """An ``mlflow.data.meta_dataset.MetaDataset`` for the manifest, and the input's tags."""
    _mlflow.load()
    from mlflow.data.meta_dataset import MetaDataset

    source = _source_type()(source_of(manifest, extra))
    schema = schema_of(columns) if columns else None
    with _mlflow.quiet():
        dataset = MetaDataset(  # type: ignore[abstract]  # MLflow's own class; profile is optional
            source, name=DATASET_NAME, digest=manifest.digest[:DIGEST_CHARS], schema=schema
        )
    tags = {"mlflow.data.context": context, DIGEST_TAG: manifest.digest}
    return dataset, tags


def _source_type() -> Any:
    """The DatasetSource subclass for Cairn's offline store (defined once MLflow is loaded)."""
    global _source_class
    if _source_class is not None:
        return _source_class
    _mlflow.load()
    from mlflow.data.dataset_source import DatasetSource

    class CairnOfflineStoreSource(DatasetSource):
        """A training set built by Cairn's offline store; ``load`` rebuilds nothing by itself
        (use ``cairn train --reproduce RUN_ID``)."""

        def __init__(self, info: dict[str, Any]) -> None:
            self._info = info

        @staticmethod
        def _get_source_type() -> str:
            return SOURCE_TYPE

        def load(self, **kwargs: Any) -> Any:
            raise NotImplementedError("rebuild it with `cairn train --reproduce RUN_ID`")

        @staticmethod
        def _can_resolve(raw_source: Any) -> bool:
            return False

        @classmethod
        def _resolve(cls, raw_source: Any) -> Any:
            raise NotImplementedError

        def to_dict(self) -> dict[str, Any]:
            return dict(self._info)

        @classmethod
        def from_dict(cls, source_dict: dict[str, Any]) -> Any:
            return cls(dict(source_dict))

    _source_class = CairnOfflineStoreSource
    return _source_class
