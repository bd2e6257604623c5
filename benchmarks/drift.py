"""Drift benchmark: Cairn's compute_drift beside Evidently 0.7.23's DataDriftPreset, same run.

What is measured (DESIGN §5, "Drift" row): 50 columns (40 numeric, 10 categorical of 3 to 1,000
categories), a reference and a current table of the same size — 100k and 1M rows (``--quick``:
100k only) — seeded, the current with 7 drifted columns (``DRIFTED``). Contenders, each in its
own child process per size (so peak RSS is its own):

* ``cairn``: ``ReferenceProfile.build`` on the reference (done once, at training time; reported
  apart) then ``compute_drift(profile, current)`` on the Arrow table: PSI, Evidently's PSI, KS,
  Jensen–Shannon, χ², Wasserstein / std, missing share and unseen categories for every column
  (best of ``--repeat`` calls; the first is shown too);
* ``evidently``: ``Report([DataDriftPreset()]).run(current, reference)`` on pandas frames with a
  ``DataDefinition`` naming the numeric and categorical columns (its default stattests:
  Wasserstein for numeric, Jensen–Shannon for categorical columns above 1,000 rows). One call,
  stopped once it has used ``--cap`` CPU seconds (default 180); then its time is a lower bound.

CPU seconds are the child's own (``getrusage`` user + system, all threads) around the measured
call; loading the Parquet files into memory is setup and excluded. Peak RSS is the whole child
(interpreter, libraries, both tables, results). Ratios are Evidently / Cairn. Nothing is
asserted about time.

Usage: ``DO_NOT_TRACK=1 .venv-bench/bin/python benchmarks/drift.py [--quick] [--only NAME]
[--repeat N] [--cap S]``. The last line printed is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _measure import run_in_scratch, self_command, warm_page_cache, work_folder  # noqa: E402
from _report import (  # noqa: E402
    bench_parser,
    cell,
    load_note,
    machine_info,
    pick_names,
    print_banner,
    print_bench_json,
    print_table,
    read_json,
    run_facts,
    versions_of,
    write_json,
)

ORDER = ("cairn", "evidently")
PACKAGES = ("numpy", "pandas", "pyarrow", "scipy", "evidently")
DATA_ROOT = HERE / ".data" / "drift"
SEED = 20261126
NUMERIC = [f"n{i:02d}" for i in range(40)]
CARDINALITY = (3, 5, 8, 12, 20, 30, 50, 100, 200, 1000)
CATEGORICAL = [f"c{i}" for i in range(len(CARDINALITY))]
DRIFTED = {
    "n00": "mean + 0.8 sd",
    "n01": "log-sd x 2",
    "n02": "25 % missing (reference 0 %)",
    "n03": "mean + 0.25 sd (monitor band)",
    "c0": "shares reversed",
    "c1": "a new category on 10 % of rows",
    "c7": "25 % of rows moved to the top category (monitor band)",
}
ENV = {"DO_NOT_TRACK": "1", "EVIDENTLY_DISABLE_TELEMETRY": "1"}


# ----------------------------------------------------------------------------- data


def generate(rows: int, seed: int, drifted: bool) -> Any:
    """One seeded table of ``rows`` x 50 columns (Arrow); ``drifted``: the current one."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    for i, name in enumerate(NUMERIC):
        kind = i % 5
        if kind == 0:
            x = rng.normal(i, 1 + i % 7, rows)
        elif kind == 1:
            x = rng.lognormal(3, 0.6, rows)
        elif kind == 2:
            x = rng.exponential(10 + i, rows)
        elif kind == 3:
            x = rng.integers(0, 60, rows).astype(np.float64)  # many ties
        else:
            x = rng.uniform(-i, i, rows)
        if i % 8 == 5:
            x[rng.random(rows) < 0.05] = np.nan
        cols[name] = x
    for name, k in zip(CATEGORICAL, CARDINALITY, strict=True):
        weights = 1.0 / np.arange(1, k + 1)
        codes = rng.choice(k, rows, p=weights / weights.sum())
        cols[name] = codes
    if drifted:
        cols["n00"] = cols["n00"] + 0.8  # its sd is 1
        cols["n01"] = np.exp(3 + (np.log(cols["n01"]) - 3) * 2.0)
        cols["n02"][rng.random(rows) < 0.25] = np.nan
        cols["n03"] = cols["n03"] + 0.25 * np.nanstd(cols["n03"])
        cols["c0"] = CARDINALITY[0] - 1 - cols["c0"]
        cols["c1"] = np.where(rng.random(rows) < 0.1, CARDINALITY[1], cols["c1"])
        cols["c7"] = np.where(rng.random(rows) < 0.25, 0, cols["c7"])
    arrays = {n: pa.array(v) for n, v in cols.items() if n in NUMERIC}
    for name in CATEGORICAL:
        labels = pa.array([f"{name}_{j}" for j in range(max(CARDINALITY) + 1)])
        arrays[name] = labels.take(pa.array(cols[name]))
    return pa.table(arrays)


