"""reason_codes.yaml's JSON Schema comes from the model that parses it."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from cairn.explain import ReasonCodeBook
from tests._schemas import accepts, validator


def _parse(data: Any) -> object:
    return ReasonCodeBook.from_dict(data, "reason_codes.yaml")


@pytest.mark.parametrize(
    "doc",
    [
        {"feature": {}},
        {"features": {"x": {"hgh": "typo"}}},
        {"features": {"x": {"reference": "ten"}}},
        {"features": {"x": {"reference": True}}},
        {"features": {"x": "text"}},
        {"features": ["x"]},
        {"default": None},
        "text",
    ],
)
def test_the_schema_rejects_what_the_parser_rejects(doc: Any) -> None:
    assert not accepts(_parse, doc)
    assert not validator("reason_codes").is_valid(doc)


def test_messages_name_file_and_key() -> None:
    from cairn.core.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        _parse({"features": {"debt": {"reference": "ten"}}})
    assert (
        str(err.value) == "reason_codes.yaml: features.debt.reference must be a number; got 'ten'."
    )


def test_the_templates_are_valid() -> None:
    from cairn.quickstart.blank._templates import REASON_CODES_YAML
    from cairn.quickstart.example.reason_codes import EXAMPLE_REASON_CODES

    for text in (EXAMPLE_REASON_CODES, REASON_CODES_YAML):
        doc = yaml.safe_load(text)
        assert accepts(_parse, doc) and validator("reason_codes").is_valid(doc)
