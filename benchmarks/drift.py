"""Drift benchmark: Cairn's compute_drift, a plain numpy/scipy loop and Evidently, same frames.

What is measured (DESIGN §5, "Drift" row), on seeded frames (see ``_drift_data``): ``bank``, the
shape of the bank-marketing set issue 17 measured on (45,211 rows x 16 columns, 7 numeric and 9
text columns), and ``100k`` / ``1m``, 50 columns (40 numeric, 10 categorical of 3 to 1,000
categories); each current table has columns drifted by construction. ``--quick``: bank and
100k. Every contender reads the same Parquet files as the same pandas frames, and runs in its
own child process per frame (so peak RSS is its own):

* ``cairn``: ``ReferenceProfile.build`` on the reference (done once, at training time; reported
  apart) then ``compute_drift(profile, current)``: PSI, Evidently's PSI, KS, Jensen–Shannon,
  χ², Wasserstein / std, missing share and unseen categories for every column (best of
  ``--repeat`` calls, each on a fresh copy of the profile read back from its stored form, so no
  call reuses another's work; the first is shown too);
* ``numpy``: the same numbers from a plain loop over the columns with numpy, pandas and scipy
  (``_drift_numpy``: ``scipy.stats.ks_2samp``, ``wasserstein_distance``, ``chi2_contingency``,
  ``jensenshannon``, ``np.histogram``, ``Series.value_counts``) against the same profile.
  Before timing, the child asserts every number equals ``compute_drift``'s to 1e-9;
* ``evidently``: ``Report([DataDriftPreset()]).run(current, reference)`` on the pandas frames
  with a ``DataDefinition`` naming the numeric and categorical columns (its default stattests:
  Wasserstein for numeric, Jensen–Shannon for categorical columns above 1,000 rows). One call,
  stopped once it has used ``--cap`` CPU seconds (default 180); then its time is a lower bound.

CPU seconds are the child's own (``getrusage`` user + system, all threads) around the measured
call, with one BLAS thread per child (an idle OpenBLAS thread pool spins and bills CPU); loading
the Parquet files into memory is setup and excluded. Peak RSS is the whole child (interpreter,
libraries, both tables, results). Ratios are the contender's CPU over Cairn's
(above 1: Cairn is faster). Nothing is asserted about time.

Usage: ``DO_NOT_TRACK=1 .venv-bench/bin/python benchmarks/drift.py [--quick] [--only NAME]
[--frame NAME] [--repeat N] [--cap S]``. The last line printed is ``BENCH_JSON {...}``.
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

from _drift_data import ensure, paths, spec  # noqa: E402
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

ORDER = ("cairn", "numpy", "evidently")
FRAMES = ("bank", "100k", "1m")
PACKAGES = ("numpy", "pandas", "pyarrow", "scipy", "evidently")
ENV = {"DO_NOT_TRACK": "1", "EVIDENTLY_DISABLE_TELEMETRY": "1",
       # one BLAS thread: scipy's wasserstein_distance takes a dot product, and an idle
       # multi-threaded OpenBLAS spins, which would bill the numpy loop for CPU it did not use
       "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # fmt: skip


# ----------------------------------------------------------------------------- children


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def load_frames(frame: str) -> tuple[Any, Any]:
    import pandas as pd

    ref_path, cur_path = paths(frame)
    return pd.read_parquet(ref_path), pd.read_parquet(cur_path)


def child_cairn(frame: str, work: Path, tag: str, repeat: int) -> dict[str, Any]:
    import json

    from cairn.monitoring import ReferenceProfile, compute_drift

    reference, current = load_frames(frame)
    categorical = set(spec(frame).categorical)
    (work / f"{tag}.started").touch()
    c0, w0 = cpu_s(), time.perf_counter()
    profile = ReferenceProfile.build(reference, categorical=categorical, sample=10_000)
    out: dict[str, Any] = {"build_cpu_s": cpu_s() - c0, "build_wall_s": time.perf_counter() - w0}
    stored = profile.to_dict()
    out["profile_json_kb"] = len(json.dumps(stored)) / 1024
    cpu, wall = [], []
    report = None
    for _ in range(repeat):
        fresh = ReferenceProfile.from_dict(stored)  # as a monitoring run loads it: no reuse
        c0, w0 = cpu_s(), time.perf_counter()
        report = compute_drift(fresh, current, score_column=None)
        cpu.append(cpu_s() - c0)
        wall.append(time.perf_counter() - w0)
    assert report is not None
    out.update(cpu_s=min(cpu), cpu_all=cpu, wall_s=min(wall), wall_all=wall)
    out["drifted"] = report.drifted_features()
    out["monitor"] = [f.feature for f in report.features if f.band == "monitor"]
    return out


def child_numpy(frame: str, work: Path, tag: str, repeat: int) -> dict[str, Any]:
    from _drift_numpy import numpy_drift, same_numbers

    from cairn.monitoring import ReferenceProfile, compute_drift

    reference, current = load_frames(frame)
    profile = ReferenceProfile.build(
        reference, categorical=set(spec(frame).categorical), sample=10_000
    )
    checked = same_numbers(numpy_drift(profile, current), compute_drift(profile, current))
    (work / f"{tag}.started").touch()
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = cpu_s(), time.perf_counter()
        numpy_drift(profile, current)
        cpu.append(cpu_s() - c0)
        wall.append(time.perf_counter() - w0)
    return {"cpu_s": min(cpu), "cpu_all": cpu, "wall_s": min(wall), "wall_all": wall,
            "checked": checked}  # fmt: skip


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


def child_evidently(frame: str, work: Path, tag: str, cap_s: float) -> dict[str, Any]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    reference, current = load_frames(frame)
    categorical = list(spec(frame).categorical)
    numeric = [c for c in reference.columns if c not in categorical]
    definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
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
        report = child_cairn(args.data, work, tag, args.repeat)
    elif args.child == "numpy":
        report = child_numpy(args.data, work, tag, args.repeat)
    else:
        report = child_evidently(args.data, work, tag, args.cap)
    write_json(work / f"{tag}.json", report)
    return 0


# ----------------------------------------------------------------------------- parent


@dataclass
class Result:
    """One contender on one frame."""

    frame: str
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
    checked: int | None = None
    drifted: list[str] = field(default_factory=list)
    monitor: list[str] = field(default_factory=list)
    detail: str = ""


def parent_main(args: argparse.Namespace) -> int:
    frames = args.frame or (["bank", "100k"] if args.quick else list(FRAMES))
    unknown_frames = [f for f in frames if f not in FRAMES]
    names, unknown = pick_names(args.only, ORDER)
    if unknown or unknown_frames:
        print(f"unknown contender(s) or frame(s): {', '.join(unknown + unknown_frames)}; "
              f"known: {', '.join(ORDER)}; frames {', '.join(FRAMES)}")  # fmt: skip
        return 2
    machine = machine_info()
    print_banner("drift", "quick" if args.quick else "full size", machine)
    for frame in frames:
        t0 = time.perf_counter()
        generated = not all(p.exists() for p in paths(frame))
        if generated:  # in a child: the parent stays small (children inherit its peak RSS)
            import subprocess

            subprocess.run(self_command(__file__, "--generate", frame), check=True)
        print(
            f"data: {'generated' if generated else 'reused'} {spec(frame).label}, reference "
            f"and current ({time.perf_counter() - t0:.1f} s, excluded from timings)"
        )
    results: list[Result] = []
    with work_folder("cairn_bench_drift_", args.keep) as work:
        load_before = os.getloadavg()
        for frame in frames:
            warm_page_cache(paths(frame))
            for name in names:
                results.append(run_one(name, frame, args, work))
        load_after = os.getloadavg()
    add_ratios(results)
    print_results(results, args.repeat)
    print("\nNotes:")
    print("  CPU s: the measured call only (data loading excluded); Cairn's profile build is")
    print("  shown apart (it runs once, at training time) and in 'x vs Cairn+build'.")
    print("  x vs Cairn: the contender's CPU s over Cairn's (above 1: Cairn is faster).")
    for frame in frames:
        drifted = spec(frame).drifted
        print(f"  {frame} drifted by construction: "
              f"{', '.join(f'{k} ({v})' for k, v in drifted.items())}.")  # fmt: skip
    print(load_note(load_before, load_after))
    print_bench_json(
        {
            "benchmark": "drift",
            "quick": args.quick,
            "repeat": args.repeat,
            "cap_s": args.cap,
            "frames": {f: spec(f).label for f in frames},
            "drifted_by_construction": {f: spec(f).drifted for f in frames},
            **run_facts(machine, versions_of(PACKAGES), (load_before, load_after)),
            "results": [asdict(r) for r in results],
        }
    )
    return 0 if all(r.status == "ok" for r in results if r.name != "evidently") else 1


def run_one(name: str, frame: str, args: argparse.Namespace, work: Path) -> Result:
    tag = f"{name}-{frame}"
    cmd = self_command(
        __file__, "--child", name, "--data", frame, "--work", str(work), "--tag", tag,
        "--repeat", str(args.repeat), "--cap", str(args.cap),
    )  # fmt: skip
    timeout = max(1800.0, 10 * args.cap)  # wall: a safety net only; Evidently's cap is on CPU
    print(f"running {name:<10} {frame:>5}", end=" ", flush=True)
    outcome = run_in_scratch(cmd, work=work, name=tag, timeout_s=timeout, env=ENV)
    data = read_json(work / f"{tag}.json")
    r = Result(frame, name, outcome.status, peak_rss_mb=outcome.peak_rss_mb)
    if outcome.status != "ok":
        r.detail = outcome.last_line(300)
    if data:
        r.cpu_s, r.wall_s, r.drifted = data["cpu_s"], data["wall_s"], data.get("drifted", [])
        r.first_cpu_s = data.get("cpu_all", [None])[0]
        r.build_cpu_s, r.monitor = data.get("build_cpu_s"), data.get("monitor", [])
        r.checked = data.get("checked")
        if data.get("capped"):
            r.status, r.lower_bound = "capped", True
            r.detail = f"stopped after {r.cpu_s:.0f} CPU s (the --cap): its CPU time is more"
    shown = f"{r.cpu_s:.3f} CPU s" if r.cpu_s is not None else r.status
    print(f"{shown}{' (capped)' if r.lower_bound else ''}, peak {r.peak_rss_mb:,.0f} MB")
    return r


def add_ratios(results: list[Result]) -> None:
    for r in results:
        cairn = next((c for c in results if c.name == "cairn" and c.frame == r.frame), None)
        if cairn is None or r is cairn or not cairn.cpu_s or r.cpu_s is None:
            continue
        r.cpu_ratio = r.cpu_s / cairn.cpu_s
        if r.name == "evidently":  # the numpy loop reads the same profile: no build to add
            r.cpu_ratio_with_build = r.cpu_s / (cairn.cpu_s + (cairn.build_cpu_s or 0.0))
        if r.peak_rss_mb and cairn.peak_rss_mb:
            r.rss_ratio = r.peak_rss_mb / cairn.peak_rss_mb


def print_results(results: list[Result], repeat: int) -> None:
    header = [
        "frame", "contender", f"CPU s (best of {repeat})", "first CPU s", "wall s",
        "build CPU s", "x vs Cairn", "x vs Cairn+build", "peak RSS MB", "RSS x", "drifted",
    ]  # fmt: skip
    rows = [
        [
            spec(r.frame).label,
            r.name,
            cell(r.cpu_s, ".3f", "+" if r.lower_bound else ""),
            cell(r.first_cpu_s, ".3f"),
            cell(r.wall_s, ".3f"),
            cell(r.build_cpu_s, ".2f"),
            _ratio(r.cpu_ratio, r.lower_bound),
            _ratio(r.cpu_ratio_with_build, r.lower_bound),
            cell(r.peak_rss_mb, ",.0f"),
            cell(r.rss_ratio, ".1f", "x"),
            "-"
            if r.name == "numpy" and r.status == "ok"
            else str(len(r.drifted))
            if r.status == "ok"
            else r.status,
        ]
        for r in results
    ]
    details = [f"{r.name} ({r.frame}): {r.detail}" for r in results if r.detail]
    for r in results:
        if r.checked:
            details.append(f"numpy ({r.frame}): {r.checked} numbers equal compute_drift's (1e-9)")
        if r.drifted:
            details.append(f"{r.name} ({r.frame}) flags drift: {', '.join(r.drifted)}")
        if r.monitor:
            details.append(f"{r.name} ({r.frame}) monitor band: {', '.join(r.monitor)}")
    print()
    print_table("Drift: Cairn, a plain numpy/scipy loop, Evidently", header, rows, details)


def _ratio(value: float | None, lower_bound: bool) -> str:
    return ("at least " if lower_bound and value is not None else "") + cell(value, ".1f", "x")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = bench_parser(__doc__, quick="bank and 100k only", only="cairn, numpy, evidently")
    p.add_argument("--frame", action="append", choices=FRAMES, help="frames (default: all)")
    p.add_argument("--repeat", type=int, default=3, help="calls per contender (best shown)")
    p.add_argument("--cap", type=float, default=180.0, help="Evidently's time cap, seconds")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--generate", choices=FRAMES, help=argparse.SUPPRESS)
    p.add_argument("--child", choices=ORDER, help=argparse.SUPPRESS)
    p.add_argument("--data", choices=FRAMES, help=argparse.SUPPRESS)
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
