"""GrowthBook's ``run`` conformance cases that assignment alone decides.

An experiment run is rebuilt here from Cairn's assignment functions the way the SDKs evaluate
it: variations < 2, ``enabled``, ``forcedVariations``, ``active``, the hash attribute, filters
(which override the namespace), the namespace, hash v1/v2 with ``seed`` and ``hashVersion``,
``ranges`` (which override weights and coverage), weights, coverage, ``force`` and ``qaMode``.

Skipped, because they need targeting that Cairn's router does not have (it routes by a spec
chosen server-side, never by user attributes or URLs):

- "evaluates conditions - pass" / "evaluates conditions - fail": attribute conditions;
- "querystring force" / "querystring force with inactive": browser URL overrides;
- "Prerequisite condition passes" / "Prerequisite condition fails": parent feature flags;
- "SavedGroups correctly pulled from context for experiment": saved-group targeting.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cairn.serving.routing import bucket_ranges, choose_variation, hash_value, in_namespace

CASES = json.loads((Path(__file__).parent / "data" / "growthbook_cases.json").read_text())["run"]
TARGETING = ("condition", "parentConditions")
SKIPPED = {
    "evaluates conditions - pass",
    "evaluates conditions - fail",
    "querystring force",
    "querystring force with inactive",
    "Prerequisite condition passes",
    "Prerequisite condition fails",
    "SavedGroups correctly pulled from context for experiment",
}


def _result(exp: dict[str, Any], index: int, hash_used: bool) -> tuple[Any, bool, bool]:
    if not 0 <= index < len(exp["variations"]):
        return exp["variations"][0], False, False
    return exp["variations"][index], True, hash_used


def run(context: dict[str, Any], exp: dict[str, Any]) -> tuple[Any, bool, bool]:
    """(value, in experiment, hash used) of one experiment, as the GrowthBook SDKs decide."""
    attributes = context.get("attributes") or {}
    out = _result(exp, -1, False)
    if len(exp["variations"]) < 2 or context.get("enabled") is False:
        return out
    forced = context.get("forcedVariations") or {}
    if exp["key"] in forced:
        return _result(exp, forced[exp["key"]], False)
    if exp.get("active") is False:
        return out
    unit = attributes.get(exp.get("hashAttribute", "id"))
    if unit is None or unit == "":
        return out
    unit = str(unit)
    if exp.get("filters"):
        for f in exp["filters"]:
            value = str(attributes.get(f.get("attribute", "id")) or "")
            n = hash_value(f["seed"], value, f.get("hashVersion", 2))
            if n is None or choose_variation(n, f["ranges"]) < 0:
                return out
    elif exp.get("namespace") and not in_namespace(unit, tuple(exp["namespace"])):
        return out
    n = hash_value(exp.get("seed") or exp["key"], unit, exp.get("hashVersion") or 1)
    if n is None:
        return out
    ranges = exp.get("ranges") or bucket_ranges(
        len(exp["variations"]), exp.get("coverage", 1.0), exp.get("weights")
    )
    assigned = choose_variation(n, ranges)
    if assigned < 0:
        return out
    if "force" in exp:
        return _result(exp, exp["force"], False)
    if context.get("qaMode"):
        return out
    return _result(exp, assigned, True)


APPLY = [c for c in CASES if c[0] not in SKIPPED]


def test_skips_only_targeting_cases() -> None:
    skipped = [c for c in CASES if c[0] in SKIPPED]
    assert len(skipped) == len(SKIPPED) == 7
    for _, context, exp, *_ in skipped:
        assert any(k in exp for k in TARGETING) or "url" in context or "savedGroups" in context
    assert len(APPLY) == 66


@pytest.mark.parametrize("case", APPLY, ids=[c[0] for c in APPLY])
def test_run(case: list[Any]) -> None:
    _, context, exp, value, in_experiment, hash_used = case
    assert run(context, exp) == (value, in_experiment, hash_used)
