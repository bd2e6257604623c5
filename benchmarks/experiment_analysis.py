"""Experiment analysis benchmark: Cairn beside pandas + gbstats on a 10M-row prediction log.

What is measured (issue 8, "Benchmark"): the analysis of a prediction log with outcomes, 3 arms
(``control``, ``t1``, ``t2``), 5 metrics (approval_rate, default_rate and
bad_rate_among_approved with a 30-day maturity window, mean score with CUPED, latency_ms as a
one-sided guardrail) and 3 segments (``features->>'region'``), by

* ``cairn``: ``cairn.experiments.analyze`` over ``cairn.serving.log_reader.connect`` (one DuckDB
  query for every sufficient statistic, then the tests on the sums);
* ``pandas+gbstats``: what a user glues together: ``pandas.read_parquet`` of the needed
  columns, a merge with the latest known outcome, ``groupby`` per unit (region parsed with a
  vectorised ``str.extract``, not ``json.loads``) and per arm/segment, then gbstats 0.8.0's
  tests (Welch t relative and absolute, Bayesian, CUPED, SRM) on the same sums.

Both answer the same questions with the same rules; the parent checks that their lifts and
p-values agree (relative difference printed). Data: generated with DuckDB SQL from hashed
seeds (deterministic), 10M predictions of 2M units (1 in 5 before the experiment start: the
CUPED pre-period), 70% with an outcome, written as Parquet into a temp folder (``--quick``:
1M rows). Each contender runs in its own child process; wall time is the analysis alone (imports
excluded), best of ``--repeat``; peak RSS is the child's own. Nothing is asserted about time.

Usage: ``.venv-bench/bin/python benchmarks/experiment_analysis.py [--quick] [--repeat N]``.
The last line printed is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _measure import run_in_scratch, self_command, warm_page_cache, work_folder  # noqa: E402
from _report import (  # noqa: E402
    bench_parser,
    cell,
    machine_info,
    print_banner,
    print_bench_json,
    print_table,
    read_json,
    versions_of,
    write_json,
)

START = datetime(2026, 3, 1, tzinfo=UTC)
AS_OF = START + timedelta(days=45)
MATURITY = timedelta(days=30)
ARMS = ("control", "t1", "t2")
CONTENDERS = ("cairn", "pandas+gbstats")
PACKAGES = ("duckdb", "pandas", "pyarrow", "numpy", "scipy", "gbstats")

# -------------------------------------------------------------------------------- data

_MACROS = """
CREATE OR REPLACE MACRO u(x, s) AS
 ((hash(x + s * 17592186044416) >> 11)::DOUBLE + 0.5) / 9007199254740992.0;