def paths(rows: int) -> tuple[Path, Path]:
    folder = DATA_ROOT / str(rows)
    return folder / "reference.parquet", folder / "current.parquet"


def ensure(rows: int) -> None:
    import pyarrow.parquet as pq

    ref, cur = paths(rows)
    if ref.exists() and cur.exists():
        return
    ref.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(generate(rows, SEED, drifted=False), ref)
    pq.write_table(generate(rows, SEED + 1, drifted=True), cur)


# ----------------------------------------------------------------------------- children


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_cairn(rows: int, work: Path, tag: str, repeat: int) -> dict[str, Any]:
    import json

    import pyarrow.parquet as pq

    from cairn.monitoring import ReferenceProfile, compute_drift

    ref_path, cur_path = paths(rows)
    reference, current = pq.read_table(ref_path), pq.read_table(cur_path)
    (work / f"{tag}.started").touch()
    c0, w0 = cpu_s(), time.perf_counter()
    profile = ReferenceProfile.build(reference, categorical=set(CATEGORICAL), sample=10_000)
    out: dict[str, Any] = {"build_cpu_s": cpu_s() - c0, "build_wall_s": time.perf_counter() - w0}
    out["profile_json_kb"] = len(json.dumps(profile.to_dict())) / 1024
    cpu, wall = [], []
    report = None
    for _ in range(repeat):
        c0, w0 = cpu_s(), time.perf_counter()
        report = compute_drift(profile, current, score_column=None)
        cpu.append(cpu_s() - c0)
        wall.append(time.perf_counter() - w0)
    assert report is not None
    out.update(cpu_s=min(cpu), cpu_all=cpu, wall_s=min(wall), wall_all=wall)
    out["drifted"] = report.drifted_features()
    out["monitor"] = [f.feature for f in report.features if f.band == "monitor"]
    return out


def stop_after_cpu(cap_s: float, out: Path) -> None:
    """Watch this process's CPU time; past ``cap_s`` seconds, write what was spent and exit
    (a cap on CPU, not wall time: on a loaded box wall time says little about the work)."""
    c0, w0 = cpu_s(), time.perf_counter()

    def watch() -> None:
        while True:
            time.sleep(0.2)
            used = cpu_s() - c0
            if used > cap_s:
                wall = time.perf_counter() - w0
                write_json(out, {"cpu_s": used, "wall_s": wall, "capped": True, "drifted": []})
                os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def child_evidently(rows: int, work: Path, tag: str, cap_s: float) -> dict[str, Any]:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    ref_path, cur_path = paths(rows)
    reference, current = pd.read_parquet(ref_path), pd.read_parquet(cur_path)
    definition = DataDefinition(numerical_columns=NUMERIC, categorical_columns=CATEGORICAL)
    (work / f"{tag}.started").touch()
    stop_after_cpu(cap_s, work / f"{tag}.json")
    c0, w0 = cpu_s(), time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    out: dict[str, Any] = {"cpu_s": cpu_s() - c0, "wall_s": time.perf_counter() - w0}
    drifted = []
    for m in snapshot.dict()["metrics"]:
        config = m["config"]
        if config.get("type", "").endswith("ValueDrift"):
            value, threshold = float(m["value"]), float(config["threshold"])
            pvalue = "p_value" in m["metric_name"]
            if (value < threshold) if pvalue else (value >= threshold):
                drifted.append(config["column"])
    out["drifted"] = drifted
    return out


