"""The predictor routes rows by unit, scores each arm with its model, logs the routing, and
answers an erroring arm's rows with the control model."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from cairn.serving.log_reader import query
from cairn.serving.predict_request import PredictRow
from cairn.serving.predictor import Predictor, Scored, unit_of
from cairn.serving.routing import Arm, RolloutSpec
from tests.serving.routing._serving import BROKEN, CHALLENGER, CHAMPION, loader, predictor

ROWS = [PredictRow({"customer_id": i}) for i in range(400)]


def score(p: Predictor, rows: list[PredictRow] = ROWS) -> list[Scored]:
    return asyncio.run(p.predict("credit", rows))


def logged(state: Path, p: Predictor, sql: str) -> list[tuple[object, ...]]:
    p.log.flush()
    return query(state, sql).rows


def test_without_a_rollout_the_deployment_serves_its_model_as_before(tmp_path: Path) -> None:
    p = predictor(tmp_path, loader())
    out = score(p, ROWS[:5])
    assert {(s.record.strategy, s.record.arm, s.record.model_version) for s in out} == {
        ("single", "main", "1")
    }
    record = out[0].record
    assert (record.seed, record.exposed, record.shadow, record.error) == (None, True, False, None)
    assert record.unit_id == "0"  # no unit_id given: the entity key routes the row


def test_unit_id_wins_over_the_entity_key() -> None:
    assert unit_of({"customer_id": 7}) == "7"
    row = PredictRow({"customer_id": 7}, unit_id="household-3")
    assert (row.unit_id or unit_of(row.entity)) == "household-3"


def test_canary_rows_go_to_their_arm_and_are_logged(tmp_path: Path) -> None:
    spec = RolloutSpec.canary("credit", CHAMPION, CHALLENGER, seed="c1").with_changes(stage=2)
    p = predictor(tmp_path, loader(), {"credit": spec})
    counts = Counter(s.record.arm for s in score(p))
    assert set(counts) == {"control", "canary"} and 150 < counts["canary"] < 250
    rows = logged(
        tmp_path,
        p,
        "SELECT arm, model_version, strategy, seed, count(*) FROM predictions "
        "GROUP BY ALL ORDER BY arm",
    )
    assert rows == [
        ("canary", "2", "canary", "c1", counts["canary"]),
        ("control", "1", "canary", "c1", counts["control"]),
    ]


def test_the_same_unit_gets_the_same_arm_on_every_request(tmp_path: Path) -> None:
    arms = [Arm("a", CHAMPION, 0.5), Arm("b", CHALLENGER, 0.5)]
    p = predictor(tmp_path, loader(), {"credit": RolloutSpec.ab("credit", arms, "exp")})
    first = [s.record.arm for s in score(p)]
    one_by_one = [score(p, [row])[0].record.arm for row in ROWS[:50]]
    assert one_by_one == first[:50]


def test_ab_units_outside_coverage_are_logged_not_exposed(tmp_path: Path) -> None:
    arms = [Arm("a", CHAMPION, 0.5), Arm("b", CHALLENGER, 0.5)]
    spec = RolloutSpec.ab("credit", arms, "exp", coverage=0.5)
    p = predictor(tmp_path, loader(), {"credit": spec})
    out = score(p)
    outside = [s.record for s in out if not s.record.exposed]
    assert outside and {(r.arm, r.model_version) for r in outside} == {("a", "1")}
    assert 120 < len(outside) < 280


def test_an_erroring_arm_is_answered_by_the_control_and_logged(tmp_path: Path) -> None:
    spec = RolloutSpec.canary("credit", CHAMPION, BROKEN, seed="c1").with_changes(stage=1)
    p = predictor(tmp_path, loader(), {"credit": spec})
    out = score(p)  # no exception: zero failed requests
    canary = [s.record for s in out if s.record.arm == "canary"]
    assert canary and all(r.model_version == "1" for r in canary)
    assert {r.error for r in canary} == {"RuntimeError: the broken model cannot score"}
    assert all(s.record.error is None for s in out if s.record.arm == "control")
    rows = logged(
        tmp_path,
        p,
        "SELECT arm, count(*) FILTER (WHERE error IS NOT NULL) / count(*) FROM predictions "
        "GROUP BY arm ORDER BY arm",
    )
    assert rows == [("canary", 1.0), ("control", 0.0)]


def test_a_bad_request_feature_is_still_a_client_error(tmp_path: Path) -> None:
    spec = RolloutSpec.canary("credit", CHAMPION, BROKEN, seed="c1").with_changes(stage=3)
    p = predictor(tmp_path, loader(), {"credit": spec})
    from cairn.core.errors import DataError

    with pytest.raises(DataError, match="must be a number"):
        score(p, [PredictRow({"customer_id": 1}, {"income": "lots"})])


def test_apply_loads_before_it_swaps_and_keeps_what_cannot_load(tmp_path: Path) -> None:
    fake = loader()
    p = predictor(tmp_path, fake)
    green = RolloutSpec.blue_green("credit", CHAMPION, CHALLENGER, live="green")
    assert p.apply_rollouts({"credit": green}) == ["credit"]
    assert {s.record.model_version for s in score(p, ROWS[:10])} == {"2"}
    assert p.apply_rollouts({"credit": green}) == []  # same spec: nothing to do
    missing = RolloutSpec.blue_green("credit", CHAMPION, "credit-default@nope", live="green")
    fake.aliases["credit-default@nope"] = "9"
    assert p.apply_rollouts({"credit": missing}) == []
    assert "credit-default@nope" in p.unapplied["credit"]
    assert p.rollout("credit") == green  # still served, whole
    assert p.apply_rollouts({}) == ["credit"]  # spec removed: back to deployments.yaml
    assert p.rollout("credit").strategy == "single" and set(p.models) == {CHAMPION}


def test_unknown_deployment_specs_are_ignored(tmp_path: Path) -> None:
    p = predictor(tmp_path, loader())
    assert p.apply_rollouts({"fraud": RolloutSpec.single("fraud", CHALLENGER)}) == []
    assert set(p.models) == {CHAMPION}


def test_describe_shows_the_rollout(tmp_path: Path) -> None:
    spec = RolloutSpec.canary("credit", CHAMPION, CHALLENGER, seed="c1", shadows=(BROKEN,))
    p = predictor(tmp_path, loader(), {"credit": spec})
    rollout = p.describe()["credit"]["rollout"]
    assert rollout["strategy"] == "canary" and rollout["stage"] == 0 and rollout["seed"] == "c1"
    assert rollout["arms"] == [
        {"name": "control", "model": CHAMPION, "version": "1", "share": 0.95},
        {"name": "canary", "model": CHALLENGER, "version": "2", "share": 0.05},
    ]
    assert rollout["shadows"] == [{"model": BROKEN, "version": "3"}]
