"""Prediction-log benchmark: write throughput against the previous log, and query time over many
small segments against the same rows compacted into hourly files.

What is measured (issue 16: "the log's write throughput unchanged or better"):

* write: predictions per second through :class:`cairn.serving.prediction_log.SegmentLog` as
  ``cairn serve`` uses it (the prediction schema, one ``append_many`` per prediction of one
  JSON line, the flusher thread rotating every second and converting to Parquet), from the first
  append to the return of the last (every one acknowledged), in one process. The previous
  implementation is the file as of ``--baseline`` (git), loaded beside the current one; 5 rounds
  (1 with ``--quick``) each run both, the first alternating, so background load hits both
  alike; each side's median is reported with the current / previous ratio (above 1: faster).
* query: :func:`cairn.serving.log_reader.query` (what ``cairn predictions query``, ``cairn
  monitor run`` and ``cairn deploy watch`` read through) over ``--segments`` one-second
  segments of 100 rows each (one server at 100 predictions/s), then after
  :func:`cairn.serving.log_compaction.compact` merged them into hourly files; the median of 5
  runs of a count and of a group-by per decision.

Usage: ``python benchmarks/log_write.py [--quick] [--baseline REV] [--segments N]``. The last
line printed is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import orjson  # noqa: E402

try:
    from _report import host_info, print_bench_json
except ModuleNotFoundError:  # psutil: only in .venv-bench; the numbers need nothing of it
    import json

    def host_info(packages: Sequence[str], *, ram: bool = True) -> dict[str, Any]:
        return {"python": sys.version.split()[0]}

    def print_bench_json(payload: dict[str, Any], *, compact: bool = True) -> None:
        print("BENCH_JSON " + json.dumps(payload, separators=(",", ":"), default=str))


BASELINE = "2c7b71b"
"""The last commit before the log locked staging files before naming them."""
LOG_PATH = "src/cairn/serving/prediction_log.py"


def _row(i: int) -> dict[str, Any]:
    return {
        "prediction_id": f"bench-{i:09d}",
        "time": time.time_ns() // 1000,
        "deployment": "credit",
        "strategy": "single",
        "arm": "main",
        "model_name": "credit-default",
        "model_version": "3",
        "entity": '{"customer_id":42}',
        "features": '{"income":52000.0,"utilization":0.31,"amount_sum_7d":812.5}',
        "score": 0.137,
        "decision": "approve",
        "latency_ms": 1.7,
        "reason_codes": "[]",
        "explained": False,
        "positive": False,
    }


def _previous(rev: str) -> ModuleType | None:
    """The log module as of ``rev``, or None when git or the revision is missing."""
    try:
        source = subprocess.run(
            ["git", "show", f"{rev}:{LOG_PATH}"],
            cwd=HERE.parent,
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    path = Path(tempfile.mkdtemp()) / "previous_prediction_log.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("previous_prediction_log", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_rate(segment_log: Any, n: int) -> float:
    """Acknowledged predictions per second through one log of ``segment_log``'s class."""
    from cairn.serving.log_records import PREDICTION_SCHEMA

    lines = [orjson.dumps(_row(i)) + b"\n" for i in range(n)]
    log = segment_log(Path(tempfile.mkdtemp()) / "predictions", PREDICTION_SCHEMA)
    log.start()
    start = time.perf_counter()
    for line in lines:
        log.append_many([line])
    elapsed = time.perf_counter() - start
    log.close()
    return n / elapsed


def query_times(segments: int) -> dict[str, float]:
    """Median query seconds over ``segments`` small segments, then compacted."""
    import os

    from cairn.serving.log_compaction import compact
    from cairn.serving.log_reader import query
    from cairn.serving.log_records import PREDICTION_SCHEMA
    from cairn.serving.prediction_log import convert

    root = Path(tempfile.mkdtemp())
    directory = root / ".cairn" / "predictions"
    staging = directory / "staging"
    staging.mkdir(parents=True)
    hour_ago = time.time() - time.time() % 3600 - 3600
    for k in range(segments):
        staged = staging / f"1-0000beef-{k + 1:08d}.jsonl"
        staged.write_bytes(b"".join(orjson.dumps(_row(k * 100 + i)) + b"\n" for i in range(100)))
        segment = convert(staged, directory, PREDICTION_SCHEMA)
        assert segment is not None
        at = hour_ago + 10 + k % 3000 - (k // 3000) * 3600  # up to 3,000 per closed hour
        os.utime(segment, (at, at))
    sqls = {
        "count": "SELECT count(*) FROM predictions",
        "group_by": "SELECT decision, count(*), avg(score) FROM predictions GROUP BY 1",
    }

    def timed() -> dict[str, float]:
        out = {}
        for name, sql in sqls.items():
            runs = []
            for _ in range(5):
                t = time.perf_counter()
                query(root, sql)
                runs.append(time.perf_counter() - t)
            out[name] = statistics.median(runs)
        return out

    small = timed()
    t = time.perf_counter()
    done = compact(directory, PREDICTION_SCHEMA, grace_s=0)
    compaction_s = time.perf_counter() - t
    merged = timed()
    return {
        **{f"{k}_small_s": v for k, v in small.items()},
        **{f"{k}_compacted_s": v for k, v in merged.items()},
        "compaction_s": compaction_s,
        "hourly_files": len(done.merged),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1 round of 50,000 writes; 600 segments")
    p.add_argument("--baseline", default=BASELINE, help="git revision of the previous log")
    p.add_argument("--segments", type=int, default=None, help="small segments to query over")
    args = p.parse_args()
    from cairn.serving.prediction_log import SegmentLog

    n, rounds = (50_000, 1) if args.quick else (200_000, 5)
    segments = args.segments or (600 if args.quick else 3_600)
    info = host_info(["cairn", "pyarrow", "duckdb"])
    previous = _previous(args.baseline)
    rates: dict[str, list[float]] = {"previous": [], "current": []}
    sides = {"previous": None if previous is None else previous.SegmentLog, "current": SegmentLog}
    for k in range(rounds):
        for side in sorted(sides, reverse=k % 2 == 1):  # alternate which goes first
            if sides[side] is not None:
                rates[side].append(write_rate(sides[side], n))
    current = statistics.median(rates["current"])
    before = statistics.median(rates["previous"]) if rates["previous"] else None
    print(f"write, {n:,} predictions x {rounds} round(s), acknowledged per second (median):")
    if before is not None:
        print(f"  previous ({args.baseline}): {before:,.0f}/s")
    print(f"  current: {current:,.0f}/s")
    if before is not None:
        print(f"  current / previous: {current / before:.2f}x")
    q = query_times(segments)
    print(f"query over {segments:,} segments of 100 rows, median of 5 (seconds):")
    for name in ("count", "group_by"):
        small, merged = q[f"{name}_small_s"], q[f"{name}_compacted_s"]
        print(
            f"  {name}: {small:.3f} small -> {merged:.3f} compacted into "
            f"{q['hourly_files']} hourly file(s) ({small / merged:.1f}x faster)"
        )
    print(f"  compaction took {q['compaction_s']:.2f} s")
    print_bench_json(
        {
            "benchmark": "log_write",
            "host": info,
            "write_per_s": {"current": current, "previous": before, "rounds": rates},
            "ratio": None if before is None else current / before,
            "query": q,
            "segments": segments,
        }
    )


if __name__ == "__main__":
    main()
