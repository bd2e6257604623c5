"""Reason-codes benchmark: one row's TreeSHAP contributions, Cairn beside native LightGBM and shap.

What is measured (DESIGN §5, "Reason codes, 1 row"): the time to explain one row of a LightGBM
binary model of 500 trees, ``max_depth`` 6 (up to 63 leaves), 50 float features, trained here on
seeded synthetic data (10,000 rows; 2,000 with ``--quick``):

* ``native``: ``booster.predict(x, pred_contrib=True)`` (LightGBM's default threads);
* ``native-1t``: the same with ``num_threads=1`` (what Cairn passes);
* ``cairn-contrib``: :func:`cairn.explain.tree_contributions` (the contributions alone);
* ``cairn-reasons``: what the server does per explained row (``Predictor._score``):
  ``tree_contributions`` then :func:`cairn.explain.top_reasons` (k=4, default code book,
  ``split_references`` of the booster computed once beforehand, as the model loader does);
* ``shap``: ``shap.TreeExplainer(booster).shap_values(x)`` (explainer built once, untimed).
  For a LightGBM booster, shap 0.51 takes a shortcut: it calls ``booster.predict(x,
  pred_contrib=True)`` itself (LightGBM's default threads), so this row is native + shap's
  wrapper, and its values cannot differ from native;
* ``shap-cext``: shap's own TreeSHAP (its C extension over the trees it parsed from the
  booster), forced by setting the explainer's ``model.model_type`` to ``"internal"``: an
  independent implementation, for the identical-values check and as a second timing.

How: each contender runs in its own child process (``_measure.run_child``), loads the saved
booster, explains 10 % warm-up rows, runs ``gc.collect()``, then times 2,000 calls (500 with
``--quick``), each on a different single row (the same rows for every contender), with
``perf_counter_ns``; the collector stays on. There are two rounds, the second in reverse order
(so drift in background load hits every contender alike); latencies of both are pooled. The
table shows p50 / p99 / mean in µs and each contender's p50 and p99 divided by those of native
``pred_contrib`` with ``num_threads=1``, the like-for-like baseline (Cairn passes
``num_threads=1``; LightGBM's default OpenMP threads cost more than they save on one row, so the
default-threads row is shown but is not the baseline).
Check: on 200 rows, the contributions of every contender are compared with native
``pred_contrib`` (max abs diff; shap's bias is its ``expected_value``).

DESIGN §5 targets (shown, not asserted): identical values; Cairn <= 10 % over native
``pred_contrib``; stretch: 2x faster than shap.

Usage: ``python benchmarks/reason_codes.py [--quick]``. The last line printed is
``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from _measure import run_child, self_command, time_calls, work_folder  # noqa: E402
from _report import host_info, load_text, print_bench_json, read_json, write_json  # noqa: E402

CONTENDERS = ("native", "native-1t", "cairn-contrib", "cairn-reasons", "shap", "shap-cext")
LABELS = {
    "native": "LightGBM predict(pred_contrib=True)",
    "native-1t": "LightGBM pred_contrib, num_threads=1",
    "cairn-contrib": "Cairn tree_contributions",
    "cairn-reasons": "Cairn contributions + top_reasons",
    "shap": "shap.TreeExplainer.shap_values",
    "shap-cext": "shap's own C TreeSHAP (model_type internal)",
}
BASELINE = "native-1t"  # ratios divide by this contender's latencies
SEED = 11
TREES, DEPTH, FEATURES = 500, 6, 50
CHECK_ROWS = 200
ROUNDS = 2  # each contender runs once per round; the second round runs in reverse order
CHILD_TIMEOUT_S = 300.0
MEM_CAP_MB = 4096.0
UNAVAILABLE_EXIT = 3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smaller training set, fewer calls")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--measure", choices=CONTENDERS, help=argparse.SUPPRESS)
    p.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def calls(quick: bool) -> int:
    return 500 if quick else 2_000


# ----------------------------------------------------------------------------- data + model


def build_model(work: Path, quick: bool) -> dict[str, Any]:
    """Train the seeded model, save it and the rows to explain; return what was built."""
    import lightgbm as lgb

    rng = np.random.default_rng(SEED)
    n = 2_000 if quick else 10_000
    X = rng.normal(size=(n, FEATURES))
    X[rng.random(X.shape) < 0.02] = np.nan  # some missing values, as in credit data
    w = rng.normal(size=FEATURES)
    logit = np.nan_to_num(X) @ w / np.sqrt(FEATURES) + 0.5 * np.sin(np.nan_to_num(X[:, 0]) * 3)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    params = {
        "objective": "binary",
        "max_depth": DEPTH,
        "num_leaves": 2**DEPTH - 1,
        "min_data_in_leaf": 5,
        "learning_rate": 0.05,
        "verbose": -1,
        "seed": SEED,
        "deterministic": True,
    }
    t0 = time.perf_counter()
    booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=TREES)
    seconds = time.perf_counter() - t0
    booster.save_model(str(work / "model.txt"))
    rows = rng.normal(size=(calls(quick) + calls(quick) // 10 + CHECK_ROWS, FEATURES))
    rows[rng.random(rows.shape) < 0.02] = np.nan
    np.save(work / "rows.npy", rows)
    leaves = booster.trees_to_dataframe().groupby("tree_index")["node_depth"].max()
    return {
        "train_rows": n,
        "train_s": seconds,
        "trees": booster.num_trees(),
        "features": booster.num_feature(),
        "max_node_depth": int(leaves.max()),  # leaves sit at depth DEPTH + 1
    }


# ----------------------------------------------------------------------------- child


def explainer(name: str, booster: Any) -> Callable[[np.ndarray], np.ndarray]:
    """A function of one (1, features) row returning its contributions, bias last."""
    if name == "native":
        return lambda x: booster.predict(x, pred_contrib=True)  # type: ignore[no-any-return]
    if name == "native-1t":
        return lambda x: booster.predict(x, pred_contrib=True, num_threads=1)  # type: ignore[no-any-return]
    if name in ("cairn-contrib", "cairn-reasons"):
        from cairn.explain import ReasonCodeBook, split_references, top_reasons, tree_contributions

        if name == "cairn-contrib":
            return lambda x: tree_contributions(booster, x)
        names = [f"f{i:02d}" for i in range(booster.num_feature())]
        raw_refs = split_references(booster)  # keys are the booster's Column_N names
        refs = {names[int(k.split("_")[-1])]: v for k, v in raw_refs.items()}
        book = ReasonCodeBook()
        holder: list[Any] = []

        def reasons(x: np.ndarray) -> np.ndarray:
            phi = tree_contributions(booster, x)
            holder[:] = top_reasons(
                phi[0, :-1].tolist(), names, x[0].tolist(), book, references=refs, k=4
            )
            return phi

        return reasons
    import shap

    tree = shap.TreeExplainer(booster)
    if name == "shap-cext":  # skip shap's LightGBM shortcut: its own TreeSHAP on parsed trees
        tree.model.model_type = "internal"
    bias = float(np.ravel(tree.expected_value)[-1])

    def shap_values(x: np.ndarray) -> np.ndarray:
        values = tree.shap_values(x)
        if isinstance(values, list):  # older shap: one array per class
            values = values[-1]
        values = np.asarray(values)
        if values.ndim == 3:
            values = values[..., -1]
        return np.hstack([values, np.full((values.shape[0], 1), bias)])

    return shap_values


def measure_main(args: argparse.Namespace) -> int:
    import lightgbm as lgb

    work = Path(args.work)
    name = args.measure
    report: dict[str, Any] = {"name": name}
    try:
        booster = lgb.Booster(model_file=str(work / "model.txt"))
        explain = explainer(name, booster)
    except ImportError as exc:
        report["unavailable"] = str(exc)
        write_json(work / f"measure-{name}.json", report)
        return UNAVAILABLE_EXIT
    rows = np.load(work / "rows.npy")
    n = calls(args.quick)
    warm, timed, check = rows[: n // 10], rows[n // 10 : n // 10 + n], rows[-CHECK_ROWS:]
    singles = [timed[i : i + 1].copy() for i in range(n)]
    ns = time_calls(explain, (warm[i : i + 1] for i in range(len(warm))), singles)
    values = np.vstack([explain(check[i : i + 1]) for i in range(CHECK_ROWS)])
    np.save(work / f"values-{name}.npy", values)
    np.save(work / f"ns-{name}-{args.round}.npy", ns)
    write_json(work / f"measure-{name}.json", report)
    return 0


def stats_of(work: Path, name: str) -> dict[str, Any]:
    """Latency stats over every round's calls of one contender."""
    files = [work / f"ns-{name}-{r}.npy" for r in range(ROUNDS)]
    parts = [np.load(f) for f in files if f.exists()]
    us = np.concatenate(parts) / 1e3
    p50, p99 = np.percentile(us, [50, 99])
    round_p50 = [float(np.percentile(p / 1e3, 50)) for p in parts]
    return {
        "name": name,
        "calls": int(us.size),
        "p50_us": float(p50),
        "p99_us": float(p99),
        "mean_us": float(us.mean()),
        "max_us": float(us.max()),
        "round_p50_us": round_p50,
    }


