"""Shadow models score off the request path: logged under the primary's prediction id, never
blocking the answer, dropped and counted when the queue is full."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path

from prometheus_client import CollectorRegistry

from cairn.serving.log_reader import find_prediction, query
from cairn.serving.predict_request import PredictRow
from cairn.serving.prediction_metrics import PredictionMetrics
from cairn.serving.predictor import Predictor, Scored
from cairn.serving.routing import RolloutSpec
from tests.serving._models import FEATURES
from tests.serving.routing._serving import BLOCKED, CHALLENGER, CHAMPION, loader, predictor

ROWS = [PredictRow({"customer_id": i}) for i in range(20)]


def score(p: Predictor, rows: list[PredictRow] = ROWS) -> list[Scored]:
    return asyncio.run(p.predict("credit", rows))


def shadowed(*shadows: str) -> dict[str, RolloutSpec]:
    return {"credit": RolloutSpec.single("credit", CHAMPION).with_changes(shadows=shadows)}


def test_shadow_scores_are_linked_rows(tmp_path: Path) -> None:
    p = predictor(tmp_path, loader(), shadowed(CHALLENGER))
    out = score(p)
    assert p.shadow.drain()
    p.log.flush()
    rows = query(
        tmp_path,
        "SELECT prediction_id, arm, model_version, shadow, error, score FROM predictions "
        "ORDER BY prediction_id, shadow",
    ).rows
    assert len(rows) == 2 * len(ROWS)
    for primary, shadow in zip(rows[::2], rows[1::2], strict=True):
        assert primary[0] == shadow[0]
        assert primary[1:5] == ("main", "1", False, None)
        assert shadow[1:5] == (f"shadow:{CHALLENGER}", "2", True, None)
    pid = out[0].record.prediction_id
    found = find_prediction(tmp_path, pid)
    assert found is not None and found["arm"] == "main" and found["model_version"] == "1"


def test_a_blocked_shadow_model_does_not_hold_the_request(tmp_path: Path) -> None:
    release, entered = threading.Event(), threading.Event()
    p = predictor(tmp_path, loader(release, entered), shadowed(BLOCKED))
    try:
        out = score(p)  # returns although the shadow model is stuck
        assert entered.wait(10)  # the worker is inside the shadow model right now
        assert [s.record.model_version for s in out] == ["1"] * len(ROWS)
        more = score(p, ROWS[:3])  # and the next request too
        assert len(more) == 3
        p.log.flush()  # the primaries are in a segment; the shadows not yet logged
        n = query(tmp_path, "SELECT count(*) FROM predictions WHERE shadow").rows
        assert n == [(0,)]
    finally:
        release.set()
    assert p.shadow.drain()
    p._recent.clear()
    pid = out[0].record.prediction_id
    assert p.explanation(pid)["model"] == {"name": "credit-default", "version": "1"}
    p.log.flush()
    n = query(tmp_path, "SELECT count(*) FROM predictions WHERE shadow").rows
    assert n == [(len(ROWS) + 3,)]


def test_a_full_queue_drops_and_counts_never_blocks(tmp_path: Path) -> None:
    release, entered = threading.Event(), threading.Event()
    p = predictor(tmp_path, loader(release, entered), shadowed(BLOCKED), shadow_queue=5)
    p.metrics = PredictionMetrics(CollectorRegistry())
    try:
        score(p, ROWS[:5])
        assert entered.wait(10)  # the worker holds the first job
        score(p, ROWS[:5])  # fills the queue (5 rows)
        score(p, ROWS[:2])  # does not fit: dropped
        score(p, ROWS[:1])  # nor does this
        assert p.shadow.dropped == 3
        value = p.metrics.registry.get_sample_value(
            "cairn_shadow_dropped_total", {"deployment": "credit"}
        )
        assert value == 3.0
    finally:
        release.set()
    assert p.shadow.drain()
    p.log.flush()
    assert query(tmp_path, "SELECT count(*) FROM predictions WHERE shadow").rows == [(10,)]


def test_a_failing_shadow_model_never_touches_the_answer(tmp_path: Path) -> None:
    p = predictor(tmp_path, loader(), shadowed("credit-default@broken", CHALLENGER))
    out = score(p)
    assert all(s.record.error is None for s in out)
    assert p.shadow.drain()
    p.log.flush()
    arms = query(tmp_path, "SELECT DISTINCT arm FROM predictions ORDER BY arm").rows
    assert arms == [("main",), (f"shadow:{CHALLENGER}",)]


def test_shadow_reads_the_online_features_only_it_needs(tmp_path: Path) -> None:
    fake = loader()
    champion = fake.models[CHAMPION]["1"]
    # The champion takes income and segment from the request only; the shadow reads them online.
    fake.models[CHAMPION]["1"] = replace(champion, refs=[None, None, *champion.refs[2:]])
    p = predictor(tmp_path, fake, shadowed(CHALLENGER))
    score(p, [PredictRow({"customer_id": 7})])
    assert p.shadow.drain()
    p.log.flush()
    rows = query(
        tmp_path, "SELECT shadow, features->>'income', features->>'segment' FROM predictions"
    ).rows
    assert sorted(rows) == [(False, None, None), (True, "7.0", "d")]
    assert FEATURES[:2] == ["income", "segment"]


def test_no_shadow_jobs_on_fallback_or_without_shadows(tmp_path: Path) -> None:
    p = predictor(tmp_path, loader())
    score(p)
    assert p.shadow.pending == 0 and p.shadow.done == 0
