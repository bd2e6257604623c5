"""The bare FastAPI endpoint of the predict benchmark: the champion's booster, nothing else.

``POST /predict`` takes the same body as Cairn's ``POST /v1/predict/credit``
(``{"entities": {"customer_id": N}}``), looks the customer's 21 feature values up in a NumPy
matrix prepared before the server started (the values Cairn's online store holds for it), scores
them with ``booster.predict(x, num_threads=1)`` and answers ``{"score": ...}``: no feature
store, no logging, no reason codes. With ``CAIRN_BENCH_BARE_EXPLAIN=1`` it also computes
``pred_contrib`` for rows at or above the threshold, the model compute Cairn does for declines.

Configured by environment variables (set by ``benchmarks/predict.py``):
``CAIRN_BENCH_BARE_DIR`` (holding ``model.lgb``, ``ids.npy``, ``X.npy``),
``CAIRN_BENCH_BARE_EXPLAIN``, ``CAIRN_BENCH_BARE_THRESHOLD`` and, for diagnosis only,
``CAIRN_BENCH_BARE_GCLOG=1`` (print garbage collections slower than 5 ms to stderr). Run with
``uvicorn _predict_bare:app --workers 1 --no-access-log``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import orjson
from fastapi import FastAPI, Request, Response

_DIR = Path(os.environ["CAIRN_BENCH_BARE_DIR"])
_EXPLAIN = os.environ.get("CAIRN_BENCH_BARE_EXPLAIN", "0") == "1"
_THRESHOLD = float(os.environ.get("CAIRN_BENCH_BARE_THRESHOLD", "0.5"))

_booster = lgb.Booster(model_file=str(_DIR / "model.lgb"))
_X = np.load(_DIR / "X.npy")
_rows: dict[int, np.ndarray] = {
    int(c): _X[i : i + 1] for i, c in enumerate(np.load(_DIR / "ids.npy"))
}
_booster.predict(_X[:1], num_threads=1)  # warm, as Cairn's ScoringModel.warm does
_booster.predict(_X[:1], pred_contrib=True, num_threads=1)

if os.environ.get("CAIRN_BENCH_BARE_GCLOG") == "1":  # diagnosis: log slow collections
    import gc
    import sys
    import time

    _gc_start = [0.0]

    def _gc_log(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            _gc_start[0] = time.perf_counter()
            return
        ms = (time.perf_counter() - _gc_start[0]) * 1000
        if ms > 5:
            print(f"gc gen{info['generation']} {ms:.1f} ms", file=sys.stderr, flush=True)

    gc.callbacks.append(_gc_log)

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


@app.get("/healthz")
async def healthz() -> Response:
    return Response(b'{"status":"ok"}', media_type="application/json")


@app.post("/predict")
async def predict(request: Request) -> Response:
    body: dict[str, Any] = orjson.loads(await request.body())
    x = _rows[int(body["entities"]["customer_id"])]
    score = float(_booster.predict(x, num_threads=1)[0])
    if _EXPLAIN and score >= _THRESHOLD:
        _booster.predict(x, pred_contrib=True, num_threads=1)
    return Response(orjson.dumps({"score": score}), media_type="application/json")
