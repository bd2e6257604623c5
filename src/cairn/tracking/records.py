"""Plain, typed records of what MLflow stores: runs, registered models, model versions.

MLflow's own entities are untyped and tied to its client; these frozen copies are what the
rest of Cairn (training, registry, lineage, CLI) passes around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


def from_millis(ms: int | None) -> datetime | None:
    """MLflow's epoch milliseconds as an aware UTC datetime (None stays None).

    Example
    -------
    >>> from_millis(0).isoformat()
    '1970-01-01T00:00:00+00:00'
    """
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass(frozen=True)
class DatasetRecord:
    """A dataset input of a run: its name, digest, source type and source (JSON text)."""

    name: str
    digest: str
    source_type: str
    source: str
    context: str | None = None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRecord:
    """One tracked run."""

    run_id: str
    experiment_id: str
    name: str
    status: str
    start_time: datetime | None
    end_time: datetime | None
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]
    datasets: list[DatasetRecord]
    artifact_uri: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "run_id": self.run_id,
            "experiment_id": self.experiment_id,
            "name": self.name,
            "status": self.status,
            "start_time": _iso(self.start_time),
            "end_time": _iso(self.end_time),
            "params": dict(self.params),
            "metrics": dict(self.metrics),
            "tags": {k: v for k, v in self.tags.items() if not k.startswith("mlflow.")},
            "datasets": [d.__dict__ for d in self.datasets],
            "artifact_uri": self.artifact_uri,
        }


@dataclass(frozen=True)
class ModelVersionRecord:
    """One version of a registered model."""

    name: str
    version: str
    run_id: str | None
    source: str
    status: str
    created_at: datetime | None
    tags: dict[str, str]
    aliases: list[str]
    description: str = ""

    @property
    def author(self) -> str | None:
        """Who trained it (the ``cairn.author`` tag Cairn sets on registration)."""
        return self.tags.get("cairn.author")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
            "source": self.source,
            "status": self.status,
            "created_at": _iso(self.created_at),
            "author": self.author,
            "tags": dict(self.tags),
            "aliases": list(self.aliases),
            "description": self.description,
        }


@dataclass(frozen=True)
class RegisteredModelRecord:
    """A registered model: its aliases (alias -> version), tags and newest version."""

    name: str
    aliases: dict[str, str]
    tags: dict[str, str]
    latest_version: str | None
    created_at: datetime | None
    description: str = ""


def _iso(ts: datetime | None) -> str | None:
    return None if ts is None else ts.isoformat()
