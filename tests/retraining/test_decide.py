"""The decision engine on a simulated clock: signal sequences in, decisions out."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.retraining import ManualRequest, Observation, decide
from tests.retraining._sim import DAY, HOUR, T0, FakeLedger, drifted, policy

DRIFT = {"triggers": {"drift": {"min_features": 2, "persistence": 3}}}


def _actions(decisions: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(d.trigger, d.action) for d in decisions]


def test_drift_runs_once_persistence_is_met() -> None:
    p = policy(**DRIFT)
    runs = [drifted(i, T0 + i * DAY, "income", "age") for i in range(1, 4)]
    assert decide("p", p, now=T0 + 2 * DAY + HOUR, observations=runs[:2]) == []
    (d,) = decide("p", p, now=T0 + 3 * DAY + HOUR, observations=runs)
    assert (d.trigger, d.action, d.window) == ("drift", "run", "2026-03-04T00:00:00Z")
    assert d.numbers["features"] == ["age", "income"] and d.numbers["monitor_runs"] == [1, 2, 3]


@pytest.mark.parametrize(
    ("features", "why"),
    [
        ([("income", "age"), ("income", "age"), ("income",)], "one feature in the last run"),
        ([("income", "age"), ("income", "tenure"), ("income", "age")], "age broke its streak"),
        ([("income", "age"), (), ("income", "age")], "a quiet run between"),
    ],
)
def test_drift_without_persistence_does_not_fire(features: list[tuple[str, ...]], why: str) -> None:
    runs = [drifted(i, T0 + i * DAY, *f) for i, f in enumerate(features, 1)]
    assert decide("p", policy(**DRIFT), now=T0 + 9 * DAY, observations=runs) == [], why


def test_the_band_and_other_deployments() -> None:
    monitor = [drifted(i, T0 + i * DAY, "income", "age", band="monitor") for i in range(1, 4)]
    assert decide("p", policy(**DRIFT), now=T0 + 9 * DAY, observations=monitor) == []
    low = policy(triggers={"drift": {"min_features": 2, "persistence": 3, "band": "monitor"}})
    assert _actions(decide("p", low, now=T0 + 9 * DAY, observations=monitor)) == [("drift", "run")]
    other = [Observation(o.run_id, "fraud", o.at, o.signals) for o in monitor]
    assert decide("p", low, now=T0 + 9 * DAY, observations=other) == []


def test_evidence_counts_only_after_the_last_run_and_cooldown_skips_once_per_window() -> None:
    p = policy(**DRIFT, cooldown="10d")
    ledger = FakeLedger()
    runs: list[Observation] = []
    log: list[tuple[int, str, str]] = []
    for day in range(1, 15):
        runs.append(drifted(day, T0 + day * DAY, "income", "age"))
        now = T0 + day * DAY + HOUR
        for _ in range(2):  # evaluated twice: the second finds everything recorded
            decisions = decide("p", p, now=now, observations=runs, past=ledger.rows)
            ledger.record(decisions)
            log += [(day, d.trigger, d.action) for d in decisions]
        if day == 4:
            ledger.finish()
    # day 3: persistence met -> run; days 4-5: streak since the run too short; day 6: met again
    # but in cooldown (skip) ... day 13: the cooldown is over -> run
    assert log[0] == (3, "drift", "run")
    assert [d for d, _, a in log if a == "skip"] == [6, 7, 8, 9, 10, 11, 12]
    assert log[-1] == (13, "drift", "run")
    assert "cooldown: " in ledger.rows[1].reason


def test_a_run_in_flight_holds_every_trigger() -> None:
    p = policy(**DRIFT)
    ledger = FakeLedger()
    runs = [drifted(i, T0 + i * DAY, "income", "age") for i in range(1, 7)]
    ledger.record(decide("p", p, now=T0 + 3 * DAY + HOUR, observations=runs[:3]))
    (d,) = decide("p", p, now=T0 + 6 * DAY + HOUR, observations=runs, past=ledger.rows)
    assert d.action == "skip" and "still in state decided" in d.reason


def test_budget_per_period() -> None:
    p = policy(budget={"max_runs": 2, "period": "7d"}, schedule={"cron": "0 6 * * *"})
    ledger = FakeLedger()
    out = []
    for day in range(10):
        decisions = decide("p", p, now=T0 + day * DAY + 7 * HOUR, past=ledger.rows)
        ledger.record(decisions)
        ledger.finish()
        out += [d.action for d in decisions]
    assert out == ["run", "run", *["skip"] * 5, "run", "run", "skip"]
    assert "budget: 2 runs in the last 7d (at most 2)" in ledger.rows[2].reason


def test_performance_needs_enough_labels() -> None:
    p = policy(triggers={"performance": {"metric": "auc", "max_drop": 0.03, "min_labeled": 500}})
    few = Observation(1, "credit", T0 + DAY, labeled=120, drops={"auc": 0.06})
    (d,) = decide("p", p, now=T0 + 2 * DAY, observations=[few])
    assert d.action == "skip" and "only 120 labeled rows (needs 500)" in d.reason
    small = Observation(2, "credit", T0 + 2 * DAY, labeled=900, drops={"auc": 0.02})
    assert decide("p", p, now=T0 + 3 * DAY, observations=[few, small]) == []
    big = Observation(3, "credit", T0 + 3 * DAY, labeled=900, drops={"auc": 0.05})
    (d,) = decide("p", p, now=T0 + 4 * DAY, observations=[few, small, big])
    assert (d.trigger, d.action, d.numbers["drop"]) == ("performance", "run", 0.05)


def test_volume_of_new_labeled_rows() -> None:
    p = policy(triggers={"volume": {"new_labeled": 1000}})
    obs = [Observation(i, "credit", T0 + i * DAY, labeled=400) for i in range(1, 4)]
    assert decide("p", p, now=T0 + 2 * DAY + 1, observations=obs[:2]) == []
    (d,) = decide("p", p, now=T0 + 3 * DAY + 1, observations=obs)
    assert d.trigger == "volume" and d.numbers["labeled"] == 1200


def test_manual_runs_are_idempotent_and_pass_the_cooldown() -> None:
    p = policy(cooldown="30d")
    ledger = FakeLedger()
    ask = ManualRequest("airflow-2026-03-02", reason="monthly refresh", by="ana")
    first = decide("p", p, now=T0 + DAY, past=ledger.rows, manual=[ask])
    assert _actions(first) == [("manual", "run")] and "asked by ana" in first[0].reason
    ledger.record(first)
    assert decide("p", p, now=T0 + DAY + 1, past=ledger.rows, manual=[ask]) == []  # retried
    ledger.finish()
    (again,) = decide("p", p, now=T0 + 2 * DAY, past=ledger.rows, manual=[ManualRequest("b")])
    assert again.action == "run"  # a person's decision: no cooldown


def test_several_triggers_at_once_run_one() -> None:
    p = policy(**DRIFT, schedule={"cron": "0 6 * * *"})
    runs = [drifted(i, T0 + i * DAY, "income", "age") for i in range(1, 4)]
    decisions = decide("p", p, now=T0 + 3 * DAY + 7 * HOUR, observations=runs)
    assert _actions(decisions) == [("drift", "run"), ("schedule", "skip")]
    assert "drift [2026-03-04T00:00:00Z] runs in this evaluation" in decisions[1].reason


def test_a_schedule_fires_once_per_slot_and_folds_missed_slots() -> None:
    p = policy(schedule={"cron": "0 6 * * MON", "timezone": "Europe/Paris"})
    ledger = FakeLedger()
    fired = []
    for hour in range(0, 30 * 24, 5):  # evaluated every 5 h for 30 days
        decisions = decide("p", p, now=T0 + hour * HOUR, past=ledger.rows)
        ledger.record(decisions)
        ledger.finish()
        fired += [d.window for d in decisions]
    assert fired == [
        "2026-02-23T05:00:00Z",  # the first evaluation: the latest slot passed is due
        "2026-03-02T05:00:00Z", "2026-03-09T05:00:00Z", "2026-03-16T05:00:00Z",
        "2026-03-23T05:00:00Z", "2026-03-30T04:00:00Z",
    ]  # fmt: skip
    # a controller down for three weeks runs once, for the latest slot
    later = decide("p", p, now=T0 + 52 * DAY, past=ledger.rows)
    assert [d.window for d in later] == ["2026-04-20T04:00:00Z"]


@settings(max_examples=50, deadline=None, derandomize=True)
@given(
    steps=st.lists(st.integers(min_value=0, max_value=40 * HOUR), min_size=1, max_size=40),
    repeats=st.lists(st.integers(min_value=1, max_value=3), min_size=40, max_size=40),
    cooldown=st.sampled_from([0, HOUR, 2 * DAY]),
)
def test_whatever_the_evaluation_times_a_slot_yields_at_most_one_decision(
    steps: list[int], repeats: list[int], cooldown: int
) -> None:
    p = policy(schedule={"cron": "0 */6 * * *", "timezone": "Europe/Berlin"}, cooldown=cooldown)
    ledger = FakeLedger()
    now = T0
    for step, repeat in zip(steps, repeats, strict=False):
        now += step
        for _ in range(repeat):
            ledger.record(decide("p", p, now=now, past=ledger.rows))
        ledger.finish()
    windows = [e.window for e in ledger.rows]
    assert len(windows) == len(set(windows))
    run_times = [e.decided_at for e in ledger.rows if e.runs]
    assert all(b - a >= cooldown for a, b in itertools.pairwise(run_times))
