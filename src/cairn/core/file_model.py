"""Project files as models: one pydantic model per YAML file both parses it and gives its JSON
Schema, so what a file accepts and what its schema documents cannot drift apart.

A model declares each key once: its type, its bounds, its default and a description (and,
when type and bounds do not say it, the ``expected`` phrase of its error message).
:func:`parse` validates a parsed YAML mapping and raises one :class:`ConfigError` line naming the
file and the key path; :func:`problems` lists every problem (``cairn config check``);
:func:`json_schema` is the JSON Schema (``cairn config schema``). Importing this module imports
pydantic; ``cairn.core`` itself does not.

Example
-------
>>> from typing import Annotated
>>> from pydantic import Field
>>> class Limits(FileModel):
...     top_k: Annotated[Int, Field(ge=1)] = key(4, "Reason codes per decision.")
...     share: Annotated[Number, Field(gt=0, le=1)] = key(0.5, "Share of the rows.")
>>> parse(Limits, {"top_k": 2}).top_k
2
>>> parse(Limits, {"top_k": 0, "share": 2}, source="limits.yaml", prefix=("x",))
Traceback (most recent call last):
...
cairn.core.errors.ConfigError: limits.yaml: x.top_k must be at least 1; got 0.
>>> [p.message for p in problems_of(Limits, {"top_k": "3", "colour": 1})]
["top_k must be an integer of at least 1; got '3'.", "unknown key 'colour'; allowed keys are top_k, share."]
"""  # noqa: E501

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, ClassVar, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    Strict,
    ValidationError,
    WithJsonSchema,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import ErrorDetails, PydanticCustomError, core_schema

from cairn.core.errors import CairnError, ConfigError
from cairn.core.timeutil import DURATION_PATTERN, parse_duration

M = TypeVar("M", bound=BaseModel)

VALUE_ERROR = "cairn_file"
"""The error type of :func:`invalid`: ``KEY must be EXPECTED; got GOT.``"""
TEXT_ERROR = "cairn_file_text"
"""The error type of :func:`wrong`: ``KEY`` followed by a sentence of its own."""
UNKNOWN_KEY = "unknown key {key!r}{inside}; allowed keys are {allowed}."
"""How an unknown key is reported (``inside`` is `` in PARENT`` below the top level)."""
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

Int = Annotated[int, Strict()]
"""An integer: ``"3"``, ``3.0`` and ``true`` are refused."""
Number = Annotated[float, Strict()]
"""A finite number (an integer is one too): ``"0.5"`` and ``true`` are refused."""
Bool = Annotated[bool, Strict()]
"""``true`` or ``false`` (not ``yes``, not 1)."""
Name = Annotated[str, Strict()]
"""Text that must be written as text (a name, a pattern), not a number."""
Text = Annotated[
    str,
    Strict(),
    Field(pattern=r"\S", json_schema_extra={"expected": "non-empty text"}),
]
"""Non-empty text (not only spaces)."""


DURATION_TEXT = "a duration such as 30s, 5m, 24h or 90d (or a number of seconds)"


def _duration(value: Any) -> int:
    if isinstance(value, timedelta):
        return parse_duration(value)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise invalid("", DURATION_TEXT, value)
    if isinstance(value, int) and value < 0:
        raise invalid("", DURATION_TEXT, value)
    try:
        return parse_duration(value)
    except CairnError:
        raise invalid("", DURATION_TEXT, value) from None


Duration = Annotated[
    int,
    PlainValidator(_duration),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "integer", "minimum": 0},
            ],
            "expected": DURATION_TEXT,
        }
    ),
]
"""A duration written ``30s``, ``5m``, ``24h``, ``90d`` or ``2w`` (or whole seconds), read as
microseconds."""


