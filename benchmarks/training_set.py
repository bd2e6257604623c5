"""Training-set benchmark: Cairn's point-in-time join beside Feast, pandas and raw DuckDB.

What is measured (DESIGN §5, first row): the training-set call of each contender over the same
seeded data, in the same run:

* data: 100k customers; view ``txn_profile`` 2M rows (created column lagging 0-6 h, 1 %
  corrections), view ``account`` 200k rows (no created column), 1M entity rows over the same
  year with duplicates, unknown ids, and rows exactly on / just after feature events
  (see ``_ts_data.py``). Generated once into ``benchmarks/.data/`` and reused.
* contenders (``_ts_contenders.py``): ``cairn`` (FeatureStore.get_historical_features),
  ``feast-duckdb`` and ``feast-file`` (Feast 0.67, DuckDB and default dask file offline stores),
  ``pandas`` (read + merge_asof per view, strict <, created ignored, entity order restored),
  ``duckdb-asof`` (one raw ASOF LEFT JOIN query, strict >, no known-at cutoff).
* how: each contender runs in its own child process. Wall time covers the training-set call
  only: from the in-memory pandas entity frame (read from Parquet before the clock starts) to a
  pandas DataFrame holding the result, including reading the feature files. Imports, project
  setup and ``apply`` are excluded and reported as setup time. Peak RSS is the child's own
  (``os.wait4`` rusage, cross-checked by psutil polling of its process tree), so it includes the
  interpreter, libraries and the entity frame. ``feast-file`` is killed when its call passes 120 s
  (by default), any child past the memory cap is killed; both are reported, never waited on.
* checks (``_ts_checks.py``): rows returned vs entity rows, entity order kept, ``account`` vs
  the pandas result by position ("agree" / "DIFFER n rows"), and a brute-force DESIGN §3.1
  reference on a sample of entity rows. Ratios are peer time / Cairn time. Nothing is asserted
  about time; the exit status is non-zero only when the Cairn contender itself fails.

Usage: ``python benchmarks/training_set.py [--quick] [--only NAME[,NAME]] [--repeat N]``
(``--repeat`` defaults to 3 calls per child, best reported, first call shown too; ``feast-file``
makes one). ``--only feast-duckdb-created`` adds Feast's DuckDB store with
``filter_by_created_timestamp=True``. The last line printed is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import pandas as pd  # noqa: E402
import psutil  # noqa: E402
from _measure import (  # noqa: E402
    ChildOutcome,
    run_in_scratch,
    self_command,
    warm_page_cache,
    work_folder,
)
from _report import (  # noqa: E402
    bench_parser,
    cell,
    data_location,
    load_note,
    open_run,
    pick_names,
    print_bench_json,
    print_table,
    read_json,
    run_facts,
    versions_of,
    wall_header,
    write_json,
)
from _ts_checks import (  # noqa: E402
    RuleCheck,
    differing_rows,
    order_kept,
    reference_sample,
    rule_check,
)
from _ts_contenders import (  # noqa: E402
    CONTENDERS,
    LABELS,
    Call,
    ContenderUnavailable,
    canonical,
    setup_pandas,
)
from _ts_data import B_FEATURES, DataSet, Sizes, ensure_data, read_entity_df  # noqa: E402

RUN_ORDER = ("cairn", "duckdb-asof", "pandas", "feast-duckdb", "feast-file")
OPT_IN = ("feast-duckdb-created",)  # run only when named in --only
SINGLE_CALL = ("feast-file",)  # too slow to repeat
DEFAULT_TIMEOUT_S = {"feast-file": 120.0}
FALLBACK_TIMEOUT_S = 300.0
UNAVAILABLE_EXIT = 3
DATA_ROOT = HERE / ".data" / "training_set"
PACKAGES = ("cairn", "feast", "duckdb", "pandas", "pyarrow", "numpy", "dask", "ibis-framework")


@dataclass
class Result:
    """One contender's measurements and checks."""

    name: str
    label: str
    status: str
    seconds: float | None = None
    times: list[float] = field(default_factory=list)
    setup_s: float | None = None
    peak_rss_mb: float | None = None
    base_rss_mb: float | None = None
    timed_out_after: float | None = None
    rows: int | None = None
    dropped: int | None = None
    order_kept: bool | None = None
    account_vs_pandas: str = "n/a"
    rule: RuleCheck | None = None
    ratio_vs_cairn: float | None = None
    detail: str = ""


