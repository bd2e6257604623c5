"""Helpers of the schema tests: a project file kind's JSON Schema as a validator, and whether its
parser accepts a document (the schema must reject what the parser rejects)."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from cairn.core.errors import CairnError


@functools.cache
def validator(kind: str) -> Any:
    """A JSON Schema validator of the file kind ``kind`` (skips without jsonschema_rs)."""
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    from cairn.app.project_files import FILE_KINDS

    schema = FILE_KINDS[kind].schema()
    assert jsonschema_rs.meta.is_valid(schema), kind
    return jsonschema_rs.validator_for(schema)


def accepts(parse: Callable[[Any], object], data: Any) -> bool:
    """Whether ``parse`` accepts ``data`` (a CairnError says no)."""
    try:
        parse(data)
    except CairnError:
        return False
    return True


def with_value(doc: Any, path: Sequence[str | int], value: Any) -> Any:
    """A deep copy of ``doc`` with ``value`` at ``path``."""
    out = copy.deepcopy(doc)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


NUMBERS = (
    -1, 0, 1, 2, 10_000, 10_001, -0.5, 0.0, 0.25, 0.5, 1.0, 1.5, True, False, "1", None,
)  # fmt: skip
"""Values to try at numeric keys: in and out of bounds, and of the wrong type."""