class FileModel(BaseModel):
    """The base of every project-file model: frozen, strictly keyed (an unknown key is an
    error that lists the allowed ones), numbers finite, text written as numbers read as text."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
        allow_inf_nan=False,
        validate_default=False,
    )

    unknown_key: ClassVar[str] = UNKNOWN_KEY
    """How this file reports an unknown key (``{key!r}``, ``{inside}``, ``{allowed}``)."""


def key(
    default: Any = ...,
    description: str = "",
    *,
    expected: str | None = None,
    examples: Sequence[Any] = (),
    default_factory: Any = None,
    alias: str | None = None,
) -> Any:
    """A key of a file model: its default, its description (for the schema and the docs) and,
    when type and bounds do not say it, the ``expected`` phrase of its error message
    (``alias``: the key as written, when the attribute cannot bear its name)."""
    options: dict[str, Any] = {"description": description}
    if expected:  # only what is given: a None would hide what the key's type declares
        options["json_schema_extra"] = {"expected": expected}
    if examples:
        options["examples"] = list(examples)
    if alias:
        options["alias"] = alias
    if default_factory is not None:
        return Field(default_factory=default_factory, **options)
    return Field(default, **options)


def invalid(key: str, expected: str, got: Any) -> PydanticCustomError:
    """A validation error rendered ``PATH.KEY must be EXPECTED; got GOT.`` (``key`` relative to
    the model or value being validated; empty for the value itself)."""
    return PydanticCustomError(
        VALUE_ERROR, "{key} must be {expected}", {"key": key, "expected": expected, "got": got}
    )


def wrong(key: str, text: str) -> PydanticCustomError:
    """A validation error rendered ``PATH.KEY TEXT`` (a sentence of its own, e.g. ``must name a
    class; got 'x'.``, or ``: positive and negative must differ.``)."""
    return PydanticCustomError(TEXT_ERROR, "{key} {text}", {"key": key, "text": text})


@dataclass(frozen=True)
class Problem:
    """One problem with a project file: the file, the key path (``deployments.credit.threshold``;
    empty for the whole file), what was expected, what was received (as written) and the
    sentence that says all of it.

    Example
    -------
    >>> p = Problem("deployments.yaml", "deployments.credit.threshold",
    ...             "deployments.credit.threshold must be between 0 and 1; got 2.0.",
    ...             "between 0 and 1", "2.0")
    >>> str(p)
    'deployments.yaml: deployments.credit.threshold must be between 0 and 1; got 2.0.'
    """

    file: str
    key: str
    message: str
    expected: str = ""
    got: str = ""

    def __str__(self) -> str:
        if not self.file or self.message.startswith(self.file):
            return self.message
        return f"{self.file}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready dict."""
        return {
            "file": self.file,
            "key": self.key,
            "message": self.message,
            "expected": self.expected,
            "got": self.got,
        }


def parse(
    model: type[M],
    data: Any,
    *,
    source: str | None = None,
    prefix: tuple[str, ...] = (),
    unknown: str | None = None,
) -> M:
    """``data`` validated by ``model``; else a :class:`ConfigError` with the first problem on one
    line, naming ``source`` (the file) and the key path below ``prefix``."""
    try:
        return model.model_validate(_text_keys(data))
    except ValidationError as exc:
        found = render(exc, model, source=source, prefix=prefix, unknown=unknown)
        raise ConfigError(str(found[0])) from None


def problems_of(
    model: type[BaseModel],
    data: Any,
    *,
    source: str | None = None,
    prefix: tuple[str, ...] = (),
    unknown: str | None = None,
) -> list[Problem]:
    """Every problem ``model`` finds in ``data`` (none: it is valid)."""
    try:
        model.model_validate(_text_keys(data))
    except ValidationError as exc:
        return render(exc, model, source=source, prefix=prefix, unknown=unknown)
    return []


def render(
    exc: ValidationError,
    model: type[BaseModel],
    *,
    source: str | None = None,
    prefix: tuple[str, ...] = (),
    unknown: str | None = None,
) -> list[Problem]:
    """Each error of ``exc`` (raised by ``model``) as a :class:`Problem`, said the way the file
    was written; duplicates removed, in the order of the keys. An unknown key is reported with
    ``unknown`` (default: the model's :attr:`FileModel.unknown_key`)."""
    schema = _validation_schema(model)
    template = str(unknown or getattr(model, "unknown_key", UNKNOWN_KEY))
    out: list[Problem] = []
    for error in exc.errors(include_url=False):
        found = _problem(error, schema, source or "", prefix, template)
        if found not in out:
            out.append(found)
    return out