CREATE OR REPLACE MACRO nrm(x, s) AS sqrt(-2 * ln(u(x, s))) * cos(2 * pi() * u(x, s + 1000));
"""
_ROWS = """
WITH r AS (SELECT i, i // 5 AS unit, i % 5 = 0 AS pre FROM range({n}) t(i)),
v AS (
 SELECT i, unit, pre,
  CASE WHEN u(unit, 1) < 1 / 3 THEN 'control' WHEN u(unit, 1) < 2 / 3 THEN 't1' ELSE 't2' END
    AS arm0,
  CASE WHEN u(unit, 2) < 0.5 THEN 'north' WHEN u(unit, 2) < 0.8 THEN 'south' ELSE 'east' END
    AS region,
  nrm(unit, 3) - 1.0 + 0.5 * nrm(i, 4) AS risk,
  TIMESTAMPTZ '2026-03-01 00:00:00+00' + to_microseconds(CAST(
    (CASE WHEN pre THEN -1 ELSE 1 END) * (1 + u(i, 5) * 28 * 86400e6) AS BIGINT)) AS time
 FROM r
)
SELECT *, CASE WHEN pre THEN 'main' ELSE arm0 END AS arm,
 CASE WHEN pre THEN 0.0 WHEN arm0 = 't1' THEN 0.15 WHEN arm0 = 't2' THEN 0.05 ELSE 0.0 END
   AS shift
FROM v
"""
_PREDICTIONS = """
COPY (
 SELECT 'p' || i AS prediction_id, time, 'credit' AS deployment,
  CASE WHEN pre THEN 'single' ELSE 'ab' END AS strategy, arm,
  'credit-default' AS model_name, CASE WHEN arm = 't1' THEN '2' ELSE '1' END AS model_version,
  'c' || unit AS unit_id, '{{"customer_id":' || unit || '}}' AS entity,
  '{{"income":' || round(1000 + u(i, 9) * 9000) || ',"region":"' || region || '"}}' AS features,
  1 / (1 + exp(-(risk + 0.7 * nrm(i, 6) - shift))) AS score,
  CASE WHEN 1 / (1 + exp(-(risk + 0.7 * nrm(i, 6) - shift))) >= 0.5 THEN 'decline'
    ELSE 'approve' END AS decision,
  0.4 + 2.0 * pow(u(i, 7), 3) + CASE WHEN arm = 't1' THEN 0.02 ELSE 0 END AS latency_ms,
  '[]' AS reason_codes, FALSE AS explained, NULL::VARCHAR AS fallback,
  FALSE AS entity_unknown, CASE WHEN pre THEN NULL ELSE 'bench-ab' END AS seed,
  TRUE AS exposed, FALSE AS shadow,
  CASE WHEN u(i, 8) < 0.005 THEN 'boom' END AS error
 FROM ({rows})
) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
"""
_OUTCOMES = """
COPY (
 SELECT 'p' || i AS prediction_id, NULL::VARCHAR AS entity, NULL::TIMESTAMPTZ AS event_time,
  'credit' AS deployment, CAST(u(i, 11) < 1 / (1 + exp(-risk)) AS DOUBLE) AS label,
  time + to_microseconds(CAST((1 + u(i, 12) * 59) * 86400e6 AS BIGINT)) AS observed_at
 FROM ({rows}) WHERE u(i, 10) < 0.7
) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)
"""


def generate(root: Path, rows: int) -> None:
    """Write ``root/.cairn/{predictions,outcomes}/part-0.parquet`` (deterministic)."""
    import duckdb

    for folder in ("predictions", "outcomes"):
        (root / ".cairn" / folder).mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(_MACROS)
    body = _ROWS.format(n=rows)
    con.execute(_PREDICTIONS.format(rows=body, path=root / ".cairn/predictions/part-0.parquet"))
    con.execute(_OUTCOMES.format(rows=body, path=root / ".cairn/outcomes/part-0.parquet"))


# --------------------------------------------------------------------------- contenders


def run_cairn(root: Path) -> dict[str, Any]:
    """Cairn's analysis; returns lift and p-value per (metric, arm, segment)."""
    from dataclasses import replace

    from cairn.experiments.analysis import analyze
    from cairn.experiments.metrics import BUILTIN_METRICS as B
    from cairn.serving.log_reader import connect

    window = int(MATURITY.total_seconds() * 1e6)
    metrics = [
        B["approval_rate"],
        replace(B["default_rate"], maturity=window),
        replace(B["bad_rate_among_approved"], maturity=window),
        B["score"],
        B["latency_ms"],
    ]
    with connect(root) as con:
        result = analyze(
            con, "credit", metrics, start=START, as_of=AS_OF,
            segment="features->>'region'", weights=dict.fromkeys(ARMS, 1.0),
        )  # fmt: skip
    out: dict[str, Any] = {"srm_p": result.srm.p_value if result.srm else None}
    for m in result.metrics:
        for c in [*m.comparisons, *m.segments]:
            key = f"{m.metric.name}|{c.arm}|{c.segment or 'all'}"
            out[key] = [c.relative.expected, c.p_value, c.cuped]
    return out