# ----------------------------------------------------------------------------- parent


def parent_main(args: argparse.Namespace) -> int:
    machine = host_info(("lightgbm", "shap", "numpy", "cairn"), ram=False)
    print(
        f"reason-codes benchmark ({'quick' if args.quick else 'full'}) on {machine['cpu']} "
        f"x{machine['nproc']}, {machine['date']}; load average before "
        f"{load_text(os.getloadavg())}"
    )
    status: dict[str, str] = {}
    results: dict[str, dict[str, Any]] = {}
    diffs: dict[str, float] = {}
    with work_folder("cairn_bench_reasons_", args.keep) as work:
        model = build_model(work, args.quick)
        print(
            f"model: {model['trees']} trees, depth {DEPTH}, {model['features']} features, "
            f"trained on {model['train_rows']} seeded rows in {model['train_s']:.1f} s (untimed)"
        )
        for rnd in range(ROUNDS):
            order = CONTENDERS if rnd % 2 == 0 else CONTENDERS[::-1]
            for name in order:
                if status.get(name, "ok") != "ok":
                    continue
                child_args = ("--work", str(work), "--measure", name, "--round", str(rnd))
                cmd = self_command(__file__, *child_args, quick=args.quick)
                out = run_child(
                    cmd,
                    timeout_s=CHILD_TIMEOUT_S,
                    mem_cap_mb=MEM_CAP_MB,
                    log_dir=work / "logs",
                    name=f"{name}-{rnd}",
                )
                status[name] = out.status
                report = read_json(work / f"measure-{name}.json")
                if out.returncode == UNAVAILABLE_EXIT and report:
                    status[name] = f"unavailable: {report['unavailable']}"
                elif out.status != "ok":
                    print(f"{name}: {out.status}\n{out.stderr_tail}")
        results = {n: stats_of(work, n) for n in CONTENDERS if status.get(n) == "ok"}
        if "native" in results:
            ref = np.load(work / "values-native.npy")
            for name in results:
                vals = np.load(work / f"values-{name}.npy")
                diffs[name] = float(np.nanmax(np.abs(vals - ref)))
    load_after = os.getloadavg()
    print()
    print_table(results, status, diffs)
    targets = targets_of(results, diffs)
    print()
    for line in targets["lines"]:
        print(line)
    print(
        f"\nload average after: {load_text(load_after)} "
        f"({machine['nproc']} CPUs; the children ran one at a time)"
    )
    payload = {
        "benchmark": "reason_codes",
        "quick": args.quick,
        "machine": machine,
        "model": model,
        "results": results,
        "status": status,
        "max_abs_diff_vs_native": diffs,
        "targets": {k: v for k, v in targets.items() if k != "lines"},
        "load_after": load_after,
    }
    print_bench_json(payload, compact=False)
    cairn_ok = all(status.get(n) == "ok" for n in ("cairn-contrib", "cairn-reasons"))
    return 0 if cairn_ok else 1


