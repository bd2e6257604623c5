"""Reason codes: direction, ordering, texts from the file, and the example project's file."""

from __future__ import annotations

from pathlib import Path

import pytest

from cairn.core.errors import ConfigError
from cairn.explain import ReasonCodeBook, summarize, top_reasons, write_example_reason_codes


def test_top_reasons_keep_only_factors_toward_decline_largest_first() -> None:
    book = ReasonCodeBook.from_dict(
        {"features": {"debt": {"code": "D1", "high": "Debt too high", "reference": 100}}}
    )
    reasons = top_reasons(
        [0.1, 0.7, -0.3, 0.2],
        ["debt", "income", "age", "home"],
        [150.0, None, 30, "rent"],
        book,
        categorical=frozenset({"home"}),
        k=3,
    )
    assert [(r.feature, r.direction) for r in reasons] == [
        ("income", "missing"),
        ("home", "category"),
        ("debt", "high"),
    ]
    assert [r.text for r in reasons] == ["Income not available", "Home (rent)", "Debt too high"]
    assert reasons[2].code == "D1" and reasons[0].code == "INCOME"


def test_direction_uses_the_file_reference_before_the_models() -> None:
    book = ReasonCodeBook.from_dict(
        {"features": {"debt": {"low": "Limited credit history", "reference": 10}}}
    )
    (reason,) = top_reasons([0.5], ["debt"], [5.0], book, references={"debt": 1.0})
    assert reason.direction == "low" and reason.text == "Limited credit history"


def test_summary_reads_as_one_sentence() -> None:
    book = ReasonCodeBook()
    reasons = top_reasons([0.2, 0.1], ["a", "b"], [1.0, 2.0], book, references={"a": 0, "b": 9})
    assert (
        summarize(reasons, "decline")
        == "Decision: decline. Main reasons: A too high; and B too low."
    )


def test_the_summary_names_any_decision_and_what_the_codes_point_toward() -> None:
    book = ReasonCodeBook()
    reasons = top_reasons([0.2, 0.1], ["a", "b"], [1.0, 2.0], book, references={"a": 0, "b": 9})
    targeted = summarize(reasons, "follow_up", positive="follow_up")
    assert targeted == "Decision: follow_up. Main reasons: A too high; and B too low."
    skipped = summarize(reasons, "skip", positive="follow_up")  # codes of a negative decision
    assert skipped == "Decision: skip. Factors toward follow_up: A too high; and B too low."
    assert summarize(reasons[:1], "skip", positive="follow_up") == (
        "Decision: skip. Factor toward follow_up: A too high."
    )
    assert summarize([], "skip", positive="follow_up") == "Decision: skip."


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"feature": {}}, "'feature'"),
        ({"features": {"x": {"hgh": "typo"}}}, "'hgh'"),
        ({"features": {"x": {"reference": "ten"}}}, "features.x.reference"),
        ({"features": {"x": "text"}}, "features.x"),
    ],
)
def test_bad_reason_code_files_name_the_key(data: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle.replace("(", r"\(")):
        ReasonCodeBook.from_dict(data)


def test_example_file_covers_every_feature_of_the_example_model(tmp_path: Path) -> None:
    from cairn.quickstart.example import FEATURE_REFS

    book = ReasonCodeBook.from_yaml(write_example_reason_codes(tmp_path))
    names = [ref.split(":", 1)[1] for ref in FEATURE_REFS]
    assert sorted(book.features) == sorted(names)
    assert len({book.code(n) for n in names}) == len(names)
    assert book.text("debt", "high") == "Existing debt too high"
