"""Dashboard benchmark: every page's render time on the quickstart project and on the same
project grown to 1,000 registered versions (1,000 MLflow runs) and 100 deployments, beside the
same listing read through MLflow's own API.

What is measured: the project is built (``_dashboard_project.py``: the quickstart project with an
hour of traffic; then 10 models × 100 versions from runs with metrics, every third version
approved, champions and challengers moved through the registry's governance, 100 deployments, one
in four with a canary, an hour of predictions for each, and refused self-reviews until the audit
log holds 10,000 entries). Each state is then measured in a fresh interpreter (``--measure PATH``,
so the first render pays what a freshly started ``cairn ui`` pays, with its modules' bytecode
compiled as in an install). The pages are not listed here: the dashboard's own crawl
(``cairn.ui.web.crawl``, what ``cairn ui --check`` runs) renders the Overview and every page linked
from it, breadth first, up to ``--max-pages`` (its time is the cold render); the first page of each
route shape (``/ui/models/*``, ``/ui/audit?page``, ...) is then fetched ``--repeat`` times with the
TestClient: p50 and p95. The peer: the same listing through ``MlflowClient``
(``search_registered_models`` and ``search_model_versions`` per model for the Models page;
``search_model_versions`` and ``search_runs`` of the page's 50 runs for the largest model's page),
timed the same way in the same process before any page; the ratio is Cairn's p50 over MLflow's. The
target is 200 ms a page on the quickstart project. Nothing is asserted beyond each timed page
answering 200; a linked page that answers an error is listed with its status.

Usage: ``.venv-bench/bin/python benchmarks/dashboard.py [--quick] [--repeat N]
[--keep DIR]``. The last line printed is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET_MS = 200.0


def shape(url: str) -> str:
    """The route a URL belongs to: ``/ui/models/segment-01`` -> ``/ui/models/*``, query values
    dropped (``/ui/audit?subject=x`` -> ``/ui/audit?subject``).

    Example
    -------
    >>> shape("/ui/models/credit-default?page=2"), shape("/ui/audit?subject=a&action=b")
    ('/ui/models/*?page', '/ui/audit?action&subject')
    >>> shape("/ui/"), shape("/ui/?page=2")
    ('/ui/', '/ui/?page')
    """
    path, _, query = url.partition("?")
    parts = path.rstrip("/").split("/")
    route = "/".join(parts[:3] + ["*"] * (len(parts) > 3))
    route = route + "/" if route == "/ui" else route
    keys = sorted({kv.split("=", 1)[0] for kv in query.split("&") if kv})
    return route + ("?" + "&".join(keys) if keys else "")


def measure(path: Path, repeat: int, max_pages: int) -> dict[str, Any]:
    """Time the pages of the project at ``path`` (run in a fresh interpreter): the dashboard's
    own crawl (:func:`cairn.ui.web.crawl.crawl`, what ``cairn ui --check`` runs) renders
    every page linked from the Overview once (the cold render); the first page of each route
    shape is then fetched ``repeat`` times."""
    began = time.perf_counter()
    from cairn.app.project import Project
    from cairn.ui.web import standalone_app
    from cairn.ui.web.crawl import crawl, in_process_client

    project = Project.open(path)
    opened_s = time.perf_counter() - began
    with in_process_client(standalone_app(project)) as client:
        peers, biggest = mlflow_listing(project, repeat)
        visits = crawl(client, "/ui/", max_pages=max_pages)
        first: dict[str, Any] = {}
        for visit in visits:
            first.setdefault(shape(visit.path), visit)
        chosen = [(v.path, v.status, v.milliseconds) for v in first.values()]
        if f"/ui/models/{biggest}" not in {c[0] for c in chosen}:  # the page MLflow's listing
            start = time.perf_counter()  # is timed beside
            status = client.get(f"/ui/models/{biggest}").status_code
            chosen.append((f"/ui/models/{biggest}", status, 1000 * (time.perf_counter() - start)))
        pages = []
        for url, status, cold in chosen:
            if status != 200:  # a linked page that answers an error: listed, not timed
                pages.append({"url": url, "status": status, "cold_ms": cold})
                continue
            runs = []
            for _ in range(repeat):
                start = time.perf_counter()
                assert client.get(url).status_code == 200, url
                runs.append(1000 * (time.perf_counter() - start))
            p50, p95 = _quantile(runs, 0.5), _quantile(runs, 0.95)
            pages.append({"url": url, "status": status, "cold_ms": cold,
                          "p50_ms": p50, "p95_ms": p95})  # fmt: skip
    project.close()
    return {"opened_s": opened_s, "pages": pages, "peers": peers, "crawled": len(visits)}


def mlflow_listing(project: Any, repeat: int) -> tuple[dict[str, dict[str, Any]], str]:
    """The Models page's and the largest model's page's listings through ``MlflowClient``
    (timed before any page, so the pages' first renders stay cold); and that model's name."""
    client = project.tracker.client
    experiment = project.tracker.experiment_id()

    def models() -> Any:
        found = client.search_registered_models(max_results=1000)
        return [(m.name, len(client.search_model_versions(f"name = '{m.name}'",
                                                          max_results=10_000)))
                for m in found]  # fmt: skip

    listed = models()
    biggest = max(listed, key=lambda m: (m[1], m[0]))[0]

    def model_page() -> Any:
        versions = client.search_model_versions(f"name = '{biggest}'", max_results=10_000)
        newest = sorted(versions, key=lambda v: -int(v.version))[:50]
        ids = ", ".join(f"'{v.run_id}'" for v in newest if v.run_id)
        return client.search_runs([experiment], filter_string=f"attributes.run_id IN ({ids})",
                                  max_results=50)  # fmt: skip

    out = {}
    for page, fn in (("/ui/models", models), (f"/ui/models/{biggest}", model_page)):
        fn()
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            runs.append(1000 * (time.perf_counter() - start))
        out[page] = {"p50_ms": _quantile(runs, 0.5), "p95_ms": _quantile(runs, 0.95)}
    return out, biggest


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_measure(path: Path, repeat: int, pycache: Path, max_pages: int) -> dict[str, Any]:
    """:func:`measure` in a fresh interpreter (``--measure``), its JSON read back. The child
    writes and reads compiled bytecode under ``pycache`` (as an install has it compiled: a
    first render must not pay for compiling every module it imports; run once before to fill
    it)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent / "src"), env.get("PYTHONPATH", "")])
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--measure", str(path),
         "--repeat", str(repeat), "--max-pages", str(max_pages)],
        capture_output=True, text=True, env=env, check=False, timeout=3600,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"measuring {path} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def report(title: str, result: dict[str, Any]) -> None:
    """One table: each page's cold, p50 and p95 render, and MLflow's listing beside it."""
    print(f"\n{title} (project opened in {result['opened_s']:.2f} s; {result['crawled']} pages "
          f"crawled, the first of each route timed)")  # fmt: skip
    print(f"{'page':<52} {'status':>6} {'cold ms':>8} {'p50 ms':>7} {'p95 ms':>7}  "
          f"{'MLflow API p50':>14} {'ratio':>6}")  # fmt: skip
    for p in result["pages"]:
        if "p50_ms" not in p:
            print(f"{p['url'][:52]:<52} {p['status']:>6}  (not timed: the page answers "
                  f"{p['status']})")  # fmt: skip
            continue
        peer = result["peers"].get(p["url"])
        beside = (f"{peer['p50_ms']:>14.1f} {p['p50_ms'] / peer['p50_ms']:>5.1f}×"
                  if peer else f"{'':>14} {'':>6}")  # fmt: skip
        flag = "" if p["p50_ms"] <= TARGET_MS else "  (over 200 ms)"
        print(f"{p['url'][:52]:<52} {p['status']:>6} {p['cold_ms']:>8.1f} {p['p50_ms']:>7.1f} "
              f"{p['p95_ms']:>7.1f}  {beside}{flag}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 models × 30 versions, 20 deployments, 5 repeats")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=None, help="GETs per page (default 20)")
    parser.add_argument("--keep", type=Path, default=None, help="build the project here")
    parser.add_argument("--max-pages", type=int, default=300, help="pages the crawl renders")
    parser.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    repeat = args.repeat or (5 if args.quick else 20)
    if args.measure is not None:
        print(json.dumps(measure(args.measure, repeat, args.max_pages)))
        return
    sys.path.insert(0, str(HERE))
    from _dashboard_project import grow, quickstart
    from _report import (
        load_note,
        machine_info,
        package_versions,
        print_banner,
        print_bench_json,
        run_facts,
    )

    machine = machine_info()
    print_banner("dashboard", "quick" if args.quick else "full", machine)
    size = {"models": 10, "versions": 100, "deployments": 100, "audit_entries": 10_000}
    if args.quick:
        size = {"models": 3, "versions": 30, "deployments": 20, "audit_entries": 2_000}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        path = (args.keep or Path(tmp)) / "credit"
        began = time.perf_counter()
        author, officer = quickstart(path)
        built_s = time.perf_counter() - began
        pycache = Path(tmp) / "pycache"
        run_measure(path, 1, pycache, 30)  # compiles what the pages import (not shown)
        small = run_measure(path, repeat, pycache, args.max_pages)
        grown = grow(path, author, officer, per_deployment=240, **size)
        large = run_measure(path, repeat, pycache, args.max_pages)
    load_after = os.getloadavg()
    print(f"quickstart project built in {built_s:.0f} s; grown in {grown.seconds:.0f} s: "
          f"{grown.models} more models, {grown.versions:,} versions (one MLflow run each), "
          f"{grown.deployments} deployments ({grown.canaries} canaries), "
          f"{grown.predictions:,} predictions in the last hour, "
          f"{grown.audit_entries:,} audit entries; {repeat} GETs a page")  # fmt: skip
    report("quickstart project", small)
    report(f"grown: {grown.versions:,} versions, {grown.deployments + 1} deployments", large)
    worst = max((p for p in small["pages"] if "p50_ms" in p), key=lambda p: p["p50_ms"])
    print(f"\nslowest quickstart page: {worst['url']} p50 {worst['p50_ms']:.1f} ms "
          f"(target {TARGET_MS:.0f} ms)")  # fmt: skip
    print(load_note(load_before, load_after))
    versions = package_versions(["mlflow", "starlette", "jinja2"])
    print_bench_json({"dashboard": {"quickstart": small, "grown": large,
                                    "grown_size": vars(grown), "repeat": repeat},
                      **run_facts(machine, versions, (load_before, load_after))})  # fmt: skip


if __name__ == "__main__":
    main()