def child_main(args: argparse.Namespace) -> int:
    work, tag = Path(args.work), args.tag
    if args.child == "cairn":
        report = child_cairn(args.rows, work, tag, args.repeat)
    else:
        report = child_evidently(args.rows, work, tag, args.cap)
    write_json(work / f"{tag}.json", report)
    return 0


# ----------------------------------------------------------------------------- parent


@dataclass
class Result:
    """One contender at one size."""

    rows: int
    name: str
    status: str
    cpu_s: float | None = None
    wall_s: float | None = None
    first_cpu_s: float | None = None
    build_cpu_s: float | None = None
    peak_rss_mb: float | None = None
    cpu_ratio: float | None = None
    cpu_ratio_with_build: float | None = None
    rss_ratio: float | None = None
    lower_bound: bool = False
    drifted: list[str] = field(default_factory=list)
    monitor: list[str] = field(default_factory=list)
    detail: str = ""


def parent_main(args: argparse.Namespace) -> int:
    sizes = (100_000,) if args.quick else (100_000, 1_000_000)
    names, unknown = pick_names(args.only, ORDER)
    if unknown:
        print(f"unknown contender(s): {', '.join(unknown)}; known: {', '.join(ORDER)}")
        return 2
    machine = machine_info()
    print_banner("drift", "quick" if args.quick else "full size", machine)
    for rows in sizes:
        t0 = time.perf_counter()
        generated = not all(p.exists() for p in paths(rows))
        if generated:  # in a child: the parent stays small (children inherit its peak RSS)
            import subprocess

            subprocess.run(self_command(__file__, "--generate", str(rows)), check=True)
        print(
            f"data: {'generated' if generated else 'reused'} {rows:,} rows x 50 columns, "
            f"reference and current ({time.perf_counter() - t0:.1f} s, excluded from timings)"
        )
    results: list[Result] = []
    with work_folder("cairn_bench_drift_", args.keep) as work:
        load_before = os.getloadavg()
        for rows in sizes:
            warm_page_cache(paths(rows))
            for name in names:
                results.append(run_one(name, rows, args, work))
        load_after = os.getloadavg()
    add_ratios(results)
    print_results(results, args.repeat)
    print("\nNotes:")
    print("  CPU s: the measured call only (data loading excluded); Cairn's profile build is")
    print("  shown apart (it runs once, at training time) and in 'x vs Cairn+build'.")
    print(f"  drifted by construction: {', '.join(f'{k} ({v})' for k, v in DRIFTED.items())}.")
    print(load_note(load_before, load_after))
    print_bench_json(
        {
            "benchmark": "drift",
            "quick": args.quick,
            "repeat": args.repeat,
            "cap_s": args.cap,
            "sizes": list(sizes),
            "drifted_by_construction": DRIFTED,
            **run_facts(machine, versions_of(PACKAGES), (load_before, load_after)),
            "results": [asdict(r) for r in results],
        }
    )
    return 0 if all(r.status == "ok" for r in results if r.name == "cairn") else 1


