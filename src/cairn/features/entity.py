"""Entities: the business objects features describe, identified by join keys."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cairn.core.errors import DefinitionError
from cairn.features._names import check_name


@dataclass(frozen=True)
class Entity:
    """A business object (customer, account) identified by one or more join keys.

    Parameters
    ----------
    name:
        Unique name of the entity.
    join_keys:
        Columns that identify one instance; defaults to ``[name]``.
    description:
        Free text for people.

    Example
    -------
    >>> Entity(name="customer", join_keys=["customer_id"]).join_keys
    ('customer_id',)
    """

    name: str
    join_keys: Sequence[str] = ()
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_name(self.name, "Entity.name")
        keys = self.join_keys
        if isinstance(keys, str):
            keys = (keys,)
        keys = tuple(keys) or (self.name,)
        for k in keys:
            check_name(k, f"Entity {self.name!r} join key")
        if len(set(keys)) != len(keys):
            raise DefinitionError(f"Entity {self.name!r} join_keys must be distinct; got {keys}.")
        object.__setattr__(self, "join_keys", keys)
        object.__setattr__(self, "tags", dict(self.tags))

    def __hash__(self) -> int:
        return hash((self.name, self.join_keys))

    def to_spec(self) -> dict[str, Any]:
        """A JSON-ready description of this entity (round-trips through ``from_spec``)."""
        return {
            "name": self.name,
            "join_keys": list(self.join_keys),
            "description": self.description,
            "tags": dict(sorted(self.tags.items())),
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Entity:
        """Rebuild an entity from ``to_spec`` output."""
        return cls(
            name=spec["name"],
            join_keys=spec["join_keys"],
            description=spec.get("description", ""),
            tags=spec.get("tags", {}),
        )
