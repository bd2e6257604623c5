"""Parity as a property: every online read equals the batch engine over the landed events.

Random streams (several keys, ties, events late by hours, events ahead of the clock, nulls),
several windows and hops, and random crash points (after staging and before the commit;
after the commit and before publishing): at every step the online value of every key and
aggregation equals the batch engine's at the same time (1e-9 relative), and the batch source
holds each processed event exactly once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cairn import FeatureStore, LocalStreamSource
from tests.streams._parity import Step, apply_view, landed_offsets, run_scenario

KEYS = 4
_HOUR = 3_600_000_000

event = st.tuples(
    st.integers(0, KEYS - 1),
    st.one_of(
        st.integers(-5_000_000, 0),  # just now
        st.integers(-3 * _HOUR, 0),  # late by up to three hours
        st.integers(1, 60_000_000),  # ahead: held until due
        st.just(-1_000_000),  # ties
    ),
    st.one_of(st.none(), st.floats(-100, 1000, allow_nan=False), st.just(1.0)),
)
step = st.builds(
    Step,
    advance_s=st.integers(0, 900),
    events=st.lists(event, max_size=12),
    crash=st.sampled_from([None, None, None, None, "before_commit", "before_publish"]),
    read_offset_us=st.integers(0, 120_000_000),
)


def _store(tmp_path: Path) -> FeatureStore:
    (tmp_path / "cairn.yaml").write_text("project: parity\n")
    store = FeatureStore(tmp_path)
    apply_view(store, LocalStreamSource(name="txns", partitions=2))
    return store


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=2, max_size=8))
def test_online_equals_batch_at_every_step(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, steps: list[Step]
) -> None:
    store = _store(tmp_path_factory.mktemp("parity"))
    outcome = run_scenario(store, steps, KEYS, monkeypatch)
    assert outcome.mismatches == []
    produced = sum(len(s.events) for s in steps)
    ck_counts = _counts(store)
    # every event read is landed once, held, or (never here) dead-lettered
    assert landed_offsets(store.root) == ck_counts.get("landed", 0)
    assert ck_counts.get("events", 0) == produced


def _counts(store: FeatureStore) -> dict[str, int]:
    from cairn.app.streaming import open_processor

    p = open_processor(store, "txns")
    try:
        return p.start().counts
    finally:
        p.log.close()


def test_a_long_random_stream_with_crashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    rng = random.Random(20261206)
    steps = []
    for i in range(40):
        events = [
            (
                rng.randrange(KEYS),
                rng.choice(
                    [
                        -rng.randrange(5_000_000),
                        -rng.randrange(3 * _HOUR),
                        rng.randrange(1, 30_000_000),
                    ]
                ),
                rng.choice([None, round(rng.uniform(-10, 100), 2), 1.0]),
            )
            for _ in range(rng.randrange(0, 25))
        ]
        crash = rng.choice([None] * 6 + ["before_commit", "before_publish"]) if i else None
        steps.append(Step(rng.randrange(1, 300), events, crash, rng.randrange(0, 60_000_000)))
    store = _store(tmp_path)
    outcome = run_scenario(store, steps, KEYS, monkeypatch)
    assert outcome.checks > 500
    assert outcome.mismatches == []
    assert landed_offsets(store.root) + len(_held(store)) == sum(len(s.events) for s in steps)


def _held(store: FeatureStore) -> tuple[tuple[int, int], ...]:
    from cairn.app.streaming import open_processor

    p = open_processor(store, "txns")
    try:
        return p.start().held
    finally:
        p.log.close()