def json_schema(model: type[BaseModel], *, title: str, description: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of files that ``model`` parses.

    Example
    -------
    >>> class One(FileModel):
    ...     name: Name = key(description="Its name.")
    >>> s = json_schema(One, title="one.yaml", description="One name.")
    >>> s["$schema"], s["required"], s["additionalProperties"]
    ('https://json-schema.org/draft/2020-12/schema', ['name'], False)
    """
    body = model.model_json_schema(schema_generator=_Schema)
    return {"$schema": SCHEMA_DIALECT, **body, "title": title, "description": description}


class _Schema(GenerateJsonSchema):
    """Field titles left out (the key is its name); a dict whose keys have a pattern says so
    with ``propertyNames`` and still describes its values (pydantic writes
    ``patternProperties``, which lets any other key through)."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        out = super().dict_schema(schema)
        patterns = out.pop("patternProperties", None)
        if isinstance(patterns, dict) and len(patterns) == 1:
            ((pattern, values),) = patterns.items()
            out["propertyNames"] = {**out.get("propertyNames", {}), "pattern": pattern}
            out["additionalProperties"] = values
        return out


@functools.cache
def _validation_schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(schema_generator=_Schema)


def _text_keys(data: Any) -> Any:
    # YAML keys may be numbers or booleans (``1:``, ``no:``); keys are names, so text
    if isinstance(data, Mapping):
        return {str(k): _text_keys(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_text_keys(v) for v in data]
    return data


_BOUNDS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_NOUNS = {"integer": "an integer", "number": "a number", "string": "a string"}
_NOUNS.update({"object": "a mapping", "array": "a list", "boolean": "true or false"})


def _problem(
    error: ErrorDetails, schema: dict[str, Any], file: str, prefix: tuple[str, ...], unknown: str
) -> Problem:
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    loc: tuple[str | int, ...] = tuple(error["loc"])
    if kind in (VALUE_ERROR, TEXT_ERROR):
        extra = tuple(p for p in str(ctx["key"]).split(".") if p)
        loc = (*loc, *extra)
        value = ctx.get("got")
    if loc and loc[-1] == "[key]":  # a key of a mapping that must be a name
        parent, name = (*prefix, *loc[:-2]), loc[-2]
        node = _node(schema, loc[:-2]) or {}
        names = node.get("propertyNames", {})
        expected = names.get("expected") or f"a name matching {names.get('pattern', '?')}"
        where = _path(parent)
        return Problem(
            file,
            _path((*parent, name)),
            f"{where + ': ' if where else ''}the name {name!r} must be {expected}.",
            expected,
            repr(name),
        )
    path = (*prefix, *loc)
    where = _path(path)
    subject = where or "the file"
    got = _show(value)
    if kind == "extra_forbidden":
        holder = _node(schema, loc[:-1]) or {}
        allowed = ", ".join(holder.get("properties", {})) or "none"
        inside = f" in {_path(path[:-1])}" if path[:-1] else ""
        text = unknown.format(key=path[-1], inside=inside, allowed=allowed)
        return Problem(file, where, text, f"one of {allowed}", repr(path[-1]))
    if kind == "missing":
        node = _node(schema, loc) or {}
        samples = node.get("examples") or []
        hint = f" (e.g. {samples[0]})" if samples else ""
        return Problem(file, where, f"the key {where!r} is required{hint}.", "a value", "nothing")
    if kind == TEXT_ERROR:
        text = str(ctx["text"])
        return Problem(file, where, f"{subject}{'' if text[:1] in ':;,' else ' '}{text}")
    if kind == VALUE_ERROR:
        expected = str(ctx["expected"])
    else:
        found = _node(schema, loc)
        if found is None:
            return Problem(file, where, f"{subject}: {error['msg']}; got {got}.", "", got)
        expected = (_bounds(found) if kind in _BOUNDS else "") or _expected(found)
    return Problem(file, where, f"{subject} must be {expected}; got {got}.", expected, got)


def _node(schema: dict[str, Any], loc: Sequence[str | int]) -> dict[str, Any] | None:
    """The schema of the value at ``loc`` ($refs and nullable unions resolved)."""
    node: dict[str, Any] | None = _resolve(schema, schema)
    for part in loc:
        if node is None:
            return None
        if isinstance(part, int):
            node = node.get("items")
        elif part in node.get("properties", {}):
            node = node["properties"][part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return None
        node = None if node is None else _resolve(schema, node)
    return node


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    outer = {k: v for k, v in node.items() if k not in ("$ref", "anyOf")}
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = schema.get("$defs", {}).get(ref.rsplit("/", 1)[-1], {})
        return {**_resolve(schema, target), **outer}
    choices = [c for c in node.get("anyOf", ()) if c.get("type") != "null"]
    if "anyOf" in node and len(choices) == 1:
        return {**_resolve(schema, choices[0]), **outer}
    return node


def _expected(node: dict[str, Any]) -> str:
    if node.get("expected"):
        return str(node["expected"])
    if "enum" in node:
        return "one of " + ", ".join(str(v) for v in node["enum"])
    if "const" in node:
        return repr(node["const"])
    kind = node.get("type")
    noun = _NOUNS.get(kind, "a value") if isinstance(kind, str) else "a value"
    if kind == "string" and node.get("minLength") == 1:
        noun = "non-empty text"
    if kind == "array" and node.get("minItems") == 1:
        noun = "a non-empty list"
    bounds = _bounds(node)
    if not bounds:
        return noun
    return f"{noun} {'of ' if bounds.startswith('at ') else ''}{bounds}"


def _bounds(node: Mapping[str, Any]) -> str:
    """The bounds in words: ``at least 1``, ``between 0 and 1``, ``in (0, 1]``; empty when
    none."""
    lo, lo_open = node.get("minimum"), node.get("exclusiveMinimum")
    hi, hi_open = node.get("maximum"), node.get("exclusiveMaximum")
    low = _num(lo if lo is not None else lo_open)
    high = _num(hi if hi is not None else hi_open)
    if low and high:
        if lo is not None and hi is not None:
            return f"between {low} and {high}"
        if lo is None and hi is None:
            return f"between {low} and {high} (exclusive)"
        return f"in {'[' if lo is not None else '('}{low}, {high}{']' if hi is not None else ')'}"
    if low:
        return f"at least {low}" if lo is not None else f"above {low}"
    if high:
        return f"at most {high}" if hi is not None else f"below {high}"
    return ""


def _num(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _path(parts: Sequence[str | int]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def read_yaml_file(path: Path) -> Any:
    """The parsed content of a project file (``{}`` when empty); a YAML error is one
    :class:`~cairn.core.errors.ConfigError` line naming the file.

    Example
    -------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "x.yaml"
    >>> _ = p.write_text("a: 1\\n")
    >>> read_yaml_file(p)
    {'a': 1}
    """
    import yaml

    from cairn.core.errors import ConfigError

    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {' '.join(str(exc).split())}") from None
