"""Definition hashes: a stable SHA-256 of an object's canonical JSON spec."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Protocol


class Spec(Protocol):
    """Anything with a JSON-ready ``to_spec``."""

    @property
    def name(self) -> str: ...

    def to_spec(self) -> dict[str, Any]: ...


def canonical_json(spec: dict[str, Any]) -> str:
    """The spec as compact JSON with sorted keys (the form that is hashed and stored)."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"), default=str)


def definition_hash(obj: Spec, *, deps: dict[str, str] | None = None) -> str:
    """SHA-256 of an object's spec, plus the hashes of what it depends on.

    A feature view's hash covers its entities' and source's definitions, so a change to the
    source bumps the view too.
    """
    payload = {"kind": type(obj).__name__, "spec": obj.to_spec(), "deps": deps or {}}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()
