"""The registry of expectations by name; each family module registers its classes here.

Example
-------
>>> from cairn.quality.expectations import get_expectation
>>> get_expectation("expect_column_values_to_not_be_null").layer
<Layer.SCHEMA: 'schema'>
"""

from __future__ import annotations

import difflib
from typing import TypeVar

from cairn.quality.errors import SuiteError
from cairn.quality.expectations.base import Expectation

T = TypeVar("T", bound=type[Expectation])
_REGISTRY: dict[str, Expectation] = {}


def register(cls: T) -> T:
    """Class decorator: make an expectation available by its ``name``."""
    if cls.name in _REGISTRY:
        raise ValueError(f"expectation {cls.name!r} is registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def get_expectation(name: str, *, owner: str = "suite") -> Expectation:
    """The expectation named ``name``, or a SuiteError suggesting the closest names."""
    found = _REGISTRY.get(name)
    if found is not None:
        return found
    close = difflib.get_close_matches(str(name), list(_REGISTRY), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise SuiteError(
        f"{owner}: unknown expectation {name!r}.{hint} "
        f"See cairn.quality.expectation_names() for the {len(_REGISTRY)} available."
    )


def expectation_names() -> list[str]:
    """Every registered expectation name, sorted."""
    return sorted(_REGISTRY)
