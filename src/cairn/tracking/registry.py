"""MLflow's model registry, typed: registered models, versions, aliases and tags.

It only talks to MLflow. Governance (approvals, alias history, audit) is
:mod:`cairn.registry`'s, which drives this class.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from cairn.tracking import _mlflow
from cairn.tracking.errors import TrackingError, UnknownModelError
from cairn.tracking.records import ModelVersionRecord, RegisteredModelRecord, from_millis
from cairn.tracking.store import MlflowStore

_MISSING = ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE", "NOT_FOUND")


class MlflowRegistry:
    """Registered models in the tracker's registry URI.

    Obtain it with :meth:`Tracker.registry`... or ``MlflowRegistry(tracker)`` (any
    :class:`~cairn.tracking.store.MlflowStore`: its registry URI holds the models).
    """

    def __init__(self, tracker: MlflowStore) -> None:
        self.tracker = tracker

    @property
    def _client(self) -> Any:
        return self.tracker.client

    def register(
        self,
        name: str,
        model_uri: str,
        *,
        run_id: str,
        tags: Mapping[str, str] | None = None,
        description: str = "",
        model_id: str | None = None,
    ) -> ModelVersionRecord:
        """A new version of ``name`` (created if new) from a logged model (a tracking server
        needs the logged model's ``model_id`` with a ``models:/`` source)."""
        try:
            with self.tracker.session():
                self._client.create_registered_model(name)
        except Exception as exc:
            if _mlflow.error_code(exc) != "RESOURCE_ALREADY_EXISTS":
                raise TrackingError(
                    f"MLflow could not create the registered model {name!r}: {exc}"
                ) from None
        mv = self.tracker.call(
            f"register a version of {name!r}",
            self._client.create_model_version,
            name,
            model_uri,
            run_id=run_id,
            tags=dict(tags or {}),
            description=description or None,
            model_id=model_id,
        )
        return _version(mv)

    def list_models(self) -> list[RegisteredModelRecord]:
        """Every registered model, by name."""
        found = self.tracker.call(
            "list registered models", self._client.search_registered_models, max_results=1000
        )
        return sorted((_model(m) for m in found), key=lambda m: m.name)

    def get_model(self, name: str) -> RegisteredModelRecord:
        """One registered model; UnknownModelError (listing the known ones) when missing."""
        try:
            with self.tracker.session():
                return _model(self._client.get_registered_model(name))
        except Exception as exc:
            if _mlflow.error_code(exc) not in _MISSING:
                raise TrackingError(f"MLflow could not read the model {name!r}: {exc}") from None
        known = ", ".join(m.name for m in self.list_models()) or "none (train one first)"
        raise UnknownModelError(f"No registered model {name!r}; registered models: {known}.")

    def versions(
        self, name: str, model: RegisteredModelRecord | None = None
    ) -> list[ModelVersionRecord]:
        """Every version of a model, oldest first (with their aliases: MLflow's search leaves
        them out; they are read from ``model`` when the caller has just read it, e.g. from
        :meth:`list_models`, else with :meth:`get_model`)."""
        if model is None or model.name != name:
            model = self.get_model(name)
        found = self.tracker.call(
            f"list versions of {name!r}",
            self._client.search_model_versions,
            f"name = '{_quote(name)}'",
            max_results=10_000,
        )
        aliases: dict[str, list[str]] = {}
        for alias, version in model.aliases.items():
            aliases.setdefault(version, []).append(alias)
        versions = [
            dataclasses.replace(v, aliases=sorted(aliases.get(v.version, [])))
            for v in map(_version, found)
        ]
        return sorted(versions, key=lambda v: int(v.version))

    def get_version(self, name: str, version: str | int) -> ModelVersionRecord:
        """One version; UnknownModelError naming the versions that exist."""
        try:
            with self.tracker.session():
                return _version(self._client.get_model_version(name, str(version)))
        except Exception as exc:
            if _mlflow.error_code(exc) not in _MISSING:
                raise TrackingError(
                    f"MLflow could not read version {version} of {name!r}: {exc}"
                ) from None
        existing = ", ".join(v.version for v in self.versions(name)) or "none"
        raise UnknownModelError(
            f"Model {name!r} has no version {str(version)!r}; its versions are: {existing}."
        )

    def version_by_alias(self, name: str, alias: str) -> ModelVersionRecord | None:
        """The version ``name@alias`` points to, or None when the alias is not set."""
        model = self.get_model(name)
        version = model.aliases.get(alias)
        return None if version is None else self.get_version(name, version)

    def set_alias(self, name: str, alias: str, version: str | int) -> None:
        """Point ``name@alias`` at ``version`` (MLflow keeps no history: the caller records it)."""
        self.tracker.call(
            f"set the alias {name}@{alias}",
            self._client.set_registered_model_alias,
            name,
            alias,
            str(version),
        )

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove ``name@alias``."""
        self.tracker.call(
            f"delete the alias {name}@{alias}",
            self._client.delete_registered_model_alias,
            name,
            alias,
        )

    def set_version_tag(self, name: str, version: str | int, key: str, value: str) -> None:
        """One tag on a model version."""
        self.tracker.call(
            f"tag version {version} of {name!r}",
            self._client.set_model_version_tag,
            name,
            str(version),
            key,
            value,
        )


def _quote(name: str) -> str:
    return name.replace("'", "\\'")


def _version(mv: Any) -> ModelVersionRecord:
    return ModelVersionRecord(
        name=str(mv.name),
        version=str(mv.version),
        run_id=mv.run_id or None,
        source=str(mv.source or ""),
        status=str(mv.status or ""),
        created_at=from_millis(mv.creation_timestamp),
        tags=dict(mv.tags or {}),
        aliases=sorted(mv.aliases or []),
        description=str(mv.description or ""),
    )


def _model(m: Any) -> RegisteredModelRecord:
    aliases = m.aliases or {}
    if not isinstance(aliases, Mapping):  # older clients return a list of alias objects
        aliases = {a.alias: a.version for a in aliases}
    latest = [str(v.version) for v in (m.latest_versions or [])]
    return RegisteredModelRecord(
        name=str(m.name),
        aliases={str(k): str(v) for k, v in aliases.items()},
        tags=dict(m.tags or {}),
        latest_version=max(latest, key=int) if latest else None,
        created_at=from_millis(m.creation_timestamp),
        description=str(m.description or ""),
    )
