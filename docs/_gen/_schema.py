"""JSON Schema helpers: resolve references, name types, flatten properties into table rows.

Used for the OpenAPI bodies of the HTTP page and the project files' schemas alike. Nested
objects become dotted keys (``decision.positive``), array items ``[]`` and the entries of a
mapping of names ``NAME`` (``deployments.NAME.model``).
"""

from __future__ import annotations

import json
from typing import Any

from _md import cell, code

MAX_DEPTH = 4


def resolve(schema: Any, document: dict[str, Any]) -> Any:
    """``schema`` with its ``$ref`` followed (within ``document``)."""
    if isinstance(schema, dict) and "$ref" in schema:
        target: Any = document
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return resolve(target, document)
    return schema


def _options(schema: dict[str, Any], document: dict[str, Any]) -> list[Any]:
    return [resolve(o, document) for o in schema.get("oneOf") or schema.get("anyOf") or []]


def schema_type(schema: dict[str, Any], document: dict[str, Any] | None = None) -> str:
    """A short type name: ``string``, ``array of integer``, ``object of number``,
    ``object or null``."""
    document = document or {}
    schema = resolve(schema, document)
    if "oneOf" in schema or "anyOf" in schema:
        names: list[str] = []
        for option in _options(schema, document):
            name = schema_type(option, document)
            if name not in names:
                names.append(name)
        return " or ".join(names)
    kind = schema.get("type", "object" if "properties" in schema else "any")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array":
        items = schema.get("items", {})
        return f"array of {schema_type(items, document)}" if items else "array"
    extra = schema.get("additionalProperties")
    if kind == "object" and isinstance(extra, dict) and extra:
        return f"mapping of {schema_type(extra, document)}"
    return str(kind)


def constraints(schema: dict[str, Any]) -> str:
    """Allowed values and the default, as a short sentence."""
    notes = []
    if "enum" in schema:
        notes.append("one of " + ", ".join(code(v) for v in schema["enum"]))
    if "const" in schema:
        notes.append(f"exactly {code(json.dumps(schema['const']))}")
    for key, word in (
        ("minimum", ">="),
        ("maximum", "<="),
        ("exclusiveMinimum", ">"),
        ("exclusiveMaximum", "<"),
        ("minItems", "items >="),
        ("maxItems", "items <="),
        ("minLength", "length >="),
        ("maxLength", "length <="),
        ("minProperties", "keys >="),
    ):
        if key in schema:
            notes.append(f"{word} {schema[key]}")
    if "expected" in schema:  # the project files' own words for what is allowed
        notes.append(f"allowed: {schema['expected']}")
    elif "pattern" in schema:
        notes.append(f"matches {code(schema['pattern'])}")
    if schema.get("default") is not None:
        notes.append(f"default {code(json.dumps(schema['default']))}")
    if schema.get("examples"):
        notes.append("e.g. " + ", ".join(code(json.dumps(e)) for e in schema["examples"][:2]))
    return "; ".join(notes)


def _children(
    schema: dict[str, Any], document: dict[str, Any], path: str
) -> list[tuple[dict[str, Any], str]]:
    """``(schema, path)`` of what nests inside a property: an object's keys, an array's items,
    a mapping's entries, or each object-like option of an ``anyOf``."""
    out: list[tuple[dict[str, Any], str]] = []
    if "oneOf" in schema or "anyOf" in schema:
        for option in _options(schema, document):
            if isinstance(option, dict) and option.get("type") != "null":
                out += _children(option, document, path)
        return out
    if "properties" in schema:
        return [(schema, path)]
    items = resolve(schema.get("items"), document)
    if isinstance(items, dict) and (items.get("properties") or items.get("anyOf")):
        return _children(items, document, f"{path}[]")
    extra = resolve(schema.get("additionalProperties"), document)
    if isinstance(extra, dict) and (extra.get("properties") or extra.get("anyOf")):
        return _children(extra, document, f"{path}.NAME" if path else "NAME")
    return out


def fields(
    schema: Any,
    document: dict[str, Any],
    prefix: str = "",
    depth: int = 0,
    max_depth: int = MAX_DEPTH,
) -> list[list[str]]:
    """One row per (nested) property, down to ``max_depth`` levels: key, type, required,
    description."""
    schema = resolve(schema, document)
    if not isinstance(schema, dict):
        return []
    if "properties" not in schema:
        rows: list[list[str]] = []
        for child, path in _children(schema, document, prefix):
            rows += fields(child, document, path, depth, max_depth)
        return rows
    rows = []
    required = set(schema.get("required", []))
    for name, raw in (schema.get("properties") or {}).items():
        sub = resolve(raw, document)
        path = f"{prefix}.{name}" if prefix else name
        described = " ".join(
            part for part in (sub.get("description", ""), constraints(sub)) if part
        )
        rows.append(
            [
                code(path),
                code(schema_type(sub, document)),
                "yes" if name in required else "",
                cell(described),
            ]
        )
        if depth < max_depth:
            for child, child_path in _children(sub, document, path):
                rows += fields(child, document, child_path, depth + 1, max_depth)
    return rows
