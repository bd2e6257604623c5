"""GrowthBook's conformance vectors (shared/vectors/growthbook/cases.json), case for case."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cairn.serving.routing import (
    bucket_ranges,
    bucket_v2,
    choose_variation,
    equal_weights,
    fnv1a32,
    hash_value,
    in_namespace,
)

VECTORS = Path(__file__).parent / "data" / "growthbook_cases.json"
"""A copy of shared/vectors/growthbook/cases.json (GrowthBook SDK conformance data, MIT)."""
CASES: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))


def _ids(kind: str) -> list[str]:
    return [json.dumps(c[:2])[:60] if kind == "hash" else str(c[0]) for c in CASES[kind]]


@pytest.mark.parametrize("case", CASES["hash"], ids=_ids("hash"))
def test_hash(case: list[Any]) -> None:
    seed, value, version, expected = case
    assert hash_value(seed, value, version) == expected


@pytest.mark.parametrize("case", CASES["getBucketRange"], ids=_ids("getBucketRange"))
def test_get_bucket_range(case: list[Any]) -> None:
    _, (n, coverage, weights), expected = case
    got = bucket_ranges(n, coverage, weights)
    assert len(got) == len(expected)
    for (start, end), (want_start, want_end) in zip(got, expected, strict=True):
        assert start == pytest.approx(want_start, abs=1e-12)
        assert end == pytest.approx(want_end, abs=1e-12)


@pytest.mark.parametrize("case", CASES["chooseVariation"], ids=_ids("chooseVariation"))
def test_choose_variation(case: list[Any]) -> None:
    _, n, ranges, expected = case
    assert choose_variation(n, ranges) == expected


@pytest.mark.parametrize("case", CASES["inNamespace"], ids=_ids("inNamespace"))
def test_in_namespace(case: list[Any]) -> None:
    _, unit, (name, start, end), expected = case
    assert in_namespace(unit, (name, start, end)) is expected


@pytest.mark.parametrize("case", CASES["getEqualWeights"], ids=lambda c: str(c[0]))
def test_get_equal_weights(case: list[Any]) -> None:
    n, expected = case
    assert [round(w, 8) for w in equal_weights(n)] == expected


def test_fnv_works_on_utf16_code_units_not_bytes() -> None:
    """JavaScript hashes charCodeAt: 'é' is one unit (0xE9), '😀' two surrogates."""
    assert fnv1a32("é") == ((0x811C9DC5 ^ 0xE9) * 0x01000193) & 0xFFFFFFFF
    high, low = 0xD83D, 0xDE00
    expected = ((((0x811C9DC5 ^ high) * 0x01000193) & 0xFFFFFFFF) ^ low) * 0x01000193
    assert fnv1a32("😀") == expected & 0xFFFFFFFF
    assert fnv1a32("ab") == fnv1a32("b", fnv1a32("a"))


def test_bucket_is_hash_v2_times_10000() -> None:
    for unit in ("a", "customer-42", "ünïcode", "😀x"):
        assert bucket_v2("seed", unit) / 10_000 == hash_value("seed", unit, 2)
