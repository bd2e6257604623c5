"""Throughput benchmark: the highest rate ``cairn serve`` sustains, beside the bare endpoint.

What is measured: the same project, servers and open-loop load as ``benchmarks/predict.py``
(its helpers: ``_predict_project.py``, ``_predict_bare.py``, ``_predict_load.py``), here as
*capacity* rather than latency at fixed rates:

* ladder: per contender, the rate steps up (250, 500, 750, 1,000, 1,250, 1,500, 2,000, ...
  requests/s; ``LADDER``) for 5 s each (2 s with ``--quick``). A step *passes* with p99 within
  ``P99_LIMIT_MS`` (10 ms), no error and at least 95 % of the rate achieved; it *keeps up*
  with the same but p99 within ``KEEP_UP_MS`` (100 ms). A step that does not pass is tried
  once more (a passing stall of another process on the shared cores should not decide it);
  the ladder climbs while steps keep up. Reported per contender: the highest rate that passed
  (the *sustained rate*) and the highest it kept up with.
* contenders: ``cairn-serve`` (one ``cairn serve --workers 1``), ``bare`` (the FastAPI
  endpoint scoring the same booster, ``_predict_bare.py``) and ``cairn-x2``: two
  ``cairn serve --workers 1`` processes on the same project (one prediction log directory,
  as replicas share it) behind nginx (``/usr/sbin/nginx``, one worker process, round robin
  over keep-alive upstream connections); without nginx the load generator spreads its
  connections over the two replicas itself (client-side round robin). The report says which.
* at 1,000 requests/s: ``cairn-serve`` and ``bare`` in two alternating rounds (cairn, bare,
  then bare, cairn; latencies pooled), 5 s each (2 s with ``--quick``): p50/p99 and Cairn's
  p99 overhead (Cairn minus bare).
* per step: server CPU ms per request (psutil: the server processes, plus nginx), and the
  1-minute load average before the step; the load generator and every other process on the
  machine share its cores, so a busy machine lowers every sustained rate.

Usage: ``python benchmarks/throughput.py [--quick] [--keep]``. The last line printed is
``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
from _measure import latency_stats, run_child, self_command, work_folder  # noqa: E402
from _online_http import post_request  # noqa: E402
from _online_servers import Server, cairn_server, free_port, http_server  # noqa: E402
from _report import host_info, print_banner, print_bench_json  # noqa: E402
from predict import (  # noqa: E402
    MEM_CAP_MB,
    PATHS,
    REQUEST_TIMEOUT_S,
    SETUP_TIMEOUT_S,
    START_TIMEOUT_S,
    check_scores,
    server_cpu_s,
    start_server,
)

LADDER = (250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000, 4000)
P99_LIMIT_MS = 10.0
KEEP_UP_MS = 100.0
MIN_ACHIEVED = 0.95
AT_RATE = 1000
NGINX = Path("/usr/sbin/nginx")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--quick", action="store_true", help="2 s per step instead of 5 s")
    p.add_argument("--keep", action="store_true", help="keep the work folder (project, logs)")
    p.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--load", help=argparse.SUPPRESS)
    p.add_argument("--ports", help=argparse.SUPPRESS)
    p.add_argument("--rate", type=float, help=argparse.SUPPRESS)
    p.add_argument("--duration", type=float, help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def step_s(quick: bool) -> float:
    return 2.0 if quick else 5.0


# ----------------------------------------------------------------------------- children


def setup_main(args: argparse.Namespace) -> int:
    from _predict_project import write_setup
    from predict import customers

    work = Path(args.work)
    write_setup(work / "project", work / "bare", customers(args.quick), work / "setup.json")
    return 0


def load_main(args: argparse.Namespace) -> int:
    from _predict_load import run

    work = Path(args.work)
    setup = json.loads((work / "setup.json").read_text())
    ports = [int(p) for p in args.ports.split(",")]
    path = PATHS["bare" if args.load == "bare" else "cairn-serve"]
    body = [{"entities": {"customer_id": c}} for c in setup["customers"]]
    requests = [post_request(path, b, ports[0]) for b in body]
    result = run(ports, requests, args.rate, args.duration, REQUEST_TIMEOUT_S)
    Path(args.out).write_text(json.dumps(result.summary()))
    np.save(Path(args.out).with_suffix(".npy"), np.asarray(result.latencies_ms))
    return 0


# ----------------------------------------------------------------------------- servers


@contextmanager
def nginx_balancer(ports: Sequence[int], work: Path) -> Iterator[Server]:
    """nginx (one worker process) on a free port, round robin over ``ports`` with keep-alive
    upstream connections; stopped on exit."""
    prefix = work / "nginx"
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    port = free_port()
    upstream = "\n".join(f"    server 127.0.0.1:{p};" for p in ports)
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"""worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {prefix}/body;
  proxy_temp_path {prefix}/proxy;
  fastcgi_temp_path {prefix}/fastcgi;
  uwsgi_temp_path {prefix}/uwsgi;
  scgi_temp_path {prefix}/scgi;
  upstream cairn {{
{upstream}
    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://cairn;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""
    )
    cmd = [str(NGINX), "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"]
    with http_server("nginx", cmd, port, work / "logs", "/readyz", START_TIMEOUT_S) as server:
        yield server


def tree_cpu_s(servers: Sequence[Server]) -> float:
    """CPU seconds of the servers and their children (nginx's worker, uvicorn's)."""
    import psutil

    total = 0.0
    for server in servers:
        total += server_cpu_s(server)
        try:
            kids = psutil.Process(server.proc.pid).children(recursive=True)
        except psutil.Error:
            continue
        for kid in kids:
            try:
                t = kid.cpu_times()
            except psutil.Error:
                continue
            total += float(t.user + t.system)
    return total


# ----------------------------------------------------------------------------- parent


class Runner:
    """Runs load children against one contender and records each step."""

    def __init__(self, me: list[str], quick: bool, work: Path) -> None:
        self.me, self.quick, self.work = me, quick, work
        self.count = 0

    def step(
        self, name: str, ports: Sequence[int], measured: Sequence[Server], rate: float
    ) -> dict[str, Any] | None:
        self.count += 1
        tag = f"{self.count:03d}-{name}-{rate:g}"
        out_path = self.work / f"{tag}.json"
        cmd = [*self.me, "--load", name, "--ports", ",".join(map(str, ports))]
        cmd += ["--rate", str(rate), "--duration", str(step_s(self.quick)), "--out", str(out_path)]
        load = os.getloadavg()
        cpu0 = tree_cpu_s(measured)
        out = run_child(
            cmd,
            timeout_s=step_s(self.quick) + 60.0,
            mem_cap_mb=MEM_CAP_MB,
            log_dir=self.work / "logs",
            name=tag,
        )
        cpu = tree_cpu_s(measured) - cpu0
        if out.status != "ok" or not out_path.exists():
            print(f"  {name} @ {rate:g}: load child {out.status}: {out.last_line(200)}")
            return None
        summary: dict[str, Any] = json.loads(out_path.read_text())
        summary.update(
            {
                "name": name,
                "server_cpu_ms_per_req": cpu * 1000 / max(int(summary["ok"]), 1),
                "load_before": load[0],
                "latency_file": str(out_path.with_suffix(".npy")),
            }
        )
        return summary

    def ladder(
        self, name: str, ports: Sequence[int], measured: Sequence[Server]
    ) -> tuple[float, float, list[dict[str, Any]]]:
        """The highest rate of :data:`LADDER` that passed, the highest it kept up with, and
        every step run. The ladder climbs while the server keeps up (a busy machine may push
        one step's p99 over the limit while a higher step passes)."""
        sustained = kept_up = 0.0
        steps: list[dict[str, Any]] = []
        for rate in LADDER:
            best: dict[str, Any] | None = None
            for attempt in range(2):
                s = self.step(name, ports, measured, rate)
                if s is None:
                    break
                s["attempt"] = attempt
                s["passed"] = passes(s)
                s["kept_up"] = keeps_up(s)
                steps.append(s)
                print_step(s)
                if best is None or s["passed"] or (s["kept_up"] and not best["kept_up"]):
                    best = s
                if s["passed"]:
                    break
            if best is None or not best["kept_up"]:
                break
            kept_up = float(rate)
            if best["passed"]:
                sustained = float(rate)
        return sustained, kept_up, steps


def keeps_up(s: dict[str, Any]) -> bool:
    """No error, the rate achieved, p99 within :data:`KEEP_UP_MS` (not falling behind)."""
    return (
        int(s["errors"]) == 0
        and float(s["p99_ms"]) <= KEEP_UP_MS
        and float(s["achieved_rps"]) >= MIN_ACHIEVED * float(s["rate"])
    )


def passes(s: dict[str, Any]) -> bool:
    return (
        int(s["errors"]) == 0
        and float(s["p99_ms"]) <= P99_LIMIT_MS
        and float(s["achieved_rps"]) >= MIN_ACHIEVED * float(s["rate"])
    )


def print_step(s: dict[str, Any]) -> None:
    verdict = "ok" if s["passed"] else "FAIL"
    print(
        f"  {s['name']:<11} {s['rate']:>6g}/s  ach {s['achieved_rps']:>7.1f}  "
        f"p50 {s['p50_ms']:>6.2f}  p99 {s['p99_ms']:>7.2f} ms  err {s['errors']:>4}  "
        f"cpu {s['server_cpu_ms_per_req']:.3f} ms/req  load1 {s['load_before']:.2f}  {verdict}"
        + ("  (retry)" if s.get("attempt") else "")
    )


def at_rate(runner: Runner, servers: dict[str, Server]) -> dict[str, dict[str, Any]]:
    """Cairn and bare at :data:`AT_RATE`, two alternating rounds, latencies pooled."""
    parts: dict[str, list[dict[str, Any]]] = {"cairn-serve": [], "bare": []}
    for order in (("cairn-serve", "bare"), ("bare", "cairn-serve")):
        for name in order:
            s = runner.step(name, [servers[name].port], [servers[name]], AT_RATE)
            if s is not None:
                parts[name].append(s)
    out: dict[str, dict[str, Any]] = {}
    for name, runs in parts.items():
        if not runs:
            continue
        ms = np.concatenate([np.load(r["latency_file"]) for r in runs])
        ok = sum(int(r["ok"]) for r in runs)
        cpu = sum(float(r["server_cpu_ms_per_req"]) * int(r["ok"]) for r in runs)
        out[name] = {
            **latency_stats(ms),
            "ok": ok,
            "errors": sum(int(r["errors"]) for r in runs),
            "server_cpu_ms_per_req": cpu / max(ok, 1),
            "round_p99_ms": [r["p99_ms"] for r in runs],
            "load_before": [r["load_before"] for r in runs],
        }
    return out


def parent_main(args: argparse.Namespace) -> int:
    machine = host_info(("cairn", "fastapi", "uvicorn", "lightgbm", "uvloop"))
    print_banner("throughput", "quick" if args.quick else "full", machine)
    balancer = "nginx" if NGINX.exists() and shutil.which(str(NGINX)) else "client round robin"
    result: dict[str, Any] = {
        "sustained_rps": {},
        "kept_up_rps": {},
        "ladders": {},
        "at_1000": {},
    }
    check: dict[str, Any] = {}
    with work_folder("cairn_bench_throughput_", args.keep) as work:
        me = self_command(__file__, "--work", str(work))
        quick = ["--quick"] if args.quick else []
        t0 = time.perf_counter()
        out = run_child(
            [*me, "--setup", *quick],
            timeout_s=SETUP_TIMEOUT_S,
            mem_cap_mb=MEM_CAP_MB,
            log_dir=work / "logs",
            name="setup",
        )
        if out.status != "ok":
            print(f"setup failed ({out.status}):\n{out.stderr_tail}")
            return 1
        setup = json.loads((work / "setup.json").read_text())
        print(
            f"project: {setup['champion']}, {len(setup['customers'])} customers; built in "
            f"{time.perf_counter() - t0:.0f} s (untimed); step {step_s(args.quick):g} s, "
            f"pass: p99 <= {P99_LIMIT_MS:g} ms, no error, >= {MIN_ACHIEVED:.0%} of the rate "
            f"achieved (a failed step is tried once more); replicas behind {balancer}"
        )
        runner = Runner([*me, *quick], args.quick, work)
        with ExitStack() as stack:
            servers = {
                "cairn-serve": stack.enter_context(start_server("cairn-serve", work)),
                "bare": stack.enter_context(start_server("bare", work)),
            }
            replica = stack.enter_context(
                cairn_server(
                    Path(sys.executable).parent / "cairn",
                    work / "project",
                    work / "logs" / "replica",
                    START_TIMEOUT_S,
                    health="/readyz",
                )
            )
            pair = [servers["cairn-serve"], replica]
            if balancer == "nginx":
                lb = stack.enter_context(nginx_balancer([s.port for s in pair], work))
                pair_ports, pair_measured = [lb.port], [*pair, lb]
            else:
                pair_ports, pair_measured = [s.port for s in pair], pair
            check = check_scores(servers, setup)
            for name, server in servers.items():  # warm-up, discarded
                runner.step(name, [server.port], [server], 100)
            runner.step("cairn-x2", pair_ports, pair_measured, 100)
            print(f"\nat {AT_RATE:,} requests/s (two alternating rounds, pooled):")
            result["at_1000"] = at_rate(runner, servers)
            for name, row in result["at_1000"].items():
                print(
                    f"  {name:<11} p50 {row['p50_ms']:.2f}  p99 {row['p99_ms']:.2f} ms "
                    f"(rounds {', '.join(f'{v:.2f}' for v in row['round_p99_ms'])})  "
                    f"err {row['errors']}  cpu {row['server_cpu_ms_per_req']:.3f} ms/req"
                )
            print("\nladder:")
            for name, ports, measured in (
                ("cairn-serve", [servers["cairn-serve"].port], [servers["cairn-serve"]]),
                ("bare", [servers["bare"].port], [servers["bare"]]),
                ("cairn-x2", pair_ports, pair_measured),
            ):
                sustained, kept_up, steps = runner.ladder(name, ports, measured)
                result["sustained_rps"][name] = sustained
                result["kept_up_rps"][name] = kept_up
                result["ladders"][name] = steps
    at = result["at_1000"]
    overhead = None
    if "cairn-serve" in at and "bare" in at:
        overhead = at["cairn-serve"]["p99_ms"] - at["bare"]["p99_ms"]
    result["p99_overhead_at_1000_ms"] = overhead
    print(
        f"\nhighest rate with p99 <= {P99_LIMIT_MS:g} ms / kept up with (no error, p99 <= "
        f"{KEEP_UP_MS:g} ms):"
    )
    for name, rate in result["sustained_rps"].items():
        label = {"cairn-x2": f"2 x cairn serve --workers 1 ({balancer})"}.get(name, name)
        kept = result["kept_up_rps"][name]
        print(f"  {label:<45} {rate:>6,.0f} / {kept:>6,.0f} requests/s")
    if overhead is not None:
        print(
            f"p99 at {AT_RATE:,}/s: cairn {at['cairn-serve']['p99_ms']:.2f} ms, bare "
            f"{at['bare']['p99_ms']:.2f} ms -> Cairn overhead {overhead:+.2f} ms"
        )
    print(
        f"caveat: the load generator, the servers and every other process share "
        f"{machine['nproc']} CPUs; 1-min load average now {os.getloadavg()[0]:.2f}"
    )
    payload = {
        "benchmark": "throughput",
        "quick": args.quick,
        "machine": machine,
        "balancer": balancer,
        "p99_limit_ms": P99_LIMIT_MS,
        "check": check,
        **result,
    }
    print_bench_json(payload)
    wrong = check.get("max_abs_score_diff", 1.0) > 1e-12
    return 1 if wrong or not result["sustained_rps"] else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.setup:
        return setup_main(args)
    if args.load:
        return load_main(args)
    return parent_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
