"""Fields: a named, typed column of a feature view's schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cairn.core.types import Dtype
from cairn.features._names import check_name


@dataclass(frozen=True)
class Field:
    """A feature column with its value type.

    Parameters
    ----------
    name:
        Column name in the source and feature name in the view.
    dtype:
        A :class:`~cairn.core.types.Dtype` or its name: ``"int64"``, ``"float64"``,
        ``"string"``, ``"bool"``, ``"timestamp"``.

    Example
    -------
    >>> Field(name="income", dtype="float64").dtype
    <Dtype.FLOAT64: 'float64'>
    """

    name: str
    dtype: Dtype | str = Dtype.FLOAT64
    description: str = ""

    def __post_init__(self) -> None:
        check_name(self.name, "Field.name")
        object.__setattr__(
            self, "dtype", Dtype.parse(self.dtype, owner=f"Field {self.name!r} dtype")
        )

    def to_spec(self) -> dict[str, Any]:
        """A JSON-ready description of this field."""
        return {
            "name": self.name,
            "dtype": Dtype.parse(self.dtype).value,
            "description": self.description,
        }

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> Field:
        """Rebuild a field from ``to_spec`` output."""
        return cls(name=spec["name"], dtype=spec["dtype"], description=spec.get("description", ""))