def run_one(name: str, rows: int, args: argparse.Namespace, work: Path) -> Result:
    tag = f"{name}-{rows}"
    cmd = self_command(
        __file__, "--child", name, "--rows", str(rows), "--work", str(work), "--tag", tag,
        "--repeat", str(args.repeat), "--cap", str(args.cap),
    )  # fmt: skip
    timeout = max(1800.0, 10 * args.cap)  # wall: a safety net only; Evidently's cap is on CPU
    print(f"running {name:<10} {rows:>9,} rows", end=" ", flush=True)
    outcome = run_in_scratch(cmd, work=work, name=tag, timeout_s=timeout, env=ENV)
    data = read_json(work / f"{tag}.json")
    r = Result(rows, name, outcome.status, peak_rss_mb=outcome.peak_rss_mb)
    if outcome.status != "ok":
        r.detail = outcome.last_line(300)
    if data:
        r.cpu_s, r.wall_s, r.drifted = data["cpu_s"], data["wall_s"], data.get("drifted", [])
        r.first_cpu_s = data.get("cpu_all", [None])[0]
        r.build_cpu_s, r.monitor = data.get("build_cpu_s"), data.get("monitor", [])
        if data.get("capped"):
            r.status, r.lower_bound = "capped", True
            r.detail = f"stopped after {r.cpu_s:.0f} CPU s (the --cap): its CPU time is more"
    shown = f"{r.cpu_s:.2f} CPU s" if r.cpu_s is not None else r.status
    print(f"{shown}{' (capped)' if r.lower_bound else ''}, peak {r.peak_rss_mb:,.0f} MB")
    return r


def add_ratios(results: list[Result]) -> None:
    for r in results:
        cairn = next((c for c in results if c.name == "cairn" and c.rows == r.rows), None)
        if cairn is None or r is cairn or not cairn.cpu_s or r.cpu_s is None:
            continue
        r.cpu_ratio = r.cpu_s / cairn.cpu_s
        r.cpu_ratio_with_build = r.cpu_s / (cairn.cpu_s + (cairn.build_cpu_s or 0.0))
        if r.peak_rss_mb and cairn.peak_rss_mb:
            r.rss_ratio = r.peak_rss_mb / cairn.peak_rss_mb


def print_results(results: list[Result], repeat: int) -> None:
    header = [
        "rows", "contender", f"CPU s (best of {repeat})", "first CPU s", "wall s",
        "build CPU s", "x vs Cairn", "x vs Cairn+build", "peak RSS MB", "RSS x", "drifted",
    ]  # fmt: skip
    rows = [
        [
            f"{r.rows:,}",
            r.name,
            cell(r.cpu_s, ".2f", "+" if r.lower_bound else ""),
            cell(r.first_cpu_s, ".2f"),
            cell(r.wall_s, ".2f"),
            cell(r.build_cpu_s, ".2f"),
            _ratio(r.cpu_ratio, r.lower_bound),
            _ratio(r.cpu_ratio_with_build, r.lower_bound),
            cell(r.peak_rss_mb, ",.0f"),
            cell(r.rss_ratio, ".1f", "x"),
            str(len(r.drifted)) if r.status == "ok" else r.status,
        ]
        for r in results
    ]
    details = [f"{r.name} ({r.rows:,}): {r.detail}" for r in results if r.detail]
    for r in results:
        if r.drifted:
            details.append(f"{r.name} ({r.rows:,}) flags drift: {', '.join(r.drifted)}")
        if r.monitor:
            details.append(f"{r.name} ({r.rows:,}) monitor band: {', '.join(r.monitor)}")
    print()
    print_table("Drift, 50 columns (40 numeric, 10 categorical)", header, rows, details)


def _ratio(value: float | None, lower_bound: bool) -> str:
    return ("at least " if lower_bound and value is not None else "") + cell(value, ".1f", "x")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = bench_parser(__doc__, quick="100k rows only", only="contender: cairn, evidently")
    p.add_argument("--repeat", type=int, default=3, help="Cairn calls per size (best shown)")
    p.add_argument("--cap", type=float, default=180.0, help="Evidently's time cap, seconds")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    p.add_argument("--child", choices=ORDER, help=argparse.SUPPRESS)
    p.add_argument("--rows", type=int, help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    p.add_argument("--tag", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.generate:
        ensure(args.generate)
        return 0
    return child_main(args) if args.child else parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
