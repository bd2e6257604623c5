"""What each setting accepts, read from the models' JSON schema: the one description that the
error messages and the generated reference share.

Example
-------
>>> from cairn.core.settings.sections import ServingSettings
>>> spec = field_specs(ServingSettings)[("shadow_queue",)]
>>> spec.expected(), spec.bounds(), spec.aliases
('an integer of at least 1', 'at least 1', ('CAIRN_SHADOW_QUEUE',))
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

_NOUNS = {"integer": "an integer", "number": "a number", "string": "a string"}
_NOUNS.update({"object": "a mapping", "array": "a list", "boolean": "true or false"})


@dataclass(frozen=True)
class FieldSpec:
    """One setting: its key path, JSON type, bounds, default and documentation."""

    path: tuple[str, ...]
    json_type: str
    nullable: bool
    enum: tuple[Any, ...]
    limits: dict[str, Any]
    default: Any
    description: str
    aliases: tuple[str, ...]
    expected_text: str | None
    secret: bool

    def bounds(self) -> str:
        """The bounds in words: ``at least 1``, ``above 0``, ``in (0, 1]``; empty when none."""
        lo = self.limits.get("exclusiveMinimum"), self.limits.get("minimum")
        hi = self.limits.get("exclusiveMaximum"), self.limits.get("maximum")
        low = ("(", lo[0]) if lo[0] is not None else ("[", lo[1]) if lo[1] is not None else None
        high = (hi[0], ")") if hi[0] is not None else (hi[1], "]") if hi[1] is not None else None
        if low and high:
            return f"in {low[0]}{low[1]}, {high[0]}{high[1]}"
        if low:
            return f"{'above' if low[0] == '(' else 'at least'} {low[1]}"
        if high:
            return f"{'below' if high[1] == ')' else 'at most'} {high[0]}"
        return ""

    def expected(self) -> str:
        """What a value must be: ``an integer of at least 1``, ``write or fsync``."""
        if self.expected_text:
            return self.expected_text
        if self.enum:
            names = [str(v) for v in self.enum]
            return " or ".join(names) if len(names) == 2 else f"one of {', '.join(names)}"
        noun = _NOUNS.get(self.json_type, f"a {self.json_type}")
        bounds = self.bounds()
        if not bounds:
            return noun
        return f"{noun} {'of ' if bounds.startswith('at ') else ''}{bounds}"

    def type_name(self) -> str:
        """The type for people: ``integer``, ``number | null``, ``write | fsync``, ``secret``."""
        base = (
            " | ".join(str(v) for v in self.enum)
            if self.enum
            else "secret string"
            if self.secret
            else {"object": "mapping"}.get(self.json_type, self.json_type)
        )
        return f"{base} | null" if self.nullable else base


@functools.cache
def field_specs(model: type[BaseModel]) -> dict[tuple[str, ...], FieldSpec]:
    """Every leaf setting of ``model`` (sections expanded) by its key path."""
    schema = model.model_json_schema()
    defs: dict[str, Any] = schema.get("$defs", {})
    specs: dict[tuple[str, ...], FieldSpec] = {}

    def walk(node: dict[str, Any], prefix: tuple[str, ...]) -> None:
        for name, prop in node.get("properties", {}).items():
            path = (*prefix, name)
            ref = prop.get("$ref")
            if ref is not None:
                walk(defs[ref.rsplit("/", 1)[-1]], path)
            else:
                specs[path] = _spec(path, prop)

    walk(schema, ())
    return specs


def _spec(path: tuple[str, ...], prop: dict[str, Any]) -> FieldSpec:
    choices = prop.get("anyOf", [prop])
    kinds = [c for c in choices if c.get("type") != "null"]
    main = {**prop, **(kinds[0] if kinds else {})}
    return FieldSpec(
        path=path,
        json_type=str(main.get("type", "string")),
        nullable=len(kinds) < len(choices),
        enum=tuple(main.get("enum", ())),
        limits={k: main[k] for k in _LIMITS if k in main},
        default=prop.get("default", {} if main.get("type") == "object" else None),
        description=str(prop.get("description", "")),
        aliases=tuple(prop.get("aliases", ())),
        expected_text=prop.get("expected"),
        secret=main.get("format") == "password",
    )


_LIMITS = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "pattern")
