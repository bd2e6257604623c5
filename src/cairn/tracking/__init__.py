"""Tracking: MLflow runs, datasets and the model registry, behind typed Cairn classes.

This is the only package that imports MLflow, and it does so lazily (importing Cairn never
imports MLflow) with telemetry off. A :class:`Tracker` records a run's params, metrics, tags,
JSON artifacts, the training set as a dataset input versioned by Cairn's full-content manifest
digest, and the native model with an explicit signature; :class:`MlflowRegistry` registers
versions and moves aliases. :mod:`cairn.tracking.provenance` records the code commit and the
package versions.
"""

from __future__ import annotations

from cairn.tracking.datasets import DIGEST_CHARS, DIGEST_TAG, manifest_dataset, source_of
from cairn.tracking.errors import (
    MissingArtifactError,
    TrackingError,
    UnknownModelError,
    UnknownRunError,
)
from cairn.tracking.models import Column, LoggedModel, signature_of
from cairn.tracking.provenance import CodeCommit, code_commit, package_versions
from cairn.tracking.records import (
    DatasetRecord,
    ModelVersionRecord,
    RegisteredModelRecord,
    RunRecord,
)
from cairn.tracking.registry import MlflowRegistry
from cairn.tracking.run import RunLogger
from cairn.tracking.tracker import Tracker, is_database_uri, resolve_uri

__all__ = [
    "DIGEST_CHARS",
    "DIGEST_TAG",
    "CodeCommit",
    "Column",
    "DatasetRecord",
    "LoggedModel",
    "MissingArtifactError",
    "MlflowRegistry",
    "ModelVersionRecord",
    "RegisteredModelRecord",
    "RunLogger",
    "RunRecord",
    "Tracker",
    "TrackingError",
    "UnknownModelError",
    "UnknownRunError",
    "code_commit",
    "is_database_uri",
    "manifest_dataset",
    "package_versions",
    "resolve_uri",
    "signature_of",
    "source_of",
]
