"""A predictor over tiny models and an in-memory feature reader, for routing tests."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from cairn.core.deployments import Deployment
from cairn.serving.log_records import PREDICTION_SCHEMA
from cairn.serving.prediction_log import SegmentLog
from cairn.serving.predictor import Predictor
from cairn.serving.routing import RolloutSpec
from tests.serving._models import FakeLoader, scoring_model, train_booster

CHAMPION = "credit-default@champion"
CHALLENGER = "credit-default@challenger"
BROKEN = "credit-default@broken"
BLOCKED = "credit-default@blocked"


def read(features: list[str], rows: list[dict[str, Any]], full: bool) -> dict[str, list[Any]]:
    """Deterministic online features for any customer id."""
    ids = [int(r["customer_id"]) for r in rows]
    columns = {
        "income": [float(i % 50) for i in ids],
        "segment": ["abcd"[i % 4] for i in ids],
        "amount_sum_7d": [float(i % 20) for i in ids],
        "amount_count_7d": [float(i % 5) for i in ids],
    }
    out: dict[str, list[Any]] = {"customer_id": ids}
    for ref in features:
        name = ref.split(":", 1)[1]
        out[name] = columns[name]
    out["found"] = [True] * len(ids)
    return out


class Broken:
    """A booster that loads and warms but fails on real rows (the canary gate counts these)."""

    def predict(self, X: Any, **_: Any) -> Any:
        if len(X) and not np.isnan(X).all():
            raise RuntimeError("the broken model cannot score")
        return np.zeros(len(X))


@dataclass
class Blocking:
    """A booster that waits for ``release`` before scoring (a shadow model that hangs)."""

    inner: lgb.Booster
    release: threading.Event
    entered: threading.Event

    def predict(self, X: Any, **kw: Any) -> Any:
        if len(X) and not np.isnan(X).all():  # warm-up rows are all missing: let them through
            self.entered.set()
            self.release.wait(30)
        return self.inner.predict(X, **kw)


def loader(
    release: threading.Event | None = None, entered: threading.Event | None = None
) -> FakeLoader:
    """Champion v1, challenger v2, a broken v3 and a blocking v4."""
    champion = train_booster(20261126)
    challenger = train_booster(7)
    blocking = Blocking(challenger, release or threading.Event(), entered or threading.Event())
    if release is None:
        blocking.release.set()
    return FakeLoader(
        {
            CHAMPION: {"1": scoring_model(champion, "1")},
            CHALLENGER: {"2": scoring_model(challenger, "2")},
            BROKEN: {"3": replace(scoring_model(champion, "3"), booster=Broken())},
            BLOCKED: {"4": replace(scoring_model(challenger, "4"), booster=blocking)},
        },
        aliases={CHAMPION: "1", CHALLENGER: "2", BROKEN: "3", BLOCKED: "4"},
    )


def predictor(
    state: Path,
    fake: FakeLoader,
    rollouts: Mapping[str, RolloutSpec] | None = None,
    **kw: Any,
) -> Predictor:
    """A predictor for deployment ``credit`` (threshold 0.5), logging under ``state``."""
    deps = {"credit": Deployment.from_dict("credit", {"model": CHAMPION, "explain": "never"})}
    log = SegmentLog(state / ".cairn" / "predictions", PREDICTION_SCHEMA, flush_ms=50)
    p = Predictor(deps, fake, read, log, offload=False, rollouts=rollouts, **kw)
    p.refresh()
    return p