def run_pandas_gbstats(root: Path) -> dict[str, Any]:
    """The peer: pandas builds the same sufficient statistics, gbstats tests them."""
    import pandas as pd
    from gbstats.bayesian.tests import EffectBayesianABTest
    from gbstats.frequentist.tests import OneSidedTreatmentGreaterTTest, TwoSidedTTest
    from gbstats.models.statistics import (
        ProportionStatistic,
        RatioStatistic,
        RegressionAdjustedStatistic,
        SampleMeanStatistic,
    )
    from gbstats.utils import check_srm

    cols = ["prediction_id", "time", "deployment", "arm", "unit_id", "score", "decision",
            "latency_ms", "features", "shadow"]  # fmt: skip
    pred = pd.read_parquet(root / ".cairn/predictions", columns=cols)
    out = pd.read_parquet(
        root / ".cairn/outcomes", columns=["prediction_id", "label", "observed_at"]
    )
    as_of, start, cut = pd.Timestamp(AS_OF), pd.Timestamp(START), pd.Timestamp(AS_OF - MATURITY)
    pred = pred[(pred.deployment == "credit") & ~pred.shadow & (pred.time <= as_of)]
    out = out[out.observed_at <= as_of].sort_values("observed_at")
    out = out.drop_duplicates("prediction_id", keep="last")
    df = pred.merge(out[["prediction_id", "label"]], on="prediction_id", how="left")
    df["unit"] = df.unit_id.fillna(df.prediction_id)
    df["region"] = df.features.str.extract(r'"region":\s*"([^"]*)"', expand=False)
    mature = df.time <= cut
    approve = df.decision == "approve"
    df["approve"] = approve.astype(float)
    df["default"] = (df.label > 0).astype(float).where(df.label.notna() & mature)
    df["bad_num"] = (df.label > 0).astype(float).where(approve & df.label.notna() & mature)
    df["bad_den"] = (approve & df.label.notna()).astype(float).where(mature)
    exp, pre = df[df.time >= start], df[df.time < start]
    g = exp.groupby("unit")
    units = pd.DataFrame({
        "arm": g.arm.first(), "arms": g.arm.nunique(), "region": g.region.first(),
        "approval": g.approve.max(), "default": g.default.max(), "score": g.score.mean(),
        "lat_num": g.latency_ms.sum(), "lat_den": g.latency_ms.count().astype(float),
        "bad_num": g.bad_num.sum(min_count=1), "bad_den": g.bad_den.sum(min_count=1),
    })  # fmt: skip
    units = units[units.arms == 1]  # units seen in two arms are left out, as Cairn does
    p = pre.groupby("unit")
    for name, series in (("approval", p.approve.max()), ("default", p.default.max()),
                         ("score", p.score.mean())):  # fmt: skip
        units[f"pre_{name}"] = series.reindex(units.index)
    units["bad_num"] = units.bad_num.fillna(0.0).where(units.bad_den.notna())
    return _gbstats_tests(units, check_srm, {
        "p": ProportionStatistic, "m": SampleMeanStatistic, "r": RatioStatistic,
        "a": RegressionAdjustedStatistic, "t": TwoSidedTTest, "g": OneSidedTreatmentGreaterTTest,
        "b": EffectBayesianABTest,
    })  # fmt: skip


def _gbstats_tests(units: Any, check_srm: Any, gb: dict[str, Any]) -> dict[str, Any]:
    """Sums per arm (and arm x region) from the unit table, then gbstats on each comparison."""
    counts = units.groupby("arm").size()
    out: dict[str, Any] = {"srm_p": check_srm([int(counts[a]) for a in ARMS], [1 / 3] * 3)}
    specs = (("approval_rate", "approval", "p"), ("default_rate", "default", "p"),
             ("score", "score", "m"), ("bad_rate_among_approved", "bad", "r"),
             ("latency_ms", "lat", "r"))  # fmt: skip
    for segment, part in [("all", units), *units.groupby("region")]:
        for metric, col, kind in specs:
            stats = {arm: _stat(gb, kind, rows, col) for arm, rows in part.groupby("arm")}
            for arm in ARMS[1:]:
                a, b = stats["control"], stats[arm]
                test = gb["g"] if metric == "latency_ms" else gb["t"]
                res = test(a, b).compute_result()
                gb["b"](a, b).compute_result()
                cuped = isinstance(a, gb["a"]) and test(a, b).stat_a is a
                out[f"{metric}|{arm}|{segment}"] = [res.expected, res.p_value, cuped]
    return out


