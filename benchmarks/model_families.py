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
* **counterfactuals of declines** (:func:`counterfactual_comparison`): per family, up to
  ``CF_ROWS`` declined rows of the same latest applicants (online features), each
  answered by Cairn's engine under the deployment's declaration (``age``, ``marital``
  immutable; exact for the scorecard, a 200 ms-budget search otherwise): ms per decline (p50,
  mean), found rate, validity (the answer re-scored through the model turns the decision), mean
  changed features and distance; beside it dice-ml 0.12 (``random``, model-agnostic, the same
  feasible values) on the first ``DICE_ROWS`` of those rows, when it is installed.

Timings are reported, never asserted.

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
CF_ROWS = 20
"""Declines per family Cairn answers."""
CF_OPENMP_THREADS = 1
"""OpenMP threads while counterfactuals are measured (see :func:`counterfactual_comparison`)."""
DICE_ROWS = 20
DICE_CFS = 4
"""dice-ml answers the first ``DICE_ROWS`` of them, ``DICE_CFS`` candidates each (lower them
to keep the benchmark within a few minutes on a slower machine)."""


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


def counterfactual_comparison(
    project: Any, families: dict[str, Family], ids: list[int]
) -> dict[str, Any]:
    """Counterfactuals of declines per family: Cairn's time, found rate and validity, beside
    dice-ml's on the same rows and declaration (``_counterfactual_dice.py``).

    Each family's registered version is loaded the way ``cairn serve`` loads it (with its
    reference profile); its deployment (``bench-FAMILY``) gives the threshold and the
    counterfactual declaration. The rows: the point-in-time (online) features of the
    customers ``ids`` (the latest applicants, as the rest of the benchmark), the first
    ``CF_ROWS`` declined ones (score >= threshold), missing values included; Cairn answers
    each, dice-ml the first ``DICE_ROWS`` of them (``DICE_CFS`` candidates each).

    OpenMP runs one thread here (``CF_OPENMP_THREADS``), as the natives above run one thread:
    scikit-learn's HistGradientBoosting predicts with every core by default, and on a shared
    2-core machine its 1-100-row predicts (the search's re-scores) then take 0.4-1.5 s instead
    of ~10 ms, which blows the 200 ms search budget.
    """
    from _counterfactual_dice import dice_available
    from threadpoolctl import threadpool_limits

    from cairn.app.model_loader import RegistryModelLoader

    loader = RegistryModelLoader(project.tracker, project.registry)
    deployments = project.deployments()
    out: dict[str, Any] = {
        "pool": len(ids),
        "rows": CF_ROWS,
        "dice_rows": DICE_ROWS,
        "dice_total_cfs": DICE_CFS,
        "dice": "dice-ml 0.12 random" if dice_available() else "dice-ml not installed",
        "openmp_threads": CF_OPENMP_THREADS,
        "families": {},
    }
    with threadpool_limits(CF_OPENMP_THREADS, "openmp"):
        for f in FAMILIES:
            out["families"][f] = _family_counterfactuals(
                project, families[f], deployments[f"bench-{f}"], loader, ids
            )
    return out


def _family_counterfactuals(
    project: Any, fam: Family, dep: Any, loader: Any, ids: list[int]
) -> dict[str, Any]:
    """One family's counterfactual comparison (see :func:`counterfactual_comparison`)."""
    from _counterfactual_dice import Target, compare_with_dice

    from cairn.core.deployments import CounterfactualPolicy

    model = loader.load(fam.model + "/" + fam.version, fam.version)
    table = project.features.get_online_features(model.online_refs, {"customer_id": ids}).to_dict()
    X = model.matrix(
        [{n: table[n][i] for n in model.features if n in table} for i in range(len(ids))]
    )
    target = Target.of(model, dep.threshold, dep.counterfactual or CounterfactualPolicy())
    declined = target.declined(X)
    rows = X[declined][:CF_ROWS]
    started = time.perf_counter()
    cairn, same, dice = compare_with_dice(
        target, rows, dice_rows_max=DICE_ROWS, total_cfs=DICE_CFS, seed=0
    )
    return {
        "declined": int(declined.sum()),
        "with_missing": int(np.isnan(rows).any(axis=1).sum()),
        "immutable": list(target.policy.immutable),
        "budget_ms": target.policy.budget_ms,
        "cairn": cairn.to_dict(),
        "cairn_on_dice_rows": None if same is None else same.to_dict(),
        "dice": None if dice is None else dice.to_dict(),
        "wall_s": time.perf_counter() - started,
    }


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


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:.0f} %"


