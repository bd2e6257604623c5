"""Cairn's counterfactuals against dice-ml's (dev-only oracle) on 20 declines of a LightGBM
trained on the example project: every Cairn answer turns the decision, Cairn finds one at least
as often as dice-ml and changes no more features on average (:mod:`tests.explain._dice`)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("dice_ml")

from tests.explain._dice import compare_with_dice, example_training_set

pytestmark = pytest.mark.slow


def test_cairn_is_valid_finds_as_often_and_is_sparser_than_dice(tmp_path: Path) -> None:
    frame, features, label = example_training_set(tmp_path / "credit")
    cairn, dice = compare_with_dice(frame, features, label, rows=20)
    print(f"\n{cairn.line()}\n{dice.line()}")
    assert cairn.rows == dice.rows == 20
    assert cairn.validity == 1.0
    assert cairn.found >= dice.found
    assert cairn.sparsity <= dice.sparsity
