"""Realized performance with delayed labels: joins, completeness, metrics, the baseline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core.errors import ConfigError
from cairn.core.predictions import Outcome
from cairn.monitoring.performance import (
    WindowPerformance,
    baseline_of,
    judge,
    labeled_window,
    realized_metrics,
    window_performance,
)
from cairn.monitoring.window import Window
from cairn.training.metrics import evaluate
from tests.monitoring.test_window import DAY, HOUR, T0, connection, log_table, outcome_table, record

W = Window("credit", T0, T0 + DAY, T0 + DAY, "as_of")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 1), st.sampled_from([0.1, 0.25, 0.5, 0.5, 0.7, 0.9])),
        min_size=2,
        max_size=60,
    ).filter(lambda rows: len({y for y, _ in rows}) == 2),
    st.sampled_from([0.3, 0.5, 0.8]),
)
def test_metrics_match_training_evaluation(rows: list[tuple[int, float]], threshold: float) -> None:
    """The same definitions as the training baseline (sklearn's AUC/ROC), ties included."""
    y = np.array([r[0] for r in rows])
    s = np.array([r[1] for r in rows])
    ours = realized_metrics(y, s, threshold)
    theirs = evaluate(y, s, threshold)
    for metric in ("auc", "ks", "precision", "recall"):
        assert ours[metric] == pytest.approx(theirs[metric], abs=1e-12), metric


def test_partial_labels_below_the_completeness_threshold_are_immature() -> None:
    scores = np.array([0.9, 0.8, 0.2, 0.1, 0.7, 0.3, 0.6, 0.4, 0.55, 0.45])
    labels = np.array([1, 1, 0, 0, 1, 0, np.nan, np.nan, np.nan, 0])
    p = judge(scores, labels, threshold=0.5)
    assert (p.status, p.labeled, p.predictions, p.completeness) == ("immature", 7, 10, 0.7)
    assert p.metrics == {} and p.describe() == "immature: 7/10 labeled (70%), judged from 80%"
    judged = judge(scores, labels, threshold=0.5, min_completeness=0.7)
    assert judged.status == "judged" and judged.metrics["auc"] == 1.0
    assert judged.positive_rate == pytest.approx(3 / 7)


def test_completeness_above_the_threshold_is_judged_against_the_baseline() -> None:
    rng = np.random.default_rng(20261126)
    y = rng.integers(0, 2, 400).astype(float)
    s = np.clip(0.4 * y + rng.normal(0.3, 0.3, 400), 0, 1)  # informative, AUC ~0.8
    y[:40] = np.nan  # 90 % labeled
    p = judge(s, y, threshold=0.5, baseline={"auc": 0.99, "ks": 0.1, "brier": 0.1})
    assert p.status == "judged" and p.completeness == 0.9
    assert p.baseline == {"auc": 0.99, "ks": 0.1}  # only the realized metrics compare
    assert p.drops["auc"] == pytest.approx(0.99 - p.metrics["auc"])
    assert p.degraded == ["auc"]  # KS rose: not degraded
    assert "degraded: auc" in p.describe()
    assert WindowPerformance.from_dict(p.to_dict()) == p


def test_one_class_or_odd_labels_are_reported_not_raised() -> None:
    s = np.array([0.2, 0.4, 0.6])
    assert judge(s, np.array([0.0, 0.0, 0.0]), threshold=0.5).error == (
        "AUC and KS need both classes; every label is 0"
    )
    odd = judge(s, np.array([0.0, 1.0, 2.0]), threshold=0.5)
    assert odd.status == "error" and "labels must be 0 or 1" in (odd.error or "")
    assert judge(np.array([]), np.array([]), threshold=0.5).status == "empty"


def test_baseline_is_the_validation_metrics() -> None:
    assert baseline_of({"valid_auc": 0.8, "valid_recall": 0.4, "train_auc": 0.9}) == {
        "auc": 0.8,
        "recall": 0.4,
    }


def test_outcomes_join_by_prediction_id_and_by_entity_and_time() -> None:
    records = [
        record(0, T0 + HOUR, {}, score=0.9),
        record(1, T0 + 2 * HOUR, {}, score=0.2),
        record(2, T0 + 3 * HOUR, {}, score=0.7, entity={"customer_id": 7}),
        record(3, T0 + 5 * HOUR, {}, score=0.1, entity={"customer_id": 7}),
        record(4, T0 + 6 * HOUR, {}, score=0.3),
        record(5, T0 + 2 * DAY, {}, score=0.3),  # outside the window
    ]
    seen = T0 + 2 * DAY
    outcomes = [
        Outcome(0.0, seen, prediction_id="p0"),
        Outcome(1.0, seen + HOUR, prediction_id="p0"),  # a correction: the latest counts
        Outcome(0.0, seen, prediction_id="p1"),
        # customer 7's event at +4h: the decision in force then is p2 (+3h), not p3 (+5h)
        Outcome(1.0, seen, entity={"customer_id": 7}, event_time=T0 + 4 * HOUR),
        Outcome(1.0, seen, entity={"customer_id": 7}, event_time=T0 + HOUR),  # before any
        Outcome(0.0, seen + 10 * DAY, prediction_id="p4"),  # observed later
    ]
    con = connection(log_table(records), outcome_table(outcomes))
    scores, labels = labeled_window(con, W)
    assert scores.tolist() == [0.9, 0.2, 0.7, 0.1, 0.3]
    assert np.isnan(labels[3]) and labels[[0, 1, 2, 4]].tolist() == [1.0, 0.0, 1.0, 0.0]
    _, known = labeled_window(con, W, labels_as_of=seen + DAY)
    assert np.isnan(known[4]) and known[0] == 1.0  # p4's label was not observed yet
    p = window_performance(con, W, threshold=0.5, min_completeness=0.8)
    assert (p.status, p.labeled, p.predictions) == ("judged", 4, 5)
    assert p.metrics["precision"] == 1.0 and p.metrics["recall"] == 1.0


def test_shadow_rows_neither_count_nor_take_labels() -> None:
    records = [
        record(0, T0 + HOUR, {}, score=0.9),
        record(0, T0 + HOUR, {}, score=0.1, shadow=True, model_version="2"),
        record(1, T0 + HOUR, {}, score=0.1),
    ]
    outcomes = [Outcome(1.0, T0, prediction_id="p0"), Outcome(0.0, T0, prediction_id="p1")]
    con = connection(log_table(records), outcome_table(outcomes))
    p = window_performance(con, W, threshold=0.5)
    assert (p.predictions, p.labeled, p.metrics["auc"]) == (2, 2, 1.0)


def test_a_label_maturity_judges_the_window_that_long_ago() -> None:
    """With a 7-day label maturity the run judges the predictions of the window 7 days back
    (all of whose labels can be in), not its own (whose labels cannot be yet)."""
    old = [record(i, T0 - 7 * DAY + HOUR * (i + 1), {}, score=s)
           for i, s in enumerate([0.9, 0.8, 0.3, 0.2])]  # fmt: skip
    new = [record(10 + i, T0 + HOUR * (i + 1), {}, score=0.9) for i in range(3)]
    outcomes = [Outcome(y, T0, prediction_id=f"p{i}") for i, y in enumerate([1.0, 0.0, 1.0, 0.0])]
    con = connection(log_table(old + new), outcome_table(outcomes))
    now = window_performance(con, W, threshold=0.5, decision="follow_up")
    assert (now.status, now.predictions, now.labeled) == ("immature", 3, 0)
    assert now.decision == "follow_up" and now.maturity == 0
    lagged = window_performance(
        con, W, threshold=0.5, decision="follow_up", maturity=7 * DAY, min_completeness=0.8
    )
    assert (lagged.status, lagged.predictions, lagged.labeled) == ("judged", 4, 4)
    assert (lagged.start, lagged.end) == (W.start - 7 * DAY, W.end - 7 * DAY)
    # follow_up (score >= 0.5) for p0 and p1; positive labels p0 and p2
    assert lagged.metrics["precision"] == 0.5 and lagged.metrics["recall"] == 0.5
    assert "(labels mature after 7d)" in lagged.describe()
    assert WindowPerformance.from_dict(lagged.to_dict()) == lagged
    with pytest.raises(ConfigError, match="must not be negative"):
        window_performance(con, W, threshold=0.5, maturity=-1)
