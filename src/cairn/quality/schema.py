"""The JSON Schema of a suite file (``quality/*.yaml``), generated from what the parser reads.

Suites are parsed by hand (:mod:`cairn.quality.spec`, :mod:`cairn.quality.check`): each
expectation declares its own arguments (:class:`~cairn.quality.params.Param`), and
:func:`~cairn.quality.params.bind_args` checks a check against them. The schema is built from
the same declarations: one definition per registered expectation (its arguments, their kinds
from :data:`~cairn.quality.params.KIND_SCHEMAS`, which are required), the suite keys of
:data:`~cairn.quality.spec.SUITE_KEYS` and the check keys of
:data:`~cairn.quality.check.CHECK_KEYS`. Checks across arguments (at least one bound, a valid
regex) stay with the parser.

Example
-------
>>> schema = suite_schema()
>>> sorted(schema["properties"]) == sorted(SUITE_KEYS)
True
>>> args = schema["$defs"]["expect_column_values_to_not_be_null"]
>>> args["required"], args["properties"]["mostly"]["default"]
(['column'], 1.0)
"""

from __future__ import annotations

from typing import Any

from cairn.quality.check import CHECK_KEYS
from cairn.quality.expectations import expectation_names, get_expectation
from cairn.quality.params import IGNORED
from cairn.quality.severity import Action, Layer, Severity
from cairn.quality.spec import SUITE_KEYS

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

_SEVERITY = {
    "enum": [s.value for s in Severity],
    "description": "How bad a failure is (default: by layer; schema checks are critical).",
}
_CHECK_KEYS: dict[str, dict[str, Any]] = {
    "severity": _SEVERITY,
    "layer": {
        "enum": [layer.value for layer in Layer],
        "description": "What kind of rule it is (default: the expectation's own layer).",
    },
    "meta": {"type": "object", "description": "Anything to keep with the check."},
    "description": {"type": "string", "description": "What the check is for, for people."},
}
_SUITE_KEYS: dict[str, dict[str, Any]] = {
    "name": {
        "type": "string",
        "minLength": 1,
        "description": "The suite's name; results are kept under it (default: the file name).",
    },
    "description": {"type": "string", "description": "What the suite guards, for people."},
    "source": {
        "type": ["string", "null"],
        "description": "The applied source this suite guards: cairn materialize validates "
        "the source with it first.",
    },
    "actions": {
        "type": "object",
        "propertyNames": {"enum": [s.value for s in Severity]},
        "additionalProperties": {"enum": [a.value for a in Action if a is not Action.NONE]},
        "description": "Severity -> action overrides (default: critical and high halt, medium "
        "warns, low logs).",
    },
    "sample_rows": {
        "type": "integer",
        "minimum": 0,
        "maximum": 10_000,
        "default": 20,
        "description": "Failing rows kept per failing check.",
    },
    "references": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "Other tables checks name (name -> path, relative to the suite file).",
    },
    "expectations": {
        "type": "array",
        "description": "The checks, in order: {expect_NAME: {arguments, severity, layer}} or "
        "Great Expectations' long form {type: expect_NAME, kwargs: {...}}.",
    },
}


def suite_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a suite file."""
    defs: dict[str, Any] = {}
    forms: list[dict[str, Any]] = []
    checks = {k: _CHECK_KEYS.get(k, {}) for k in CHECK_KEYS}
    for name in expectation_names():
        expectation = get_expectation(name)
        defs[name] = _arguments(expectation.params, expectation.__doc__)
        required = defs[name]["required"]
        short_args = {
            **defs[name],
            "properties": {**defs[name]["properties"], **checks},
        }
        forms.append(
            {
                "type": "object",
                "properties": {
                    name: short_args if required else {"anyOf": [short_args, {"type": "null"}]},
                    **checks,
                },
                "required": [name],
                "additionalProperties": False,
            }
        )
        forms.append(
            {
                "type": "object",
                "properties": {
                    "type": {"const": name},
                    "kwargs": {"$ref": f"#/$defs/{name}"},
                    **checks,
                },
                "required": ["type", "kwargs"] if required else ["type"],
                "additionalProperties": False,
            }
        )
    properties = {k: dict(_SUITE_KEYS[k]) for k in SUITE_KEYS}
    properties["expectations"]["items"] = {"anyOf": forms}
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "quality/*.yaml",
        "description": "A data quality suite: checks by Great Expectations' expectation names "
        "(plus Cairn's ML checks), each with a layer and a severity mapped to an action "
        "(cairn quality validate SUITE DATA).",
        "type": "object",
        "properties": properties,
        "required": ["expectations"],
        "additionalProperties": False,
        "$defs": defs,
    }


def _arguments(params: Any, doc: str | None) -> dict[str, Any]:
    properties = {p.name: p.json_schema() for p in params}
    properties.update({name: {} for name in sorted(IGNORED)})  # GX's, accepted and ignored
    return {
        "type": "object",
        "description": " ".join((doc or "").split()),
        "properties": properties,
        "required": [p.name for p in params if p.required],
        "additionalProperties": False,
    }
