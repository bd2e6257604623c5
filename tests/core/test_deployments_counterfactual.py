"""deployments.yaml's ``counterfactual:`` section: parsed into a CounterfactualPolicy, and every
mistake is one line naming the key path (the schema rejects what the parser rejects)."""

from __future__ import annotations

from typing import Any

import pytest

from cairn.core.deployments import CounterfactualPolicy, Deployment, parse_deployments
from cairn.core.errors import ConfigError
from tests._schemas import validator

MODEL = "credit-default@champion"


def _doc(section: Any) -> dict[str, Any]:
    return {"deployments": {"credit": {"model": MODEL, "counterfactual": section}}}


def test_the_section_declares_the_policy_and_its_defaults() -> None:
    section = {
        "immutable": ["age", "marital", "age"],
        "directions": {"income": "increase", "debt": "decrease"},
        "ranges": {"debt": [0, 20000]},
        "max_changes": 2,
        "budget_ms": 50,
    }
    dep = Deployment.from_dict("credit", {"model": MODEL, "counterfactual": section})
    assert dep.counterfactual == CounterfactualPolicy(
        ("age", "marital"), {"income": "increase", "debt": "decrease"}, {"debt": (0.0, 20000.0)},
        2, 50.0,
    )  # fmt: skip
    empty = Deployment.from_dict("credit", {"model": MODEL, "counterfactual": {}})
    assert empty.counterfactual == CounterfactualPolicy()
    assert Deployment.from_dict("credit", {"model": MODEL}).counterfactual is None
    assert validator("deployments").is_valid(_doc(section))


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"directions": {"income": "up"}}, "counterfactual.directions.income must be one of"),
        ({"max_changes": 0}, "counterfactual.max_changes must be between 1 and 10; got 0"),
        ({"max_changes": 1.5}, "counterfactual.max_changes must be an integer"),
        ({"budget_ms": 0}, r"counterfactual.budget_ms must be in \(0, 60000\]; got 0"),
        ({"immutable": "age"}, "counterfactual.immutable must be a list"),
        ({"ranges": {"debt": ["a", 1]}}, r"counterfactual.ranges.debt\[0\] must be a number"),
        ({"colour": "red"}, "unknown key 'colour' in deployments.credit.counterfactual"),
    ],
)
def test_the_schema_rejects_what_the_parser_rejects(section: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^deployments.yaml: .*{message}"):
        parse_deployments(_doc(section), source="deployments.yaml")
    assert not validator("deployments").is_valid(_doc(section))


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            {"ranges": {"debt": [5, 1]}},
            r"ranges.debt must be \[lo, hi\] with lo <= hi; got \[5, 1\]",
        ),
        ({"ranges": {"debt": [1, 2, 3]}}, r"ranges.debt must be \[lo, hi\] .*got \[1, 2, 3\]"),
        (
            {"immutable": ["age"], "directions": {"age": "increase"}},
            "directions.age names a feature that immutable also lists",
        ),
    ],
)
def test_rules_across_values_name_the_key(section: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as err:
        parse_deployments(_doc(section), source="deployments.yaml")
    assert "deployments.credit.counterfactual." in str(err.value) and "\n" not in str(err.value)
