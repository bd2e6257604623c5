"""Shadow-latency benchmark: the champion's predict path with 0 and with 2 shadow models.

What is measured (DESIGN §3.3, "shadow never adds latency to the champion path"): the time of
``Predictor.predict`` for one row (route, online features, champion score, reason codes for
declines, log write), in one process, with the deployment's rollout serving the champion alone
and then with two shadow challengers scoring every request on the shadow worker thread.

* models (untimed): three LightGBM binary boosters (300 trees, 31 leaves, 20 float features)
  trained here on seeded synthetic data; the champion and two challengers differ by seed.
* features: an in-memory reader (a dict lookup per row), so the measurement is the
  predictor's own work and the shadow worker's interference with it, not a store.
* load: paced at ``--rate`` requests per second (default 400; each request waits for its
  scheduled time, latency measured from the call to its return). Four rounds alternate
  0, 2, 0, 2 shadows (2,000 requests each; 500 with ``--quick``) so drift in background load
  hits both alike; latencies of a mode's rounds are pooled. The shadow queue is drained
  between rounds.
* report: p50 / p90 / p99 / mean in ms per mode, and the 2-shadow / 0-shadow ratios; the
  requests the shadow worker scored (each by both models) and dropped.

The shadow worker runs on another thread of the same process: with CPython's GIL it competes
with the request path for the interpreter while it builds its matrices (LightGBM releases the
GIL while it predicts), so any residual cost shows up here as a ratio above 1.

Usage: ``python benchmarks/shadow_latency.py [--quick] [--rate N]``. The last line printed is
``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from _measure import latency_stats  # noqa: E402
from _report import host_info, load_text, print_bench_json  # noqa: E402

FEATURES = [f"x{i}" for i in range(20)]
CUSTOMERS = 5_000
CHAMPION, SHADOW_A, SHADOW_B = "m@champion", "m@shadow-a", "m@shadow-b"


def _booster(seed: int) -> Any:
    import lightgbm as lgb

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(5_000, len(FEATURES)))
    logit = X[:, 0] - 0.5 * X[:, 1] + 0.3 * X[:, 2] * X[:, 3]
    y = (rng.uniform(size=len(X)) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {"objective": "binary", "verbose": -1, "num_threads": 1, "seed": seed}
    return lgb.train(params, lgb.Dataset(X, y), num_boost_round=300)


class Loader:
    """Serves the three boosters as registry versions."""

    def __init__(self) -> None:
        from cairn.explain import split_references
        from cairn.serving.models import ScoringModel

        refs = [f"v:{f}" for f in FEATURES]
        self.models = {}
        for i, ref in enumerate((CHAMPION, SHADOW_A, SHADOW_B)):
            booster = _booster(20261126 + i)
            self.models[ref] = ScoringModel(
                "m", str(i + 1), booster, list(FEATURES), list(refs), {}, split_references(booster)
            )

    def resolve(self, ref: str) -> str:
        return self.models[ref].version

    def load(self, ref: str, version: str) -> Any:
        return self.models[ref]


def reader() -> Any:
    rng = np.random.default_rng(7)
    table = rng.normal(size=(CUSTOMERS, len(FEATURES)))

    def read(features: list[str], rows: list[dict[str, Any]], full: bool) -> dict[str, list[Any]]:
        ids = [int(r["customer_id"]) for r in rows]
        out: dict[str, list[Any]] = {"customer_id": ids}
        for ref in features:
            j = FEATURES.index(ref.split(":", 1)[1])
            out[ref.split(":", 1)[1]] = [float(table[i, j]) for i in ids]
        out["found"] = [True] * len(ids)
        return out

    return read


async def one_round(predictor: Any, n: int, rate: float, offset: int) -> list[float]:
    from cairn.serving.predict_request import PredictRow

    rows = [PredictRow({"customer_id": (offset + i) % CUSTOMERS}) for i in range(n)]
    out: list[float] = []
    start = time.perf_counter()
    for i, row in enumerate(rows):
        due = start + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        t0 = time.perf_counter_ns()
        await predictor.predict("credit", [row])
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--quick", action="store_true", help="500 requests per round, not 2,000")
    p.add_argument("--rate", type=float, default=400.0, help="requests per second")
    args = p.parse_args()
    n = 500 if args.quick else 2_000

    from cairn.core.deployments import Deployment
    from cairn.serving.log_records import PREDICTION_SCHEMA
    from cairn.serving.prediction_log import SegmentLog
    from cairn.serving.predictor import Predictor
    from cairn.serving.routing import RolloutSpec

    info = host_info(["cairn", "lightgbm", "numpy"])
    print(
        f"shadow latency benchmark ({'quick' if args.quick else 'full'}) on {info['cpu']} "
        f"x{info['nproc']}, {info['date']}; {n} requests per round at {args.rate:g}/s"
    )
    loader = Loader()
    dep = Deployment.from_dict("credit", {"model": CHAMPION, "explain": "declines"})
    single = RolloutSpec.single("credit", CHAMPION)
    specs = {0: single, 2: single.with_changes(shadows=(SHADOW_A, SHADOW_B))}
    with tempfile.TemporaryDirectory() as tmp:
        log = SegmentLog(Path(tmp) / "predictions", PREDICTION_SCHEMA)
        log.start()
        predictor = Predictor({"credit": dep}, loader, reader(), log, offload=False)
        predictor.apply_rollouts({"credit": single})
        asyncio.run(one_round(predictor, 200, args.rate, 0))  # warm-up, discarded
        latencies: dict[int, list[float]] = {0: [], 2: []}
        load_before = os.getloadavg()
        for r, shadows in enumerate((0, 2, 0, 2)):
            predictor.apply_rollouts({"credit": specs[shadows]})
            gc.collect()
            latencies[shadows] += asyncio.run(one_round(predictor, n, args.rate, r * n))
            predictor.shadow.drain(60)
        load_after = os.getloadavg()
        scored, dropped = predictor.shadow.done, predictor.shadow.dropped
        predictor.shadow.close()
        log.close()
    stats = {k: latency_stats(np.asarray(v)) for k, v in latencies.items()}
    print(f"{'shadow models':>14} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for k, s in stats.items():
        print(
            f"{k:>14} {s['p50_ms']:8.3f} {s['p90_ms']:8.3f} {s['p99_ms']:8.3f} {s['mean_ms']:8.3f}"
        )
    ratio = {q: stats[2][q] / stats[0][q] for q in ("p50_ms", "p99_ms", "mean_ms")}
    print(
        f"{'2 / 0 ratio':>14} {ratio['p50_ms']:8.2f} {'':>8} {ratio['p99_ms']:8.2f} "
        f"{ratio['mean_ms']:8.2f}"
    )
    print(f"requests shadow-scored: {scored} of {2 * n} (each by 2 models), dropped: {dropped}")
    print(f"load average before/after: {load_text(load_before)} / {load_text(load_after)}")
    print_bench_json(
        {
            "benchmark": "shadow_latency",
            "quick": args.quick,
            "rate": args.rate,
            "requests_per_round": n,
            "stats": {str(k): v for k, v in stats.items()},
            "ratio_2_over_0": ratio,
            "shadow_scored": scored,
            "shadow_dropped": dropped,
            "machine": info,
            "loadavg_before": list(load_before),
            "loadavg_after": list(load_after),
        }
    )


if __name__ == "__main__":
    main()