# ----------------------------------------------------------------------------- arguments


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = bench_parser(
        __doc__,
        quick="10x smaller data, for smoke runs",
        only=(
            "run only these contenders (repeat or comma-separate): "
            f"{', '.join(RUN_ORDER + OPT_IN)}; {', '.join(OPT_IN)} runs only when named"
        ),
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="training-set calls per child, best reported; feast-file always makes one (default 3)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="limit on a child's training-set calls, counted after its setup "
        "(default: 120 s for feast-file, 300 s for others)",
    )
    p.add_argument(
        "--mem-cap-mb",
        type=float,
        default=None,
        help="kill a contender whose process tree passes this RSS (default 75%% of RAM)",
    )
    p.add_argument(
        "--sample",
        type=int,
        default=20_000,
        help="entity rows checked against the §3.1 reference (default 20000)",
    )
    p.add_argument("--keep", action="store_true", help="keep the work folder (results, logs)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.only = _contender_names(args.only)
    if args.repeat < 1:
        p.error(f"--repeat must be at least 1; got {args.repeat}")
    return args


def _contender_names(only: list[str]) -> list[str]:
    names, unknown = pick_names(only, RUN_ORDER + OPT_IN, default=RUN_ORDER)
    if unknown:
        raise SystemExit(
            f"--only: unknown contender(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(RUN_ORDER + OPT_IN)}"
        )
    return names


# ----------------------------------------------------------------------------- child


def child_main(args: argparse.Namespace) -> int:
    """Set up one contender, time its training-set call, save the result for the checks."""
    root, scale = data_location(DATA_ROOT, args.quick)
    data = DataSet(root, Sizes.for_scale(scale))
    work = Path(args.work)
    report: dict[str, Any] = {"name": args.child}
    entity_df = read_entity_df(data)
    t0 = time.perf_counter()
    try:
        call = CONTENDERS[args.child](data, work)
    except ContenderUnavailable as exc:
        report["unavailable"] = str(exc)
        write_json(work / f"{args.child}.json", report)
        return UNAVAILABLE_EXIT
    report["setup_s"] = time.perf_counter() - t0
    report["rss_before_call_mb"] = psutil.Process().memory_info().rss / 2**20
    (work / f"{args.child}.started").touch()  # the parent's time limit counts from here
    times, result = _timed_calls(call, entity_df, args.repeat)
    report.update(
        seconds=min(times), times=times, rows=len(result), columns=[str(c) for c in result.columns]
    )
    write_json(work / f"{args.child}.json", report)
    canonical(result).to_parquet(work / f"{args.child}.parquet")
    return 0


def _timed_calls(
    call: Call, entity_df: pd.DataFrame, repeat: int
) -> tuple[list[float], pd.DataFrame]:
    """Time ``repeat`` calls, each on a fresh copy of the entity rows; the last result."""
    times: list[float] = []
    result = pd.DataFrame()
    for _ in range(repeat):
        frame = entity_df.copy()
        del result
        gc.collect()
        start = time.perf_counter()
        result = call(frame)
        times.append(time.perf_counter() - start)
    return times, result


# ----------------------------------------------------------------------------- parent


def parent_main(args: argparse.Namespace) -> int:
    """Generate data, run each contender in a child, check results, print table and JSON."""
    machine, data = open_run("training-set", args.quick, DATA_ROOT, ensure_data)
    warm_page_cache(data.files())
    with work_folder("cairn_bench_ts_", args.keep) as work:
        load_before = os.getloadavg()
        results = [run_contender(name, args, work) for name in args.only]
        load_after = os.getloadavg()
        run_checks(results, data, work, args.sample)
    add_ratios(results)
    print()
    print_results(results, data)
    print_targets(results)
    print_notes(load_before, load_after)
    emit_json(results, data, machine, args, (load_before, load_after))
    cairn = next((r for r in results if r.name == "cairn"), None)
    return 1 if cairn is not None and cairn.status != "ok" else 0


def run_contender(name: str, args: argparse.Namespace, work: Path) -> Result:
    """Run one contender in a child process and collect what it measured."""
    timeout = args.timeout or DEFAULT_TIMEOUT_S.get(name, FALLBACK_TIMEOUT_S)
    repeat = 1 if name in SINGLE_CALL else args.repeat
    cmd = self_command(
        __file__, "--child", name, "--work", str(work), "--repeat", str(repeat), quick=args.quick
    )
    print(f"running {name:<20}", end=" ", flush=True)
    outcome = run_in_scratch(
        cmd,
        work=work,
        name=name,
        timeout_s=timeout,
        env={"FEAST_USAGE": "False"},
        mem_cap_mb=args.mem_cap_mb,
    )
    result = _result_from(name, outcome, work / f"{name}.json", timeout)
    shown = f"{result.seconds:.2f} s" if result.seconds is not None else result.status
    print(f"{shown}, peak {outcome.peak_rss_mb:,.0f} MB, {outcome.elapsed_s:.0f} s in child")
    return result


def _result_from(name: str, outcome: ChildOutcome, report_path: Path, timeout: float) -> Result:
    result = Result(
        name=name, label=LABELS[name], status=outcome.status, peak_rss_mb=outcome.peak_rss_mb
    )
    report = read_json(report_path)
    if "unavailable" in report:
        result.status, result.detail = "unavailable", report["unavailable"]
        return result
    if outcome.status == "timeout":
        call_s = outcome.measured_s or timeout
        result.detail = f"training-set call killed after {call_s:.1f} s"
        result.timed_out_after = call_s
    elif outcome.status != "ok":
        result.detail = outcome.last_line(300)
    if "seconds" in report:
        result.seconds, result.times = report["seconds"], report["times"]
        result.setup_s, result.rows = report.get("setup_s"), report["rows"]
        result.base_rss_mb = report.get("rss_before_call_mb")
    return result


def run_checks(results: list[Result], data: DataSet, work: Path, sample: int) -> None:
    """Rows, order, ``account`` vs pandas, and the sampled §3.1 reference, per contender."""
    entity_df = read_entity_df(data)
    ref = reference_sample(data, entity_df, sample)
    pandas_result = _pandas_result(data, work, entity_df)
    for r in results:
        path = work / f"{r.name}.parquet"
        if r.rows is None or not path.exists():
            continue
        got = pd.read_parquet(path)
        r.dropped = len(entity_df) - len(got)
        r.order_kept = order_kept(got, entity_df)
        if r.order_kept:
            bad = differing_rows(got, pandas_result, B_FEATURES)
            r.account_vs_pandas = "agree" if bad == 0 else f"DIFFER {bad} rows"
        else:
            r.account_vs_pandas = "n/a (order)"
        r.rule = rule_check(got, ref, r.order_kept)


def _pandas_result(data: DataSet, work: Path, entity_df: pd.DataFrame) -> pd.DataFrame:
    path = work / "pandas.parquet"
    if path.exists():
        return pd.read_parquet(path)
    return canonical(setup_pandas(data, work)(entity_df.copy()))


def add_ratios(results: list[Result]) -> None:
    """peer seconds / Cairn seconds; for a peer that timed out, a lower bound."""
    cairn = next((r for r in results if r.name == "cairn" and r.seconds), None)
    if cairn is None or not cairn.seconds:
        return
    for r in results:
        peer_s = r.seconds if r.seconds is not None else r.timed_out_after
        if peer_s is not None:
            r.ratio_vs_cairn = peer_s / cairn.seconds


# ----------------------------------------------------------------------------- output


def print_results(results: list[Result], data: DataSet) -> None:
    header = [
        "contender",
        wall_header(max((len(r.times) for r in results), default=1)),
        "first s",
        "peer/Cairn",
        "peak RSS MB",
        "base MB",
        "rows",
        "dropped",
        "order",
        "account vs pandas",
        "§3.1 sample",
        "setup s",
        "status",
    ]
    title = (
        f"Training set: {data.sizes.entity_rows:,} entity rows x 2 views over "
        f"{data.sizes.a_rows + data.sizes.b_rows:,} feature rows"
    )
    details = [f"{r.name}: {r.detail}" for r in results if r.detail]
    print_table(title, header, [_row(r) for r in results], details)


def _row(r: Result) -> list[str]:
    order = "-" if r.order_kept is None else ("yes" if r.order_kept else "no")
    wall, ratio = cell(r.seconds, ".2f"), cell(r.ratio_vs_cairn, ".2f", "x")
    if r.timed_out_after is not None:
        wall = f"> {r.timed_out_after:.1f}"
        ratio = f"> {r.ratio_vs_cairn:.1f}x" if r.ratio_vs_cairn is not None else "-"
    return [
        r.label,
        wall,
        cell(r.times[0] if r.times else None, ".2f"),
        ratio,
        cell(r.peak_rss_mb, ",.0f"),
        cell(r.base_rss_mb, ",.0f"),
        cell(r.rows, ","),
        cell(r.dropped, ","),
        order,
        r.account_vs_pandas,
        r.rule.text() if r.rule else "-",
        cell(r.setup_s, ".1f"),
        r.status,
    ]


def print_targets(results: list[Result]) -> None:
    """DESIGN §5 targets, computed from this run (information only, nothing asserted)."""
    by = {r.name: r for r in results}
    cairn = by.get("cairn")
    if cairn is None or cairn.seconds is None:
        return
    checks = [  # (peer, target, least peer/Cairn ratio that meets it)
        ("feast-file", ">= 10x faster than Feast file store", 10.0),
        ("feast-duckdb", ">= 3x faster than Feast DuckDB store", 3.0),
        ("duckdb-asof", "within 1.2x of the raw ASOF query", 1 / 1.2),
    ]
    print("\nDESIGN §5 targets (this run):")
    for name, text, least in checks:
        peer = by.get(name)
        if peer is None or peer.ratio_vs_cairn is None:
            state = "no peer time" if peer is None else f"peer {peer.status}"
        else:
            met = peer.ratio_vs_cairn >= least
            verdict = "met" if met else "MISSED"
            bound = "> " if peer.timed_out_after is not None else ""
            state = f"{verdict} (ratio {bound}{peer.ratio_vs_cairn:.2f})"
            if peer.timed_out_after is not None and not met:
                state = f"unknown (peer timed out; ratio > {peer.ratio_vs_cairn:.2f})"
        print(f"  {text:<40} {state}")
    rss = cairn.peak_rss_mb or 0.0
    print(f"  {'<= 1 GB peak RSS':<40} {'met' if rss <= 1024 else 'MISSED'} ({rss:,.0f} MB)")
    kept = cairn.dropped == 0 and cairn.order_kept
    print(f"  {'no dropped rows, entity order kept':<40} {'met' if kept else 'MISSED'}")


def print_notes(load_before: tuple[float, ...], load_after: tuple[float, ...]) -> None:
    print("\nNotes:")
    print(
        "  wall s = the training-set call only (entity frame in memory -> pandas DataFrame,"
        " reading feature files included), best of the child's calls; first s = its first call."
    )
    print(
        "  peak RSS = whole child process (interpreter, libraries, entity frame, result);"
        " base MB = its RSS after imports, setup and apply, just before the first call."
    )
    print(
        "  §3.1 sample: brute-force reference of DESIGN §3.1 (event_ts < t, created_ts <= t,"
        " winner max(event, created, row)) on sampled entity rows."
    )
    print(
        "  Feast semantics differ by design: feature rows with event_ts <= t are visible (not <),"
        " created_ts is only a tie-break unless filter_by_created_timestamp=True;"
        " Feast does not return rows in entity order."
    )
    print(
        "  pandas and raw DuckDB ignore created_ts (no known-at cutoff), so they differ from"
        " §3.1 on txn_profile where late rows or corrections matter."
    )
    print(load_note(load_before, load_after))


def emit_json(
    results: list[Result],
    data: DataSet,
    machine: dict[str, Any],
    args: argparse.Namespace,
    load: tuple[tuple[float, ...], tuple[float, ...]],
) -> None:
    payload = {
        "benchmark": "training_set",
        "quick": args.quick,
        "repeat": args.repeat,
        "sizes": asdict(data.sizes),
        **run_facts(machine, versions_of(PACKAGES), load),
        "results": [_result_json(r) for r in results],
    }
    print_bench_json(payload)


def _result_json(r: Result) -> dict[str, Any]:
    out = asdict(r)
    out["rule_sample"] = asdict(r.rule) if r.rule else None
    del out["rule"]
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args)
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
