"""Replay (`score_rows`) answers exactly as the live predictor does for the same feature values,
under every explanation policy; the shared decide/explain step."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from cairn.core.deployments import Deployment
from cairn.explain import ReasonCodeBook, write_example_reason_codes
from cairn.serving.decisions import decide, explained_decisions
from cairn.serving.log_records import PREDICTION_SCHEMA
from cairn.serving.predict_request import PredictRow
from cairn.serving.prediction_log import SegmentLog
from cairn.serving.predictor import Predictor
from cairn.serving.replay import is_missing, score_rows
from tests.serving._models import LEVELS, FakeLoader, scoring_model, train_booster

REF = "credit-default@champion"


def _rows(seed: int, n: int = 40) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [
        {
            "income": float(rng.uniform(0, 50)),
            "segment": str(rng.choice(LEVELS)),
            "amount_sum_7d": float(rng.uniform(0, 20)),
            "amount_count_7d": None if i % 7 == 0 else float(rng.integers(0, 5)),
        }
        for i in range(n)
    ]


def _nothing_online(refs: list[str], entities: list[dict[str, Any]], full: bool) -> Any:
    return {r.split(":", 1)[1]: [None] * len(entities) for r in refs}


@pytest.mark.parametrize("explain", ["always", "positive", "negative", "never"])
def test_replay_equals_the_predictor(tmp_path: Path, global_random_seed: int, explain: str) -> None:
    model = scoring_model(train_booster(global_random_seed))
    dep = Deployment.from_dict("credit", {"model": REF, "threshold": 0.5, "explain": explain})
    book = ReasonCodeBook.from_yaml(write_example_reason_codes(tmp_path))
    predictor = Predictor(
        {"credit": dep},
        FakeLoader({REF: {"1": model}}),
        _nothing_online,
        SegmentLog(tmp_path / "predictions", PREDICTION_SCHEMA),
        books={"credit": book},
        offload=False,
    )
    predictor.refresh()
    rows = _rows(global_random_seed)
    requests = [PredictRow(entity={"customer_id": i}, features=r) for i, r in enumerate(rows)]
    served = asyncio.run(predictor.predict("credit", requests))
    predictor.log.close()
    replayed = score_rows(dep, model, rows, book)
    assert len(replayed) == len(served) == len(rows)
    for r, s in zip(replayed, served, strict=True):
        assert r.score == s.record.score
        assert r.decision == s.record.decision
        assert r.reason_codes == s.record.reason_codes
        assert r.explained == s.record.explained
        assert r.summary == s.summary
    assert [r.features_missing for r in replayed] == [int(i % 7 == 0) for i in range(len(rows))]
    if explain != "never":
        assert any(r.reason_codes for r in replayed)


def test_decide_explains_what_the_policy_names(global_random_seed: int) -> None:
    model = scoring_model(train_booster(global_random_seed))
    dep = Deployment.from_dict(
        "m",
        {
            "model": REF,
            "threshold": 0.5,
            "decision": {"positive": "follow_up", "negative": "skip", "favorable": "positive"},
            "explain": "positive",
        },
    )
    rows = _rows(global_random_seed, 20)
    X = model.matrix(rows)
    scores = model.score(X).tolist()
    decided = decide(dep, model, X, scores, rows)
    assert set(decided.decisions) == {"follow_up", "skip"}
    assert explained_decisions(dep) == {"follow_up"}
    assert decided.explained == [d == "follow_up" for d in decided.decisions]
    assert sorted(decided.reasons) == [j for j, e in enumerate(decided.explained) if e]
    assert decided.summary(0).startswith(f"Decision: {decided.decisions[0]}.")
    nothing = decide(dep, model, None, scores, rows)  # rules fallback: no model, no reasons
    assert nothing.reasons == {} and not any(nothing.explained)


def test_empty_rows_and_missing_values() -> None:
    model = scoring_model(train_booster(1))
    dep = Deployment.from_dict("credit", {"model": REF})
    assert score_rows(dep, model, []) == []
    assert [is_missing(v) for v in (None, math.nan, 0, "")] == [True, True, False, False]
    (only,) = score_rows(dep, model, [{}])
    assert only.features_missing == len(model.features)
