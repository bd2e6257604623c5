"""Quality benchmark: Cairn's suites beside Great Expectations 1.x and pandera, same run.

What is measured (DESIGN §5, "Quality suite" row): the same 20 checks (``_quality_contenders``)
over the same seeded 20-column data (``_quality_data``), 1M and 5M rows (``--quick``: 100k and
500k), by

* ``cairn``: ``cairn.quality.validate`` (one DuckDB aggregate query, + one for failing rows);
* ``gx``: Great Expectations 1.x, pandas data source, default result format (SUMMARY);
* ``pandera-pandas`` and ``pandera-polars``: pandera ``DataFrameSchema.validate(lazy=True)``.

Scenarios: ``parquet`` times the whole job from a Parquet path to a result (each peer reads the
file into its frame, Cairn scans it); ``memory`` gives each contender its frame already loaded
(pandas for Cairn, GX and pandera-pandas, polars for pandera-polars); ``dirty`` is the parquet
scenario on data that fails 6 checks in a few rows each (failing rows are collected). In
``memory``, Cairn gets an Arrow table (what DuckDB scans in place, and what
``RetrievalJob.to_arrow()`` returns); the row ``cairn-pandas`` shows it on the pandas frame.

How: each contender runs in its own child process per scenario (imports, suite building and,
for ``memory``, reading the frame are setup, excluded from wall time); wall time is the best of
``--repeat`` calls (default 3; the first call is shown too). Peak RSS is the child's own
(``os.wait4`` rusage, cross-checked by psutil polling), so it includes the interpreter, the
libraries and any frame. Ratios are peer / Cairn. Nothing is asserted about time: the exit
status is non-zero only when Cairn itself fails or reports a wrong number of failed checks.

Usage: ``python benchmarks/quality.py [--quick] [--only NAME[,NAME]] [--repeat N]
[--scenarios parquet,memory,dirty]``. The last line printed is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import psutil  # noqa: E402
from _measure import (  # noqa: E402
    ChildOutcome,
    run_in_scratch,
    self_command,
    warm_page_cache,
    work_folder,
)
from _quality_contenders import (  # noqa: E402
    CONTENDERS,
    LABELS,
    ContenderUnavailable,
    load_frame,
)
from _quality_data import DIRTY_FAILURES, ensure, path_for  # noqa: E402
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

RUN_ORDER = ("cairn", "cairn-pandas", "pandera-polars", "pandera-pandas", "gx")
MEMORY_ONLY = ("cairn-pandas",)
SCENARIOS = ("parquet", "memory", "dirty")
UNAVAILABLE_EXIT = 3
DATA_ROOT = HERE / ".data" / "quality"
PACKAGES = ("cairn", "duckdb", "great-expectations", "pandera", "polars", "pandas", "pyarrow")


@dataclass
class Result:
    """One contender in one scenario."""

    scenario: str
    rows: int
    name: str
    label: str
    status: str
    seconds: float | None = None
    times: list[float] = field(default_factory=list)
    setup_s: float | None = None
    load_s: float | None = None
    peak_rss_mb: float | None = None
    base_rss_mb: float | None = None
    failed_checks: int | None = None
    time_ratio: float | None = None
    rss_ratio: float | None = None
    detail: str = ""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = bench_parser(
        __doc__,
        quick="10x smaller data (100k and 500k rows)",
        only=f"contenders to run (repeat or comma-separate): {', '.join(RUN_ORDER)}",
    )
    p.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated scenarios: {', '.join(SCENARIOS)} (default: all)",
    )
    p.add_argument("--repeat", type=int, default=3, help="timed calls per child, best reported")
    p.add_argument("--timeout", type=float, default=600.0, help="limit on a child's timed calls")
    p.add_argument(
        "--mem-cap-mb",
        type=float,
        default=None,
        help="kill a contender whose process tree passes this RSS (default 75%% of RAM)",
    )
    p.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    p.add_argument("--mode", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    p.add_argument("--tag", help=argparse.SUPPRESS)
    p.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.only, unknown = pick_names(args.only, RUN_ORDER)
    if unknown:
        p.error(
            f"--only: unknown contender(s) {', '.join(unknown)}; expected {', '.join(RUN_ORDER)}"
        )
    args.scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if any(s not in SCENARIOS for s in args.scenarios):
        p.error(f"--scenarios: expected some of {', '.join(SCENARIOS)}; got {args.scenarios}")
    if args.repeat < 1:
        p.error(f"--repeat must be at least 1; got {args.repeat}")
    return args


# ----------------------------------------------------------------------------- child


def child_main(args: argparse.Namespace) -> int:
    """Set up one contender, time its calls on one data set, report as JSON."""
    work = Path(args.work)
    report: dict[str, Any] = {"name": args.child}
    out = work / f"{args.tag}.json"
    t0 = time.perf_counter()
    try:
        call = CONTENDERS[args.child]()
    except ContenderUnavailable as exc:
        report["unavailable"] = str(exc)
        write_json(out, report)
        return UNAVAILABLE_EXIT
    report["setup_s"] = time.perf_counter() - t0
    data: Any = args.data
    if args.mode == "memory":
        t1 = time.perf_counter()
        data = load_frame(args.child, args.data)
        report["load_s"] = time.perf_counter() - t1
    gc.collect()
    report["rss_before_call_mb"] = psutil.Process().memory_info().rss / 2**20
    (work / f"{args.tag}.started").touch()
    times, failed = [], -1
    for _ in range(args.repeat):
        gc.collect()
        start = time.perf_counter()
        failed = call(data)
        times.append(time.perf_counter() - start)
    report.update(seconds=min(times), times=times, failed=failed)
    write_json(out, report)
    return 0


# ----------------------------------------------------------------------------- parent


def parent_main(args: argparse.Namespace) -> int:
    sizes = (100_000, 500_000) if args.quick else (1_000_000, 5_000_000)
    machine = machine_info()
    print_banner("quality", "quick" if args.quick else "full size", machine)
    files: dict[int, tuple[Path, Path]] = {}
    for rows in sizes:
        t0 = time.perf_counter()
        clean, dirty = path_for(DATA_ROOT, rows, "clean"), path_for(DATA_ROOT, rows, "dirty")
        generated = not (clean.exists() and dirty.exists())
        if generated:  # in a child: a parent that held the data would inflate every child's
            # peak RSS (ru_maxrss survives fork and exec)
            subprocess.run(self_command(__file__, "--generate", str(rows)), check=True)
        files[rows] = (clean, dirty)
        print(
            f"data: {'generated' if generated else 'reused'} {rows:,} rows x 20 columns "
            f"({clean.stat().st_size / 2**20:,.0f} MB Parquet, {time.perf_counter() - t0:.1f} s)"
        )
    plan = []
    for scenario in args.scenarios:
        for rows in sizes if scenario != "dirty" else sizes[:1]:
            path = files[rows][1 if scenario == "dirty" else 0]
            plan.append((scenario, rows, path))
    results: list[Result] = []
    with work_folder("cairn_bench_quality_", args.keep) as work:
        load_before = os.getloadavg()
        for scenario, rows, path in plan:
            warm_page_cache([path])
            for name in args.only:
                if name in MEMORY_ONLY and scenario != "memory":
                    continue
                results.append(run_contender(name, scenario, rows, path, args, work))
    load_after = os.getloadavg()
    add_ratios(results)
    print()
    print_results(results, args.repeat)
    ok = print_targets(results)
    print_notes(load_before, load_after)
    emit_json(results, machine, args, sizes, (load_before, load_after))
    return 0 if ok else 1


def run_contender(
    name: str, scenario: str, rows: int, path: Path, args: argparse.Namespace, work: Path
) -> Result:
    tag = f"{name}-{scenario}-{rows}"
    mode = "memory" if scenario == "memory" else "parquet"
    cmd = self_command(
        __file__,
        "--child", name,
        "--data", str(path),
        "--mode", mode,
        "--work", str(work),
        "--tag", tag,
        "--repeat", str(args.repeat),
    )  # fmt: skip
    print(f"running {scenario:<8} {rows:>9,} {name:<16}", end=" ", flush=True)
    outcome = run_in_scratch(
        cmd,
        work=work,
        name=tag,
        timeout_s=args.timeout,
        env={"GX_ANALYTICS_ENABLED": "false"},
        mem_cap_mb=args.mem_cap_mb,
    )
    result = _result(name, scenario, rows, outcome, work / f"{tag}.json")
    shown = f"{result.seconds:.3f} s" if result.seconds is not None else result.status
    print(f"{shown}, peak {outcome.peak_rss_mb:,.0f} MB, failed checks {result.failed_checks}")
    return result


def _result(name: str, scenario: str, rows: int, outcome: ChildOutcome, report: Path) -> Result:
    r = Result(scenario, rows, name, LABELS[name], outcome.status, peak_rss_mb=outcome.peak_rss_mb)
    data = read_json(report)
    if "unavailable" in data:
        r.status, r.detail = "unavailable", data["unavailable"]
        return r
    if outcome.status != "ok":
        r.detail = outcome.last_line(300)
    if "seconds" in data:
        r.seconds, r.times = data["seconds"], data["times"]
        r.setup_s, r.load_s = data.get("setup_s"), data.get("load_s")
        r.base_rss_mb, r.failed_checks = data.get("rss_before_call_mb"), data.get("failed")
    return r


def add_ratios(results: list[Result]) -> None:
    """Per scenario and size: peer time / Cairn time and peer peak RSS / Cairn peak RSS."""
    for r in results:
        cairn = next(
            (
                c
                for c in results
                if c.name == "cairn" and c.scenario == r.scenario and c.rows == r.rows
            ),
            None,
        )
        if cairn is None:
            continue
        if r.seconds and cairn.seconds:
            r.time_ratio = r.seconds / cairn.seconds
        if r.peak_rss_mb and cairn.peak_rss_mb:
            r.rss_ratio = r.peak_rss_mb / cairn.peak_rss_mb


def print_results(results: list[Result], repeat: int) -> None:
    header = [
        "scenario",
        "rows",
        "contender",
        f"wall s (best of {repeat})",
        "first s",
        "time vs Cairn",
        "peak RSS MB",
        "RSS vs Cairn",
        "failed checks",
        "setup s",
        "status",
    ]
    details = [f"{r.name} ({r.scenario}, {r.rows:,}): {r.detail}" for r in results if r.detail]
    title = "Quality suite: 20 checks over 20 columns"
    print_table(title, header, [_row(r) for r in results], details)


def _row(r: Result) -> list[str]:
    return [
        r.scenario,
        f"{r.rows:,}",
        r.label,
        cell(r.seconds, ".3f"),
        cell(r.times[0] if r.times else None, ".3f"),
        cell(r.time_ratio, ".2f", "x"),
        cell(r.peak_rss_mb, ",.0f"),
        cell(r.rss_ratio, ".2f", "x"),
        "-" if r.failed_checks is None else str(r.failed_checks),
        cell(r.setup_s, ".1f"),
        r.status,
    ]


def print_targets(results: list[Result]) -> bool:
    """DESIGN §5 targets from this run (information); False when Cairn failed or miscounted."""
    print("\nDESIGN §5 targets (this run):")
    ok = True
    for r in results:
        if not r.name.startswith("cairn"):
            continue
        expected = DIRTY_FAILURES if r.scenario == "dirty" else 0
        if r.status != "ok" or r.failed_checks != expected:
            ok = False
            print(
                f"  {r.name} {r.scenario} {r.rows:,}: {r.status}, failed checks {r.failed_checks} "
                f"(expected {expected})"
            )
    for scenario in sorted({r.scenario for r in results}):
        for rows in sorted({r.rows for r in results if r.scenario == scenario}):
            peers = {r.name: r for r in results if r.scenario == scenario and r.rows == rows}
            where = f"{scenario} {rows:,}"
            gx, polars = peers.get("gx"), peers.get("pandera-polars")
            if gx is not None and gx.time_ratio is not None:
                state = "met" if gx.time_ratio >= 5 else "MISSED"
                print(
                    f"  {where:<18} >= 5x faster than GX            {state} ({gx.time_ratio:.1f}x)"
                )
            if polars is not None and polars.time_ratio is not None:
                state = "met" if polars.time_ratio >= 1 else "MISSED"
                ratio = polars.time_ratio
                print(f"  {where:<18} no slower than pandera-polars   {state} ({ratio:.2f}x)")
            if scenario in ("parquet", "dirty"):
                ratios = [p.rss_ratio for n, p in peers.items() if n != "cairn" and p.rss_ratio]
                if ratios:
                    state = "met" if min(ratios) > 1 else "MISSED"
                    print(
                        f"  {where:<18} lower peak RSS than every peer  {state} "
                        f"(peers use {min(ratios):.2f}x-{max(ratios):.2f}x Cairn's)"
                    )
    return ok


def print_notes(before: tuple[float, ...], after: tuple[float, ...]) -> None:
    print("\nNotes:")
    print(
        "  wall s: the validation call only (parquet/dirty: from the file path, reading "
        "included; memory: the frame is loaded during setup). time vs Cairn = peer / Cairn."
    )
    print("  peak RSS: the whole child process (interpreter, libraries, frame, result).")
    print(
        "  failed checks: as each library reports them; dirty data breaks 6 of the 20. pandera "
        "(pandas) also fails the int64 dtype of `id`, which pandas reads as float64 once it "
        "holds nulls."
    )
    print(
        "  same semantics where they differ: quantiles/median (Cairn linear, GX pandas "
        "nearest), GX's `mostly` vs pandera custom share checks."
    )
    print(load_note(before, after))


def emit_json(
    results: list[Result],
    machine: dict[str, Any],
    args: argparse.Namespace,
    sizes: tuple[int, ...],
    load: tuple[tuple[float, ...], tuple[float, ...]],
) -> None:
    payload = {
        "benchmark": "quality",
        "quick": args.quick,
        "repeat": args.repeat,
        "sizes": list(sizes),
        **run_facts(machine, versions_of(PACKAGES), load),
        "results": [asdict(r) for r in results],
    }
    print_bench_json(payload)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.generate:
        ensure(DATA_ROOT, args.generate)
        return 0
    return child_main(args) if args.child else parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