def _stat(gb: dict[str, Any], kind: str, rows: Any, col: str) -> Any:
    if kind == "r":
        den = rows[f"{col}_den"].dropna()
        num = rows[f"{col}_num"].reindex(den.index)
        m = gb["m"](n=len(den), sum=num.sum(), sum_squares=(num**2).sum())
        d = gb["m"](n=len(den), sum=den.sum(), sum_squares=(den**2).sum())
        return gb["r"](n=len(den), m_statistic=m, d_statistic=d,
                       m_d_sum_of_products=(num * den).sum())  # fmt: skip
    v = rows[col].dropna()
    pre = rows[f"pre_{col}"].reindex(v.index).fillna(0.0)
    if kind == "p":
        post, base = gb["p"](n=len(v), sum=v.sum()), gb["p"](n=len(v), sum=pre.sum())
    else:
        post = gb["m"](n=len(v), sum=v.sum(), sum_squares=(v**2).sum())
        base = gb["m"](n=len(v), sum=pre.sum(), sum_squares=(pre**2).sum())
    return gb["a"](n=len(v), post_statistic=post, pre_statistic=base,
                   post_pre_sum_of_products=(v * pre).sum(), theta=0)  # fmt: skip


RUNNERS = {"cairn": run_cairn, "pandas+gbstats": run_pandas_gbstats}

# -------------------------------------------------------------------------------- child


def child_main(args: argparse.Namespace) -> int:
    """Import the contender, then time its analysis ``--repeat`` times; report as JSON."""
    work, root = Path(args.work), Path(args.data)
    runner = RUNNERS[args.child]
    if args.child == "cairn":
        import cairn.experiments.analysis  # noqa: F401  (imports are setup, not timed)
    else:
        import gbstats.frequentist.tests  # noqa: F401
        import pandas  # noqa: F401
    (work / f"{args.tag}.started").touch()
    times, answer = [], {}
    for _ in range(args.repeat):
        gc.collect()
        t0 = time.perf_counter()
        answer = runner(root)
        times.append(time.perf_counter() - t0)
    write_json(work / f"{args.tag}.json", {"times": times, "answer": answer})
    return 0


# ------------------------------------------------------------------------------- parent


def parent_main(args: argparse.Namespace) -> int:
    rows = 1_000_000 if args.quick else 10_000_000
    machine = machine_info()
    print_banner("experiment analysis", "quick" if args.quick else "full size", machine)
    with work_folder("cairn-bench-exp-", args.keep) as work:
        data = work / "data"
        t0 = time.perf_counter()
        subprocess.run(self_command(__file__, "--generate", str(rows), "--data", str(data)),
                       check=True)  # fmt: skip
        size = sum(p.stat().st_size for p in data.rglob("*.parquet")) / 2**20
        print(f"data: generated {rows:,} predictions + outcomes ({size:,.0f} MB Parquet, "
              f"{time.perf_counter() - t0:.1f} s, excluded from timings)")  # fmt: skip
        warm_page_cache(data.rglob("*.parquet"))
        load_before = os.getloadavg()
        results: dict[str, dict[str, Any]] = {}
        for name in CONTENDERS:
            tag = name.replace("+", "_")
            cmd = self_command(__file__, "--child", name, "--data", str(data), "--work",
                               str(work), "--tag", tag, "--repeat", str(args.repeat))  # fmt: skip
            outcome = run_in_scratch(cmd, work=work, name=tag, timeout_s=args.timeout,
                                     env={}, mem_cap_mb=args.mem_cap_mb)  # fmt: skip
            report = read_json(work / f"{tag}.json") if outcome.status == "ok" else {}
            results[name] = {
                "status": outcome.status, "peak_rss_mb": outcome.peak_rss_mb,
                "times": report.get("times", []), "answer": report.get("answer"),
                "stderr": outcome.stderr_tail if outcome.status != "ok" else "",
            }  # fmt: skip
        load_after = os.getloadavg()
    return report_results(results, rows, machine, args, (load_before, load_after))


