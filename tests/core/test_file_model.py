"""File models: one line per problem naming file and key path, bounds said in words, and a
JSON Schema that says what the parser accepts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field

from cairn.core.errors import ConfigError
from cairn.core.file_model import (
    Bool,
    Duration,
    FileModel,
    Int,
    Number,
    Problem,
    Text,
    json_schema,
    key,
    parse,
    problems_of,
)


class Inner(FileModel):
    """inner section"""

    share: Annotated[Number, Field(gt=0, le=1)] = key(0.5, "A share.")
    kind: Literal["a", "b"] = key("a", "A kind.")


class Outer(FileModel):
    """A test file."""

    name: Text = key(description="Its name.", examples=["demo"])
    count: Annotated[Int, Field(ge=1)] = key(1, "How many.")
    closed: Annotated[Number, Field(ge=0, le=1)] = key(0.5, "Closed bounds.")
    open_: Annotated[Number, Field(gt=0, lt=1)] = key(0.5, "Open bounds.", alias="open")
    flag: Bool = key(False, "A flag.")
    wait: Duration = key(0, "A duration.")
    items: dict[Annotated[str, Field(pattern=r"^[a-z]+$")], Inner] | None = key(None, "Items.")
    tags: list[Text] = key(default_factory=list, description="Tags.")


def _messages(data: Any, **options: Any) -> list[str]:
    return [p.message for p in problems_of(Outer, data, **options)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "the key 'name' is required (e.g. demo)."),
        ({"name": " "}, "name must be non-empty text; got ' '."),
        ({"name": "x", "count": 0}, "count must be at least 1; got 0."),
        ({"name": "x", "count": "3"}, "count must be an integer of at least 1; got '3'."),
        ({"name": "x", "count": True}, "count must be an integer of at least 1; got True."),
        ({"name": "x", "closed": 2.0}, "closed must be between 0 and 1; got 2.0."),
        ({"name": "x", "open": 1}, "open must be between 0 and 1 (exclusive); got 1."),
        ({"name": "x", "flag": "yes"}, "flag must be true or false; got 'yes'."),
        ({"name": "x", "wait": "soon"}, "wait must be a duration such as 30s, 5m, 24h or 90d"),
        ({"name": "x", "colour": 1}, "unknown key 'colour'; allowed keys are name, count,"),
        ({"name": "x", "items": {"ab": {"share": 0}}}, "items.ab.share must be in (0, 1]; got 0."),
        ({"name": "x", "items": {"ab": {"kind": "c"}}}, "items.ab.kind must be one of a, b;"),
        ({"name": "x", "items": {"ab": {"x": 1}}}, "unknown key 'x' in items.ab; allowed keys"),
        ({"name": "x", "items": {"AB": {}}}, "items: the name 'AB' must be a name matching"),
        ({"name": "x", "items": [1]}, "items must be a mapping; got [1]."),
        ({"name": "x", "tags": ["a", ""]}, "tags[1] must be non-empty text; got ''."),
        ([1, 2], "the file must be a mapping; got [1, 2]."),
    ],
)
def test_each_problem_is_one_sentence_naming_the_key(data: Any, message: str) -> None:
    (found,) = _messages(data)
    assert found.startswith(message), found
    assert "\n" not in found


def test_parse_raises_the_first_problem_with_file_and_prefix() -> None:
    data = {"name": "x", "count": 0, "closed": 5}
    with pytest.raises(ConfigError) as err:
        parse(Outer, data, source="f.yaml", prefix=("outer",))
    assert str(err.value) == "f.yaml: outer.count must be at least 1; got 0."
    assert [p.key for p in problems_of(Outer, data, source="f.yaml")] == ["count", "closed"]


def test_values_are_built_and_keys_read_as_text() -> None:
    value = parse(Outer, {"name": " x ", "wait": "2h", "items": {"ab": {}}, "open": 0.25})
    assert (value.wait, value.open_, value.items) == (7_200_000_000, 0.25, {"ab": Inner()})
    with pytest.raises(ConfigError, match="name must be non-empty text; got 7"):
        parse(Outer, {"name": 7})  # Text is written as text


def test_a_custom_unknown_key_sentence() -> None:
    (found,) = _messages({"name": "x", "z": 1}, unknown="Unknown key {key!r}{inside}.")
    assert found == "Unknown key 'z'."


def test_problem_lines_name_the_file_once() -> None:
    assert str(Problem("a.yaml", "k", "k must be 1; got 2.")) == "a.yaml: k must be 1; got 2."
    assert (
        str(Problem("a.yaml", "", "a.yaml:3: check #1 is wrong")) == "a.yaml:3: check #1 is wrong"
    )
    assert Problem("", "k", "k is wrong.").to_dict()["file"] == ""


def test_the_schema_states_types_bounds_defaults_and_names() -> None:
    schema = json_schema(Outer, title="outer.yaml", description="A test file.")
    props = schema["properties"]
    assert schema["required"] == ["name"] and schema["additionalProperties"] is False
    assert props["count"] == {
        "default": 1, "description": "How many.", "minimum": 1, "type": "integer"
    }  # fmt: skip
    assert props["open"]["exclusiveMinimum"] == 0 and props["open"]["exclusiveMaximum"] == 1
    items = props["items"]["anyOf"][0]
    assert items["propertyNames"]["pattern"] == "^[a-z]+$"
    assert items["additionalProperties"] == {"$ref": "#/$defs/Inner"}
    assert props["wait"]["anyOf"][0]["pattern"].startswith("^")


_NUMBERS = st.one_of(
    st.integers(-5, 5), st.floats(-2, 2, allow_nan=False, allow_infinity=False), st.booleans()
)


@given(value=_NUMBERS)
def test_the_schema_rejects_every_number_the_parser_rejects(value: Any) -> None:
    jsonschema_rs = pytest.importorskip("jsonschema_rs")
    validator = jsonschema_rs.validator_for(json_schema(Outer, title="t", description="d"))
    for field in ("closed", "open"):
        data = {"name": "x", field: value}
        assert validator.is_valid(data) == (not problems_of(Outer, data)), data
    if not isinstance(value, float):  # JSON Schema counts 2.0 as an integer; the parser does not
        data = {"name": "x", "count": value}
        assert validator.is_valid(data) == (not problems_of(Outer, data)), data
