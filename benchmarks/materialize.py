"""Materialization benchmark: Cairn's offline -> online bulk load beside Feast 0.67.

What is measured (DESIGN §5, second row): filling an empty online store with the latest values
of two snapshot views, in the same run and on the same seeded data:

* data (``_mat_data.py``): 100k customers; view ``txn_profile`` 400k rows (5 float64 features,
  a created column lagging 0-6 h, 1 % corrections) and view ``account_stats`` 400k rows
  (5 float64 features, no created column); event times over the 30 days before ``END``
  (2025-01-31). Generated once into ``benchmarks/.data/materialize/`` and reused. Timestamps are
  written at microsecond resolution (see the note below).
* contenders (``_mat_contenders.py``): ``cairn-sqlite`` and ``cairn-redis`` —
  ``FeatureStore.materialize_incremental(END)`` into the default SQLite store and into Redis;
  ``feast-sqlite`` and ``feast-redis`` — Feast 0.67 ``materialize(END - 31 d, END)`` with its
  DuckDB offline store into its SQLite and Redis online stores. The Redis contenders use one
  memory-only ``redis-server`` this script starts on a free 127.0.0.1 port (``--save ''
  --appendonly no``) and stops at the end; without a ``redis-server`` binary they are skipped.
* how: each contender runs in its own child process. A fresh project is created and applied
  (setup, not timed) before each timed call; wall time is the materialize call alone, from an
  empty online store to the call's return, reading the Parquet files included. Cairn makes
  ``--repeat`` calls (default 3, best shown, each into a fresh project and an empty store);
  Feast makes one. Peak RSS is the child's own ``ru_maxrss`` taken right after its last timed
  call (interpreter, libraries, DuckDB and the write buffers; the checks come after). For the
  Redis contenders the server's memory after the run is shown too.
* checks (untimed): rows in the online store afterwards (Cairn: records it reports as stored;
  Feast: distinct entity keys per view in its store); for 1,000 sampled customers, the online
  values of both views against an independent pandas brute force of DESIGN §3.1 at ``END``
  (``event_ts < END`` and ``created_ts <= END``, greatest ``(event_ts, created_ts)`` wins), and
  for Cairn also against its own offline join, ``get_historical_features`` with
  ``event_timestamp = END``. Feast materializes by event time only, so it also writes rows that
  were not yet known at ``END`` (created later): those keys are counted as "late" in the notes.

Note: Cairn (with DuckDB 2.x) rejects Parquet or pandas timestamps of nanosecond resolution with
time zone (DuckDB type ``TIMESTAMPTZ_NS``, pandas' default ``datetime64[ns, UTC]``) as "naive";
the data and the entity frame here are therefore microsecond-resolution.

Ratios are Feast time / Cairn time of the same online store. Nothing is asserted about time; the
exit status is non-zero only when a Cairn contender fails or its values are wrong.

Usage: ``python benchmarks/materialize.py [--quick] [--only NAME[,NAME]] [--repeat N]``;
the last line printed is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import pandas as pd  # noqa: E402
from _mat_contenders import (  # noqa: E402
    CONTENDERS,
    LABELS,
    NEEDS_REDIS,
    ContenderUnavailable,
)
from _mat_data import (  # noqa: E402
    END,
    DataSet,
    differing_keys,
    ensure_data,
    late_keys,
    reference_at,
    sample_keys,
)
from _measure import (  # noqa: E402
    ChildOutcome,
    run_in_scratch,
    self_command,
    warm_page_cache,
    work_folder,
)
from _online_servers import (  # noqa: E402
    Server,
    redis_if,
    redis_info_field,
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

RUN_ORDER = ("cairn-sqlite", "cairn-redis", "feast-sqlite", "feast-redis")
PEER = {"feast-sqlite": "cairn-sqlite", "feast-redis": "cairn-redis"}
SINGLE_CALL = ("feast-sqlite", "feast-redis")  # ~a minute each: one call
TIMEOUT_S = 300.0
UNAVAILABLE_EXIT = 3
DATA_ROOT = HERE / ".data" / "materialize"
SAMPLE = 1_000
DESIGN_FEAST_S = 45.0  # DESIGN §5: Feast 0.67, DuckDB store, idle box
PACKAGES = ("cairn", "feast", "duckdb", "pandas", "pyarrow", "redis", "hiredis")


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
    server_mb: float | None = None
    rows: int | None = None
    rows_per_view: dict[str, int] = field(default_factory=dict)
    rows_per_s: float | None = None
    vs_reference: str = "-"
    online_vs_offline: str = "-"
    differ_keys: int | None = None
    ratio_vs_cairn: float | None = None
    detail: str = ""


# ----------------------------------------------------------------------------- arguments


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = bench_parser(
        __doc__,
        quick="10x smaller data, for smoke runs",
        only=f"run only these contenders (repeat or comma-separate): {', '.join(RUN_ORDER)}",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="materialize calls per Cairn child, each into a fresh store, best reported; "
        "Feast always makes one (default 3)",
    )
    p.add_argument(
        "--timeout", type=float, default=TIMEOUT_S, help="limit on a child's timed calls (s)"
    )
    p.add_argument("--keep", action="store_true", help="keep the work folder (projects, logs)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    p.add_argument("--redis-port", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.only, unknown = pick_names(args.only, RUN_ORDER)
    if unknown:
        p.error(f"--only: unknown contender(s) {', '.join(unknown)}; expected {RUN_ORDER}")
    if args.repeat < 1:
        p.error(f"--repeat must be at least 1; got {args.repeat}")
    return args


# ----------------------------------------------------------------------------- child


def child_main(args: argparse.Namespace) -> int:
    """Materialize ``--repeat`` times into fresh projects; save timings and sampled values."""
    data, _ = ensure_data(*data_location(DATA_ROOT, args.quick))
    work = Path(args.work)
    name = args.child
    report: dict[str, Any] = {"name": name}
    setup = CONTENDERS[name]
    times: list[float] = []
    setups: list[float] = []
    rows: int | None = None
    run = None
    for i in range(args.repeat):
        t0 = time.perf_counter()
        try:
            run = setup(data, work / f"{name}-project-{i}", args.redis_port)
        except ContenderUnavailable as exc:
            report["unavailable"] = str(exc)
            write_json(work / f"{name}.json", report)
            return UNAVAILABLE_EXIT
        setups.append(time.perf_counter() - t0)
        gc.collect()
        (work / f"{name}.started").touch()  # the parent's time limit counts from here
        start = time.perf_counter()
        rows = run.materialize()
        times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    assert run is not None
    per_view = run.written()
    report.update(
        seconds=min(times),
        times=times,
        setup_s=min(setups),
        peak_rss_mb=peak_mb,
        rows=rows if rows is not None else sum(per_view.values()),
        rows_per_view=per_view,
    )
    keys = sample_keys(data, SAMPLE)
    run.online(keys).to_parquet(work / f"{name}.online.parquet")
    if run.offline is not None:
        run.offline(keys).to_parquet(work / f"{name}.offline.parquet")
    write_json(work / f"{name}.json", report)
    return 0


# ----------------------------------------------------------------------------- parent


def parent_main(args: argparse.Namespace) -> int:
    """Generate data, start Redis, run each contender in a child, check, print table and JSON."""
    machine, data = open_run("materialize", args.quick, DATA_ROOT, ensure_data)
    warm_page_cache(data.files())
    results: list[Result] = []
    notes: list[str] = []
    with work_folder("cairn_bench_mat_", args.keep) as work:
        load_before = os.getloadavg()
        with redis_if(any(n in NEEDS_REDIS for n in args.only), work / "logs", notes) as redis:
            for name in args.only:
                if name in NEEDS_REDIS and redis is None:
                    results.append(Result(name, LABELS[name], "skipped", detail="no Redis server"))
                    continue
                results.append(run_contender(name, args, work, redis))
        load_after = os.getloadavg()
        run_checks(results, data, work)
    add_ratios(results)
    late = late_keys(data, sample_keys(data, SAMPLE), END)
    print()
    print_results(results, data)
    print_targets(results)
    print_notes(notes, late, load_before, load_after)
    emit_json(results, data, machine, args, (load_before, load_after), late)
    bad = [r for r in results if r.name.startswith("cairn") and r.status not in ("ok", "skipped")]
    wrong = [r for r in results if r.name.startswith("cairn") and r.differ_keys]
    return 1 if bad or wrong else 0


def run_contender(name: str, args: argparse.Namespace, work: Path, redis: Server | None) -> Result:
    """Run one contender in a child process and collect what it measured."""
    repeat = 1 if name in SINGLE_CALL else args.repeat
    cmd = self_command(
        __file__, "--child", name, "--work", str(work), "--repeat", str(repeat), quick=args.quick
    )
    if redis is not None:
        cmd += ["--redis-port", str(redis.port)]
    print(f"running {name:<14}", end=" ", flush=True)
    env = {"FEAST_USAGE": "False"}
    outcome = run_in_scratch(cmd, work=work, name=name, timeout_s=args.timeout, env=env)
    result = _result_from(name, outcome, work / f"{name}.json")
    if redis is not None and name in NEEDS_REDIS and result.status == "ok":
        used = redis_info_field(redis.port, "memory", "used_memory")
        result.server_mb = int(used) / 2**20 if used else None
    shown = f"{result.seconds:.2f} s" if result.seconds is not None else result.status
    print(f"{shown}, peak {result.peak_rss_mb or 0:,.0f} MB, {outcome.elapsed_s:.0f} s in child")
    return result


def _result_from(name: str, outcome: ChildOutcome, report_path: Path) -> Result:
    result = Result(name=name, label=LABELS[name], status=outcome.status)
    report = read_json(report_path)
    if "unavailable" in report:
        result.status, result.detail = "skipped", report["unavailable"]
        return result
    if outcome.status != "ok":
        result.detail = outcome.last_line(300)
        result.peak_rss_mb = outcome.peak_rss_mb
    if "seconds" in report:
        result.seconds, result.times = report["seconds"], report["times"]
        result.setup_s, result.peak_rss_mb = report["setup_s"], report["peak_rss_mb"]
        result.rows, result.rows_per_view = report["rows"], report["rows_per_view"]
        result.rows_per_s = data_rows_per_s(report)
    return result


def data_rows_per_s(report: dict[str, Any]) -> float | None:
    return None if not report.get("seconds") else float(report["rows"]) / report["seconds"]


def run_checks(results: list[Result], data: DataSet, work: Path) -> None:
    """Sampled online values vs the §3.1 brute force, and Cairn online vs its offline join."""
    keys = sample_keys(data, SAMPLE)
    ref = reference_at(data, keys, END)
    for r in results:
        online_path = work / f"{r.name}.online.parquet"
        if not online_path.exists():
            continue
        online = pd.read_parquet(online_path)
        bad = differing_keys(online, ref)
        r.differ_keys = bad
        r.vs_reference = f"agree {len(keys):,}" if bad == 0 else f"DIFFER {bad} keys"
        offline_path = work / f"{r.name}.offline.parquet"
        if offline_path.exists():
            off_bad = differing_keys(online, pd.read_parquet(offline_path))
            r.online_vs_offline = "equal" if off_bad == 0 else f"DIFFER {off_bad} keys"


def add_ratios(results: list[Result]) -> None:
    """Feast seconds / Cairn seconds, each against Cairn on the same online store."""
    by = {r.name: r for r in results}
    for r in results:
        cairn = by.get(PEER.get(r.name, r.name))
        if cairn and cairn.seconds and r.seconds is not None:
            r.ratio_vs_cairn = r.seconds / cairn.seconds


# ----------------------------------------------------------------------------- output


def print_results(results: list[Result], data: DataSet) -> None:
    header = [
        "contender",
        wall_header(max((len(r.times) for r in results), default=1)),
        "first s",
        "Feast/Cairn",
        "rows written",
        "rows/s",
        "peak RSS MB",
        "Redis MB",
        "vs §3.1 ref (1k keys)",
        "online = offline",
        "setup s",
        "status",
    ]
    title = (
        f"Materialize: {data.sizes.entities:,} entities, 2 views over "
        f"{data.feature_rows():,} feature rows, empty online store -> latest values at END"
    )
    details = [f"{r.name}: {r.detail}" for r in results if r.detail]
    print_table(title, header, [_row(r) for r in results], details)


def _row(r: Result) -> list[str]:
    return [
        r.label,
        cell(r.seconds, ".2f"),
        cell(r.times[0] if r.times else None, ".2f"),
        cell(r.ratio_vs_cairn, ".1f", "x"),
        cell(r.rows, ","),
        cell(r.rows_per_s, ",.0f"),
        cell(r.peak_rss_mb, ",.0f"),
        cell(r.server_mb, ",.0f"),
        r.vs_reference,
        r.online_vs_offline,
        cell(r.setup_s, ".1f"),
        r.status,
    ]


def print_targets(results: list[Result]) -> None:
    """DESIGN §5: materialize >= 20x faster than Feast (information only)."""
    print("\nDESIGN §5 target (this run): >= 20x faster than Feast 0.67 (DuckDB store)")
    for peer, cairn in PEER.items():
        r = next((x for x in results if x.name == peer), None)
        if r is None:
            continue
        if r.ratio_vs_cairn is None:
            print(f"  {LABELS[cairn]:<16} vs {LABELS[peer]:<28} no ratio ({r.status})")
            continue
        verdict = "met" if r.ratio_vs_cairn >= 20 else "MISSED"
        print(f"  {LABELS[cairn]:<16} vs {LABELS[peer]:<28} {verdict} ({r.ratio_vs_cairn:.1f}x)")
    cairn_sqlite = next((x for x in results if x.name == "cairn-sqlite"), None)
    if cairn_sqlite is not None and cairn_sqlite.seconds is not None:
        limit = DESIGN_FEAST_S / 20
        verdict = "met" if cairn_sqlite.seconds <= limit else "MISSED"
        print(
            f"  against DESIGN's Feast figure ({DESIGN_FEAST_S:.0f} s, idle box): Cairn -> SQLite"
            f" <= {limit:.2f} s {verdict} ({cairn_sqlite.seconds:.2f} s; full-size data only)"
        )


def print_notes(
    notes: list[str], late: int, load_before: tuple[float, ...], load_after: tuple[float, ...]
) -> None:
    print("\nNotes:")
    for n in notes:
        print(f"  {n}")
    print(
        "  wall s = the materialize call alone into an empty online store (Parquet read,"
        " point-in-time winner per key, online writes); project setup and apply excluded."
    )
    print(
        "  rows written: Cairn = records it reports as stored; Feast = distinct entity keys per"
        " view found in its online store afterwards (Feast reports no count)."
    )
    print(
        "  peak RSS = the child's ru_maxrss right after its last timed call; Redis MB ="
        " the server's used_memory after the run (Cairn and Feast use separate databases)."
    )
    print(
        f"  vs §3.1 ref: {late} of the {SAMPLE:,} sampled keys have a winning row stamped before"
        " END but created after it; §3.1 hides it at END, Feast (event time only) writes it."
    )
    print(load_note(load_before, load_after))


def emit_json(
    results: list[Result],
    data: DataSet,
    machine: dict[str, Any],
    args: argparse.Namespace,
    load: tuple[tuple[float, ...], tuple[float, ...]],
    late: int,
) -> None:
    payload = {
        "benchmark": "materialize",
        "quick": args.quick,
        "repeat": args.repeat,
        "sizes": {**asdict(data.sizes), "feature_rows": data.feature_rows()},
        "sample_keys": SAMPLE,
        "late_keys_in_sample": late,
        **run_facts(machine, versions_of(PACKAGES), load),
        "results": [asdict(r) for r in results],
    }
    print_bench_json(payload)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        return child_main(args)
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