def _num(v: float | None, fmt: str = ".2f") -> str:
    return "-" if v is None else format(v, fmt)


def print_counterfactuals(cf: dict[str, Any]) -> None:
    """The counterfactual tables: Cairn per family, then Cairn beside dice-ml on dice's rows."""
    fams = cf["families"]
    rows = []
    for f in FAMILIES:
        r = fams[f]
        c = r["cairn"]
        rows.append(
            [
                f, c["method"], str(r["declined"]), f"{c['rows']} ({r['with_missing']})",
                _num(c["ms_p50"], ".1f"), _num(c["ms_mean"], ".1f"), _pct(c["found"]),
                _pct(c["validity"]), _num(c["sparsity"]), _num(c["distance"], ".3f"),
            ]
        )  # fmt: skip
    print_table(
        f"counterfactuals of declines (Cairn, in process): the first {cf['rows']} declines "
        f"among the {cf['pool']} latest applicants",
        [
            "family", "method", "declined", "rows (missing)", "ms p50", "ms mean", "found",
            "valid", "changed", "distance",
        ],
        rows,
        [
            "valid = re-scored through the model, the decision turns; changed = mean features "
            "changed per answer; distance = Σ |change| / IQR (+1 per category or filled "
            "missing value); rows (missing) = answered rows (of which with a missing value)",
            "immutable: " + "; ".join(f"{f} {', '.join(fams[f]['immutable'])}" for f in FAMILIES),
            f"search budget {fams[FAMILIES[0]]['budget_ms']:g} ms; OpenMP limited to "
            f"{cf['openmp_threads']} thread (scikit-learn HistGradientBoosting uses every core by "
            "default: small predicts are then slow on a shared machine)",
        ],
    )  # fmt: skip
    print()
    if all(fams[f]["dice"] is None for f in FAMILIES):
        print(f"counterfactuals beside dice-ml: not measured ({cf['dice']})")
        return
    rows = []
    for f in FAMILIES:
        ours, dice = fams[f]["cairn_on_dice_rows"], fams[f]["dice"]
        if dice is None:
            rows.append([f, "0"] + ["-"] * 10)
            continue
        rows.append(
            [
                f, str(dice["rows"]), _pct(ours["found"]), _pct(dice["found"]),
                _pct(ours["validity"]), _pct(dice["validity"]), _num(ours["sparsity"]),
                _num(dice["sparsity"]), _num(ours["distance"], ".3f"),
                _num(dice["distance"], ".3f"), _num(ours["ms_mean"], ".1f"),
                _num(dice["ms_mean"], ".1f"),
            ]
        )  # fmt: skip
    print_table(
        f"Cairn beside {cf['dice']} on the same rows (the first {cf['dice_rows']} of each "
        f"family's; dice: {cf['dice_total_cfs']} candidates per row, its best kept: valid, then "
        "fewest changes, then distance)",
        [
            "family", "rows", "found Cairn", "found dice", "valid Cairn", "valid dice",
            "changed Cairn", "changed dice", "dist Cairn", "dist dice", "ms Cairn", "ms dice",
        ],
        rows,
        [
            "dice-ml refuses missing values in a query: it holds a sentinel that its "
            "predict_proba maps back to NaN (the same row for both)"
        ],
    )  # fmt: skip


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
        counterfactuals = counterfactual_comparison(project, families, ids)
    print()
    print_results(results, http)
    print()
    print_counterfactuals(counterfactuals)
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
