"""Many model references resolved with one MLflow read per model: :class:`RefResolver`.

A page that lists deployments resolves each arm's ``NAME@ALIAS`` or ``NAME/VERSION``
(:meth:`cairn.registry.models.ModelRegistry.resolve` reads MLflow twice per reference: the
model, then the version). A resolver reads each model once (its aliases) and each pinned
version once, and answers every other reference from what it read. It is made for one read of
the registry (one page render) and thrown away, so it never shows an alias that has moved
since: the next render reads MLflow afresh.

Example
-------
>>> from cairn.tracking.records import RegisteredModelRecord
>>> class Fake:  # stands in for the registry: counts the MLflow reads
...     reads = 0
...     def get_model(self, name):
...         Fake.reads += 1
...         return RegisteredModelRecord(name, {"champion": "3", "challenger": "4"}, {}, None, None)
...     def get_version(self, name, version):
...         raise KeyError(f"{name} has no version {version}")
>>> r = RefResolver(Fake())
>>> r.version("credit@champion"), r.version("credit@challenger"), Fake.reads
('3', '4', 1)
>>> r.version("credit/9")
Traceback (most recent call last):
...
KeyError: 'credit has no version 9'

"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from cairn.registry.models import ModelRef, alias_target

if TYPE_CHECKING:
    from cairn.tracking import ModelVersionRecord, RegisteredModelRecord

__all__ = ["ModelSource", "RefResolver"]


class ModelSource(Protocol):
    """What a resolver reads (:class:`~cairn.tracking.MlflowRegistry`): a registered model
    (with its aliases) and one version."""

    def get_model(self, name: str) -> RegisteredModelRecord: ...

    def get_version(self, name: str, version: str | int) -> ModelVersionRecord: ...


class RefResolver:
    """Resolve references to version numbers, reading each model and pinned version once.

    Parameters
    ----------
    registry:
        Where the models are read: the project's ``registry.mlflow``
        (:class:`~cairn.tracking.MlflowRegistry`), or any :class:`ModelSource`.
    known:
        Models already read in the same render (``MlflowRegistry.list_models()``: one query
        for all of them, aliases included); they are not read again.
    """

    def __init__(self, registry: ModelSource, known: Iterable[RegisteredModelRecord] = ()) -> None:
        self.registry = registry
        self._models: dict[str, RegisteredModelRecord | KeyError | ValueError] = {
            m.name: m for m in known
        }
        self._pinned: dict[tuple[str, str], ModelVersionRecord | KeyError | ValueError] = {}

    def model(self, name: str) -> RegisteredModelRecord:
        """The registered model ``name`` as first read (UnknownModelError when missing)."""
        if name not in self._models:
            try:
                self._models[name] = self.registry.get_model(name)
            except (KeyError, ValueError) as exc:
                self._models[name] = exc
        found = self._models[name]
        if isinstance(found, (KeyError, ValueError)):
            raise found
        return found

    def version(self, ref: str) -> str:
        """The version ``ref`` resolves to, with the errors of
        :meth:`~cairn.registry.models.ModelRegistry.resolve` (an unknown model, alias or
        version: :class:`~cairn.tracking.UnknownModelError`; a malformed reference: a
        :class:`~cairn.registry.errors.RegistryInputError`). An alias's target is the version
        MLflow holds for it (MLflow drops an alias when its version is deleted)."""
        parsed = ModelRef.parse(ref)
        if parsed.version is None:
            assert parsed.alias is not None
            return alias_target(self.model(parsed.name), parsed.alias)
        key = (parsed.name, parsed.version)
        if key not in self._pinned:
            try:
                self._pinned[key] = self.registry.get_version(*key)
            except (KeyError, ValueError) as exc:
                self._pinned[key] = exc
        found = self._pinned[key]
        if isinstance(found, (KeyError, ValueError)):
            raise found
        return found.version