def print_table(
    results: dict[str, dict[str, Any]], status: dict[str, str], diffs: dict[str, float]
) -> None:
    base = results.get(BASELINE)
    head = (
        f"{'contender':<46} {'calls':>6} {'p50 µs':>9} {'p99 µs':>9} {'mean µs':>9} "
        f"{'p50/base':>9} {'p99/base':>9} {'max|Δ| vs native':>17}"
    )
    print(head)
    print("-" * len(head))
    for name in CONTENDERS:
        r = results.get(name)
        if r is None:
            print(f"{LABELS[name]:<46} {status.get(name, 'not run')}")
            continue
        r50 = f"{r['p50_us'] / base['p50_us']:.2f}x" if base else "-"
        r99 = f"{r['p99_us'] / base['p99_us']:.2f}x" if base else "-"
        diff = f"{diffs[name]:.1e}" if name in diffs else "-"
        mark = " (base)" if name == BASELINE else ""
        print(
            f"{LABELS[name] + mark:<46} {r['calls']:>6} {r['p50_us']:>9.1f} {r['p99_us']:>9.1f} "
            f"{r['mean_us']:>9.1f} {r50:>9} {r99:>9} {diff:>17}"
        )


def targets_of(results: dict[str, dict[str, Any]], diffs: dict[str, float]) -> dict[str, Any]:
    out: dict[str, Any] = {"lines": ["DESIGN §5 targets (reported, not asserted):"]}
    if "cairn-reasons" in diffs and "shap-cext" in diffs:
        worst = max(diffs["cairn-reasons"], diffs["shap-cext"], diffs.get("shap", 0.0))
        out["identical_max_abs_diff"] = worst
        out["lines"].append(
            f"  identical values: Cairn vs native max|Δ| {diffs['cairn-reasons']:.1e}, shap's own "
            f"TreeSHAP vs native {diffs['shap-cext']:.1e} -> "
            f"{'MET' if worst < 1e-9 else 'NOT MET'} (< 1e-9)"
        )
    native, cairn = results.get(BASELINE), results.get("cairn-reasons")
    contrib = results.get("cairn-contrib")
    if native and cairn:
        over = cairn["p50_us"] / native["p50_us"] - 1
        out["cairn_over_native_p50"] = over
        out["lines"].append(
            f"  Cairn (contributions + reason codes) p50 over native pred_contrib (1 thread): "
            f"{over * 100:+.1f} % -> {'MET' if over <= 0.10 else 'NOT MET'} (<= +10 %)"
        )
    if native and contrib:
        over = contrib["p50_us"] / native["p50_us"] - 1
        out["cairn_contrib_over_native_p50"] = over
        out["lines"].append(
            f"  Cairn contributions alone p50 over native pred_contrib (1 thread): "
            f"{over * 100:+.1f} %"
        )
    for key in ("shap", "shap-cext"):
        other = results.get(key)
        if other and cairn:
            speed = other["p50_us"] / cairn["p50_us"]
            out[f"{key}_over_cairn_p50"] = speed
            out["lines"].append(
                f"  stretch, Cairn vs {key} p50: {speed:.2f}x faster -> "
                f"{'MET' if speed >= 2 else 'NOT MET'} (>= 2x)"
            )
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure:
        return measure_main(args)
    return parent_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