def report_results(
    results: dict[str, dict[str, Any]],
    rows: int,
    machine: dict[str, Any],
    args: argparse.Namespace,
    load: tuple[Any, Any],
) -> int:
    base = results["cairn"]
    best = {n: min(r["times"]) if r["times"] else None for n, r in results.items()}
    table = []
    for name, r in results.items():
        t, rss = best[name], r["peak_rss_mb"]
        t_ratio = t / best["cairn"] if t and best["cairn"] else None
        m_ratio = rss / base["peak_rss_mb"] if base["peak_rss_mb"] else None
        table.append([name, r["status"], cell(t, ".2f"), cell(rss, ",.0f"),
                      cell(t_ratio, ".1f", "x"), cell(m_ratio, ".1f", "x")])  # fmt: skip
    agreement = _agreement(base.get("answer"), results["pandas+gbstats"].get("answer"))
    details = [f"{len(agreement['keys'])} comparisons checked; max relative difference "
               f"lift {agreement['lift']:.1e}, p-value {agreement['p']:.1e} (p > 1e-10; "
               f"absolute {agreement['p_abs']:.1e}), CUPED on/off same: {agreement['cuped_same']}"
               if agreement["keys"] else "answers not compared (a contender failed)",
               f"load average before/after: {load[0]} / {load[1]}"]  # fmt: skip
    for name, r in results.items():
        if r["stderr"]:
            details.append(f"{name} stderr: {r['stderr'][-400:]}")
    print_table(
        f"Analysis of {rows:,} predictions, 3 arms x 5 metrics x 3 segments (ratio = peer / Cairn)",
        ["contender", "status", f"wall s (best of {args.repeat})", "peak RSS MB", "time ratio",
         "RSS ratio"], table, details,
    )  # fmt: skip
    payload = {"benchmark": "experiment_analysis", "rows": rows, "machine": machine,
               "versions": versions_of(("cairn", *PACKAGES)), "loadavg": [list(x) for x in load],
               "results": {n: {k: v for k, v in r.items() if k != "answer"}
                           for n, r in results.items()},
               "agreement": {k: v for k, v in agreement.items() if k != "keys"}}  # fmt: skip
    print_bench_json(payload)
    return 0 if base["status"] == "ok" else 1


def _agreement(a: dict[str, Any] | None, b: dict[str, Any] | None) -> dict[str, Any]:
    if not a or not b:
        return {"keys": [], "lift": float("nan"), "p": float("nan")}
    keys = sorted(k for k in a if "|" in k and k in b)
    assert len(keys) == len([k for k in a if "|" in k]), "the contenders compared different things"
    rel = [abs(a[k][0] - b[k][0]) / max(abs(b[k][0]), 1e-12) for k in keys]
    pv = [abs(a[k][1] - b[k][1]) / b[k][1] for k in keys if b[k][1] > 1e-10]
    srm = abs(a["srm_p"] - b["srm_p"]) / max(b["srm_p"], 1e-300)
    p_abs = max(abs(a[k][1] - b[k][1]) for k in keys)
    return {"keys": keys, "lift": max(rel), "p": max(pv, default=0.0), "p_abs": p_abs, "srm_p": srm,
            "cuped_same": all(a[k][2] == b[k][2] for k in keys)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = bench_parser(__doc__, quick="1M rows instead of 10M", only="(unused)")
    p.add_argument("--repeat", type=int, default=2, help="timed analyses per child (best shown)")
    p.add_argument("--timeout", type=float, default=900.0)
    p.add_argument("--mem-cap-mb", type=float, default=12_000.0)
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    for hidden in ("--child", "--data", "--work", "--tag"):
        p.add_argument(hidden, help=argparse.SUPPRESS)
    p.add_argument("--generate", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.generate:
        generate(Path(args.data), args.generate)
        return 0
    if args.child:
        return child_main(args)
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
