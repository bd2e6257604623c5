"""Model-families benchmark: each family scored and explained by Cairn beside its own library.

What is measured (issue 20: "every family behind one scoring protocol"), for LightGBM, XGBoost,
scikit-learn HistGradientBoosting, a scikit-learn logistic regression pipeline and an optbinning
scorecard, each trained on the example credit project through ``cairn.training.train`` and
registered (``_families_project.py``, untimed):

* **in process, 1 row and a 1,000-row batch**: Cairn = the version loaded the way ``cairn serve``
  loads it (:class:`cairn.app.model_loader.RegistryModelLoader`, artifact SHA-256 verified),
  then ``ScoringModel.matrix`` (feature values -> the code matrix) + ``ScoringModel.score``;
  peer = the fitted model's own ``predict`` on the same rows in its native input (LightGBM
  ``booster.predict`` and XGBoost ``inplace_predict`` on the float matrix, scikit-learn
  ``predict_proba`` and optbinning ``Scorecard.predict_proba`` on the training DataFrame
  layout, built beforehand, untimed). Per-row time = a call's time / its rows.
* **contributions, 1 row**: Cairn's ``ScoringModel.contributions`` (exact TreeSHAP, linear SHAP
  or points) beside the family's native path: LightGBM ``pred_contrib``, XGBoost
  ``pred_contribs`` (both one thread), ``shap.TreeExplainer`` for HistGradientBoosting and
  ``shap.LinearExplainer`` for the logistic pipeline (on the transformed inputs; the transform
  is timed with it); optbinning has no per-characteristic contribution API ("-").
* **over HTTP**: one ``cairn serve`` (1 worker, no access log) with a deployment per family;
  sequential ``POST /v1/predict/bench-FAMILY`` on one keep-alive connection (online features,
  scoring, reason codes for declines, the prediction log), two rounds in alternating family
  order, latencies pooled: p50 / p99.

Checks (printed): Cairn's scores equal the peer's (max|Δ| over 1,000 rows, target 1e-9), the
served scores equal the in-process ones, and Cairn's contributions add up to the margin.
Timings are reported, never asserted. The counterfactual comparison (time per decline,
validity rate beside dice-ml) plugs in at :func:`counterfactual_comparison`.

Usage: ``python benchmarks/model_families.py [--quick] [--keep]``; the last line printed is
``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import orjson  # noqa: E402
from _families_project import FAMILIES, Family, build, latest_customers  # noqa: E402
from _family_peers import Peer, peer_of  # noqa: E402
from _measure import latency_stats, time_calls, work_folder  # noqa: E402
from _online_http import KeepAliveClient, post_request  # noqa: E402
from _online_servers import cairn_server  # noqa: E402
from _report import host_info, load_text, print_bench_json, print_table  # noqa: E402

BATCH = 1_000
CONTRIB_BUDGET_S = 6.0
"""Seconds per family for timing contributions (and again for the additivity check): a slow
explainer (pure-Python TreeSHAP of a HistGradientBoosting model) gets fewer calls, never
fewer than 10 timed and 20 checked rows."""
START_TIMEOUT_S = 180.0


def counts(quick: bool) -> dict[str, int]:
    """Calls per measurement: single rows, batches, contributions, HTTP requests per round."""
    if quick:
        return {"single": 100, "batch": 5, "contrib": 50, "http": 60, "warm": 10}
    return {"single": 400, "batch": 15, "contrib": 200, "http": 200, "warm": 30}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--quick", action="store_true", help="fewer calls and requests")
    p.add_argument("--keep", action="store_true", help="keep the work folder (project, logs)")
    return p.parse_args(argv)


# ----------------------------------------------------------------------------- in process


def us_per_row(ns: np.ndarray, rows: int) -> dict[str, float]:
    """p50 / p99 of call times in ns as µs per row."""
    p50, p99 = np.percentile(ns / 1e3 / rows, [50, 99])
    return {"p50_us": float(p50), "p99_us": float(p99)}


def measure_family(fam: Family, project: Any, ids: list[int], n: dict[str, int]) -> dict[str, Any]:
    """In-process scoring and contributions of one family, Cairn beside its peer."""
    from cairn.app.model_loader import RegistryModelLoader

    loader = RegistryModelLoader(project.tracker, project.registry)
    t0 = time.perf_counter()
    model = loader.load(fam.model + "/" + fam.version, fam.version)
    model.warm()
    load_s = time.perf_counter() - t0
    values = project.features.get_online_features(model.online_refs, {"customer_id": ids})
    table = values.to_dict()
    inputs = [{f: table[f][i] for f in model.features if f in table} for i in range(len(ids))]
    peer: Peer = peer_of(fam, model)
    X = model.matrix(inputs)
    native = peer.inputs(inputs, X)
    ours, theirs = model.score(X), peer.predict(native, slice(0, len(ids)))
    t0 = time.perf_counter()
    model.contributions(X[:1])
    per_row_s = time.perf_counter() - t0  # the slowest explainers get fewer calls (budget)
    checked = int(np.clip(CONTRIB_BUDGET_S / max(per_row_s, 1e-9), 20, 200))
    phi = model.contributions(X[:checked])
    margin = model.scorer.margin(X[:checked])
    out: dict[str, Any] = {
        "family": fam.family,
        "scorer": type(model.scorer).__name__,
        "method": getattr(model.scorer, "method", None) or _method(fam.family),
        "units": model.scorer.units,
        "load_s": load_s,
        "train_s": fam.train_s,
        "max_abs_score_diff": float(np.max(np.abs(ours - theirs))),
        "max_abs_additivity": float(np.max(np.abs(phi.sum(axis=1) - margin))),
        "declines": float(np.mean(ours >= 0.5)),
    }
    singles = list(range(n["warm"], n["warm"] + n["single"]))
    warm = range(n["warm"])
    rows = [[inputs[i]] for i in range(len(inputs))]
    out["cairn_1"] = us_per_row(
        time_calls(lambda i: model.score(model.matrix(rows[i])), warm, singles), 1
    )
    out["peer_1"] = us_per_row(time_calls(lambda i: peer.predict(native, i), warm, singles), 1)
    whole = inputs[:BATCH]
    size = len(whole)
    reps = [0] * n["batch"]
    out["cairn_batch"] = us_per_row(
        time_calls(lambda _: model.score(model.matrix(whole)), [0], reps), size
    )
    out["peer_batch"] = us_per_row(
        time_calls(lambda _: peer.predict(native, slice(0, size)), [0], reps), size
    )
    calls = int(np.clip(CONTRIB_BUDGET_S / max(per_row_s, 1e-9), 10, n["contrib"]))
    contrib = singles[:calls]
    warm_contrib = range(min(n["warm"], max(2, calls // 10)))
    out["contrib_calls"] = calls
    out["additivity_rows"] = checked
    mats = {i: X[i : i + 1] for i in range(len(X))}
    out["cairn_contrib"] = us_per_row(
        time_calls(lambda i: model.contributions(mats[i]), warm_contrib, contrib), 1
    )
    explain = peer.contributions(native)
    if explain is None:
        out["peer_contrib"] = None
        out["peer_contrib_note"] = peer.contrib_note
    else:
        out["peer_contrib"] = us_per_row(time_calls(explain, warm_contrib, contrib), 1)
        out["peer_contrib_note"] = peer.contrib_note
        compared = min(50, checked)
        theirs_phi = np.vstack([explain(i) for i in range(compared)])
        out["contrib_max_abs_diff"] = float(
            np.max(np.abs(theirs_phi[:, :-1] - phi[:compared, :-1]))
        )
    out["expected_scores"] = ours.tolist()
    return out


def _method(family: str) -> str:
    return {"lightgbm": "treeshap", "xgboost": "treeshap", "scorecard": "points"}.get(family, "-")


# ----------------------------------------------------------------------------- HTTP


def measure_http(
    work: Path, project: Path, ids: list[int], n: dict[str, int], expected: dict[str, list[float]]
) -> dict[str, Any]:
    """Sequential requests per family deployment to one ``cairn serve``, two rounds."""
    cairn = Path(sys.executable).parent / "cairn"
    lat: dict[str, list[float]] = {f: [] for f in FAMILIES}
    check: dict[str, dict[str, float]] = {}
    with cairn_server(cairn, project, work / "logs", START_TIMEOUT_S, health="/readyz") as srv:
        client = KeepAliveClient(srv.port, timeout_s=30.0)
        try:
            for rnd in range(2):
                order = FAMILIES if rnd % 2 == 0 else FAMILIES[::-1]
                for family in order:
                    path = f"/v1/predict/bench-{family}"
                    reqs = [
                        post_request(path, {"entities": {"customer_id": c}}, srv.port)
                        for c in ids[: n["warm"] + n["http"]]
                    ]
                    diffs, explained = [], 0
                    for j, req in enumerate(reqs):
                        t0 = time.perf_counter_ns()
                        status, body = client.send(req)
                        elapsed = (time.perf_counter_ns() - t0) / 1e6
                        if status != 200:
                            raise RuntimeError(f"{path}: HTTP {status}: {body[:300]!r}")
                        answer = orjson.loads(body)
                        diffs.append(abs(float(answer["score"]) - expected[family][j]))
                        explained += bool(answer.get("reason_codes"))
                        if j >= n["warm"]:
                            lat[family].append(elapsed)
                    check[family] = {
                        "max_abs_vs_in_process": max(diffs),
                        "with_reason_codes": explained / len(reqs),
                    }
        finally:
            client.close()
        rss = srv.rss_mb()
    stats = {f: latency_stats(np.asarray(v)) for f, v in lat.items()}
    return {
        "latency": stats,
        "check": check,
        "server_rss_mb": rss,
        "requests": len(lat["lightgbm"]),
    }


# ----------------------------------------------------------------------------- counterfactuals


def counterfactual_comparison(project: Path, families: dict[str, Family]) -> dict[str, Any]:
    """Counterfactuals for declines per family: time per decline and validity beside dice-ml.

    The plug-in point for the counterfactual engine (``GET /v1/explanations/{id}/
    counterfactual``): when ``cairn.explain.counterfactual`` exists, this is where each
    family's declined rows get Cairn's counterfactual (time per decline, found rate, validity:
    the change really flips the decision) beside dice-ml's on the same rows and constraints.
    Until then it reports that it was not measured and why.
    """
    import importlib.util

    if importlib.util.find_spec("cairn.explain.counterfactual") is None:
        return {"status": "not measured: no cairn.explain.counterfactual in this checkout"}
    return {"status": "not measured: the comparison with dice-ml is not wired in yet"}


# ----------------------------------------------------------------------------- report


def ratio(a: dict[str, float] | None, b: dict[str, float] | None) -> str:
    return "-" if not a or not b else f"{a['p50_us'] / b['p50_us']:.2f}x"


def cell(r: dict[str, float] | None, key: str = "p50_us") -> str:
    if r is None:
        return "-"
    v = r[key]
    return f"{v:.1f}" if v < 1000 else f"{v:,.0f}"


def print_results(results: dict[str, dict[str, Any]], http: dict[str, Any]) -> None:
    head = ["family", "Cairn 1 row", "peer 1 row", "ratio", "Cairn/row @1k", "peer/row @1k"]
    head += ["ratio", "Cairn contrib", "native contrib", "ratio", "HTTP p50 ms", "HTTP p99 ms"]
    rows = []
    for f in FAMILIES:
        r = results[f]
        h = http.get("latency", {}).get(f, {})
        rows.append(
            [
                f,
                cell(r["cairn_1"]),
                cell(r["peer_1"]),
                ratio(r["cairn_1"], r["peer_1"]),
                cell(r["cairn_batch"]),
                cell(r["peer_batch"]),
                ratio(r["cairn_batch"], r["peer_batch"]),
                cell(r["cairn_contrib"]),
                cell(r["peer_contrib"]),
                ratio(r["cairn_contrib"], r["peer_contrib"]),
                f"{h['p50_ms']:.2f}" if h else "-",
                f"{h['p99_ms']:.2f}" if h else "-",
            ]
        )
    print_table(
        "p50, µs per row in process (Cairn: feature values -> matrix -> score; peer: the "
        "family's own predict on prebuilt inputs); HTTP: sequential POST /v1/predict, ms",
        head,
        rows,
    )
    print()
    checks = []
    for f in FAMILIES:
        r = results[f]
        c = http.get("check", {}).get(f, {})
        checks.append(
            [
                f,
                r["scorer"],
                str(r["method"]),
                f"{r['max_abs_score_diff']:.1e}",
                f"{r['max_abs_additivity']:.1e}",
                f"{r['contrib_max_abs_diff']:.1e}" if "contrib_max_abs_diff" in r else "-",
                f"{c['max_abs_vs_in_process']:.1e}" if c else "-",
                f"{r['declines'] * 100:.0f} %",
                f"{r['load_s']:.2f}",
                f"{r['train_s']:.1f}",
            ]
        )
    print_table(
        "checks",
        [
            "family",
            "scorer",
            "contributions",
            "score max|Δ| vs peer",
            "Σφ - margin",
            "φ max|Δ| vs native",
            "HTTP vs in-process",
            "declines",
            "load s",
            "train s",
        ],
        checks,
        [
            f"{f}: contributions timed over {results[f]['contrib_calls']} single rows, "
            f"additivity over {results[f]['additivity_rows']} rows; native = "
            f"{results[f]['peer_contrib_note']}"
            for f in FAMILIES
        ],
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    machine = host_info(
        ("cairn", "lightgbm", "xgboost-cpu", "scikit-learn", "optbinning", "shap", "skops")
    )
    print(
        f"model-families benchmark ({'quick' if args.quick else 'full'}) on {machine['cpu']} "
        f"x{machine['nproc']}, {machine['date']}; load average {load_text(os.getloadavg())}"
    )
    n = counts(args.quick)
    with work_folder("cairn_bench_families_", args.keep) as work:
        t0 = time.perf_counter()
        project, families = build(work / "project")
        ids = latest_customers(project.root, BATCH + n["warm"] + n["single"])
        print(
            f"project: the example credit project, {len(families)} families trained and "
            f"registered in {time.perf_counter() - t0:.0f} s (untimed); {len(ids)} customers"
        )
        results = {f: measure_family(families[f], project, ids, n) for f in FAMILIES}
        expected = {f: r.pop("expected_scores") for f, r in results.items()}
        http = measure_http(work, project.root, ids, n, expected)
        counterfactuals = counterfactual_comparison(project.root, families)
    print()
    print_results(results, http)
    print(f"\ncounterfactuals: {counterfactuals['status']}")
    print(
        f"\nHTTP: {http['requests']} sequential requests per family over 2 rounds on one "
        f"keep-alive connection; server RSS {http['server_rss_mb']:.0f} MB. Load average "
        f"after: {load_text(os.getloadavg())} ({machine['nproc']} CPUs, shared)"
    )
    payload = {
        "benchmark": "model_families",
        "quick": args.quick,
        "machine": machine,
        "results": results,
        "http": http,
        "counterfactuals": counterfactuals,
    }
    print_bench_json(payload, compact=False)
    worst = max(r["max_abs_score_diff"] for r in results.values())
    served = max(c["max_abs_vs_in_process"] for c in http["check"].values())
    return 0 if worst <= 1e-9 and served <= 1e-9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
