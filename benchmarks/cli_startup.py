"""CLI start-up benchmark: wall time of `cairn` commands beside issue 13's targets, and optionally
beside an older source tree of Cairn.

What is measured (issue 13): the wall time, as a user sees it, of one whole ``cairn`` process,
started with ``subprocess.run`` (output captured) and timed with ``perf_counter`` from spawn to
exit. Sections (``--only``):

* ``top``: ``cairn --help`` (target 0.5 s) and ``cairn version`` (target 0.3 s);
* ``groups``: ``cairn <group> --help`` for each command group (target 0.5 s), the groups
  enumerated from the Typer app of the environment under test;
* ``project``: commands doing small real work on the example credit project, created once with
  ``cairn init DIR`` then ``cairn apply --repo DIR`` (setup, not timed): ``features list``,
  ``status``, ``audit verify``, ``models list`` (``--repo DIR``). Target: a command's own
  start-up <= 1 s; the figure is start-up plus the small work, so it is an upper bound of it;
* ``imports``: ``python -c "import cairn"``, ``python -c "import cairn.cli.main"`` and the bare
  interpreter (``python -c pass``) they include. No target; shown for the import-cost profile.

The ``cairn`` under test is the ``cairn`` script beside this interpreter
(``Path(sys.executable).parent / "cairn"``), so ``make bench`` measures ``.venv-bench``'s.
Every command runs once as a warm-up (it also writes the ``.pyc`` caches: children run without
``PYTHONDONTWRITEBYTECODE`` and ``PYTHONPATH``, as installs have compiled bytecode), then
``--runs`` times (10; ``--quick``: 3); the table shows the median and the max. A verdict is
"ok" when the median is within the target, "MISSED" otherwise. Nothing is asserted.

``--before PATH`` (a source tree of an older Cairn, or its ``src`` folder) adds a like-for-like
table: the same interpreter runs ``python -c "from cairn.cli.main import main; main()" ARGS``
with ``PYTHONPATH=PATH/src`` (before) and with ``PYTHONPATH=<this repo>/src`` (after), rounds
interleaved (the second variant first on odd rounds) so background load hits both alike.

At the end: the 10 slowest imports of ``cairn version`` (``python -X importtime``, one run), by
cumulative time among third-party packages and by self time among all modules.

Usage: ``.venv-bench/bin/python benchmarks/cli_startup.py [--quick] [--only SECTION[,SECTION]]
[--runs N] [--before PATH] [--keep]``. The last line printed is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _measure import work_folder  # noqa: E402
from _report import (  # noqa: E402
    bench_parser,
    cell,
    load_note,
    machine_info,
    pick_names,
    print_banner,
    print_bench_json,
    print_table,
    run_facts,
    versions_of,
)

REPO = HERE.parent
SECTIONS = ("top", "groups", "project", "imports")
PACKAGES = ("cairn", "typer", "click", "rich", "pydantic", "mlflow")
HELP_S = 0.5
VERSION_S = 0.3
COMMAND_S = 1.0
TIMEOUT_S = 300.0
MAIN = "import sys; from cairn.cli.main import main; sys.argv[0] = 'cairn'; main()"
GROUPS = """
import json, typer.main
from cairn.cli.main import app
command = typer.main.get_command(app)
print(json.dumps(sorted(n for n, c in command.commands.items() if getattr(c, "commands", None))))
"""
PROJECT_COMMANDS = (("features", "list"), ("status",), ("audit", "verify"), ("models", "list"))


# ----------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Case:
    """One command to time: ``args`` after ``cairn`` (``python``: a ``python -c`` code)."""

    section: str
    label: str
    args: tuple[str, ...] = ()
    code: str | None = None
    target_s: float | None = None


@dataclass(frozen=True)
class Variant:
    """How a case is started: by the ``cairn`` script, or by ``python -c`` on a source tree."""

    name: str
    src: Path | None = None
    """The ``PYTHONPATH`` of a source-tree variant; None: the installed ``cairn`` script."""

    def argv(self, case: Case) -> list[str]:
        if case.code is not None:
            return [sys.executable, "-c", case.code]
        if self.src is None:
            return [str(cairn_script()), *case.args]
        return [sys.executable, "-c", MAIN, *case.args]

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "PYTHONPROFILEIMPORTTIME"}
        }
        if self.src is not None:
            env["PYTHONPATH"] = str(self.src)
        return env

    def shown(self, case: Case) -> str:
        """The command as a user would type it."""
        if case.code is not None:
            cmd = f'python -c "{case.code}"'
        elif self.src is None:
            return " ".join(["cairn", *case.args])
        else:
            cmd = " ".join(['python -c "from cairn.cli.main import main; main()"', *case.args])
        return f"PYTHONPATH={self.src} {cmd}" if self.src else cmd


@dataclass
class Timing:
    """One case under one variant: its timed runs (seconds) or why it has none."""

    section: str
    label: str
    variant: str
    command: str
    target_s: float | None
    status: str = "ok"
    runs_s: list[float] = field(default_factory=list)
    error: str = ""

    @property
    def median_s(self) -> float | None:
        return statistics.median(self.runs_s) if self.runs_s else None

    @property
    def max_s(self) -> float | None:
        return max(self.runs_s) if self.runs_s else None

    @property
    def verdict(self) -> str:
        if self.status != "ok":
            return self.status
        median = self.median_s
        if self.target_s is None or median is None:
            return "-"
        return "ok" if median <= self.target_s else "MISSED"

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "median_s": self.median_s, "max_s": self.max_s}


def cairn_script() -> Path:
    return Path(sys.executable).parent / "cairn"


def source_tree(path: str) -> Path:
    """The folder holding the ``cairn`` package of ``path`` (a checkout or its ``src``)."""
    root = Path(path).resolve()
    for candidate in (root / "src", root):
        if (candidate / "cairn" / "cli" / "main.py").is_file():
            return candidate
    raise SystemExit(f"--before {path}: expected a Cairn source tree (src/cairn/cli/main.py)")


def command_groups() -> list[str]:
    """Names of the command groups of the ``cairn`` under test."""
    done = subprocess.run(
        [sys.executable, "-c", GROUPS],
        capture_output=True,
        text=True,
        env=Variant("cairn").env(),
        timeout=TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"cannot list the command groups:\n{done.stderr[-2000:]}")
    groups: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return groups


def build_cases(sections: Sequence[str], project: Path | None) -> list[Case]:
    cases: list[Case] = []
    if "top" in sections:
        cases.append(Case("top", "cairn --help", ("--help",), target_s=HELP_S))
        cases.append(Case("top", "cairn version", ("version",), target_s=VERSION_S))
    if "groups" in sections:
        for group in command_groups():
            cases.append(Case("groups", f"cairn {group} --help", (group, "--help"), None, HELP_S))
    if "project" in sections and project is not None:
        for words in PROJECT_COMMANDS:
            args = (*words, "--repo", str(project))
            cases.append(Case("project", f"cairn {' '.join(words)}", args, None, COMMAND_S))
    if "imports" in sections:
        for code in ("pass", "import cairn", "import cairn.cli.main"):
            cases.append(Case("imports", f"python -c {code!r}", code=code))
    return cases


# ----------------------------------------------------------------------------- running


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, exit code and stderr tail of one process."""
    t0 = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=TIMEOUT_S)
    elapsed = time.perf_counter() - t0
    return elapsed, done.returncode, (done.stderr or done.stdout)[-600:]


def measure(cases: Sequence[Case], variants: Sequence[Variant], runs: int) -> list[Timing]:
    """Warm every (case, variant) once, then time ``runs`` rounds of all of them."""
    timings = {
        (c, v.name): Timing(c.section, c.label, v.name, v.shown(c), c.target_s)
        for c in cases
        for v in variants
    }
    for case in cases:
        for variant in variants:
            _, code, err = run_once(variant.argv(case), variant.env())
            if code != 0:
                timing = timings[(case, variant.name)]
                timing.status, timing.error = f"exit {code}", err
    for round_ in range(runs):
        order = list(variants) if round_ % 2 == 0 else list(reversed(variants))
        for case in cases:
            for variant in order:
                timing = timings[(case, variant.name)]
                if timing.status == "ok":
                    timing.runs_s.append(run_once(variant.argv(case), variant.env())[0])
    return list(timings.values())


def make_project(work: Path) -> tuple[Path | None, str]:
    """The example credit project, initialised and applied by the ``cairn`` under test."""
    project = work / "credit"
    env = Variant("cairn").env()
    t0 = time.perf_counter()
    init = ("init", str(project), "--template", "credit")
    for args in (init, ("apply", "--repo", str(project))):
        _, code, err = run_once([str(cairn_script()), *args], env)
        if code != 0:
            return None, f"cairn {' '.join(args)} failed (exit {code}): {err.strip()}"
    return project, f"cairn init + apply: {time.perf_counter() - t0:.1f} s, excluded from timings"


def import_profile(args: Sequence[str], top: int = 10) -> dict[str, Any]:
    """``python -X importtime`` of ``cairn ARGS``: the slowest imports, cumulative (third-party
    packages) and self (every module), in milliseconds."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(cairn_script()), *args],
        capture_output=True,
        text=True,
        env=Variant("cairn").env(),
        timeout=TIMEOUT_S,
        check=False,
    )
    rows: list[tuple[str, float, float]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|", 2)
        rows.append((name.strip(), int(self_us) / 1000, int(cumulative_us) / 1000))
    installed = set(importlib.metadata.packages_distributions()) - {"cairn"}
    roots = [r for r in rows if r[0] in installed]
    by_cumulative = sorted(roots, key=lambda r: -r[2])[:top]
    by_self = sorted(rows, key=lambda r: -r[1])[:top]
    return {
        "command": f"python -X importtime {cairn_script()} {' '.join(args)}",
        "exit": done.returncode,
        "modules": len(rows),
        "total_self_ms": round(sum(r[1] for r in rows), 1),
        "cairn_modules": sum(1 for r in rows if r[0].split(".")[0] == "cairn"),
        "top_cumulative_ms": [(n, round(c, 1)) for n, _, c in by_cumulative],
        "top_self_ms": [(n, round(s, 1)) for n, s, _ in by_self],
    }


# ----------------------------------------------------------------------------- output


def print_current(timings: Sequence[Timing], runs: int) -> None:
    rows = [
        [
            t.label,
            cell(t.target_s, ".1f"),
            cell(t.median_s, ".3f"),
            cell(t.max_s, ".3f"),
            t.verdict,
        ]
        for t in timings
    ]
    header = ["command", "target s", f"median s ({runs} runs)", "max s", "verdict"]
    print()
    print_table(f"cairn under test: {cairn_script()}", header, rows)
    for t in timings:
        if t.error:
            print(f"  {t.label}: {t.status}: {t.error.strip().splitlines()[-1:]}")


def print_before_after(timings: Sequence[Timing], runs: int) -> None:
    by_key = {(t.label, t.variant): t for t in timings}
    rows = []
    for label in dict.fromkeys(t.label for t in timings):
        before, after = by_key[(label, "before")], by_key[(label, "after")]
        b, a = before.median_s, after.median_s
        rows.append(
            [
                label,
                cell(before.target_s, ".1f"),
                cell(b, ".3f") if before.status == "ok" else before.status,
                cell(before.max_s, ".3f"),
                cell(a, ".3f") if after.status == "ok" else after.status,
                cell(after.max_s, ".3f"),
                after.verdict,
                cell(b / a if a and b else None, ".1f", "x"),
            ]
        )
    header = [
        "command",
        "target s",
        "before median",
        "before max",
        "after median",
        "after max",
        "after verdict",
        "faster",
    ]
    example = next(t for t in timings if t.variant == "before" and t.section == "top")
    print()
    print_table(
        f"before / after, same interpreter, {runs} interleaved runs each (seconds)",
        header,
        rows,
        [
            f"before: {example.command}",
            f"after:  {by_key[(example.label, 'after')].command}",
        ],
    )


def print_profile(profile: dict[str, Any]) -> None:
    print()
    print(
        f"import profile: {profile['command']} (one run): {profile['modules']} modules, "
        f"{profile['cairn_modules']} of them cairn's, {profile['total_self_ms']} ms of imports"
    )
    cumulative = profile["top_cumulative_ms"]
    selfs = profile["top_self_ms"]
    print_table(
        "slowest imports",
        ["third-party package", "cumulative ms", "module", "self ms"],
        [
            [*(map(str, cumulative[i]) if i < len(cumulative) else ("", "")), *map(str, selfs[i])]
            for i in range(len(selfs))
        ],
    )


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = bench_parser(
        __doc__, quick="3 runs per command instead of 10", only=f"section: {', '.join(SECTIONS)}"
    )
    p.add_argument("--runs", type=int, help="timed runs per command (default 10, quick 3)")
    p.add_argument("--before", metavar="PATH", help="an older Cairn source tree to compare with")
    p.add_argument("--keep", action="store_true", help="keep the work folder (the project)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sections, unknown = pick_names(args.only, SECTIONS)
    if unknown:
        print(f"unknown section(s): {', '.join(unknown)}; known: {', '.join(SECTIONS)}")
        return 2
    if not cairn_script().exists():
        print(f"no cairn script beside this interpreter: {cairn_script()}")
        return 2
    runs = args.runs or (3 if args.quick else 10)
    before = source_tree(args.before) if args.before else None
    machine = machine_info()
    print_banner("cli_startup", f"{'quick, ' if args.quick else ''}{runs} runs", machine)
    with work_folder("cairn_bench_cli_", args.keep) as work:
        project, setup = make_project(work) if "project" in sections else (None, "")
        if setup:
            print(f"project: {setup}")
        cases = build_cases(sections, project)
        load_before = os.getloadavg()
        print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}")
        current = measure(cases, [Variant("cairn")], runs)
        compared: list[Timing] = []
        if before is not None:
            variants = [Variant("before", before), Variant("after", REPO / "src")]
            compared = measure(cases, variants, runs)
        profile = import_profile(("version",))
        load_after = os.getloadavg()
    print_current(current, runs)
    if compared:
        print_before_after(compared, runs)
    print_profile(profile)
    print("\nNotes:")
    print("  wall time of the whole process (spawn to exit), output captured; verdict: median vs")
    print("  target. Project commands include their small work: an upper bound of start-up.")
    print("  python -c 'pass' is the interpreter's own start-up, included in every other row.")
    print(load_note(load_before, load_after))
    print_bench_json(
        {
            "benchmark": "cli_startup",
            "quick": args.quick,
            "runs": runs,
            "cairn": str(cairn_script()),
            "before": str(before) if before else None,
            "targets_s": {"help": HELP_S, "version": VERSION_S, "command": COMMAND_S},
            **run_facts(machine, versions_of(PACKAGES), (load_before, load_after)),
            "results": [t.as_json() for t in current],
            "before_after": [t.as_json() for t in compared],
            "import_profile": profile,
        }
    )
    return 0 if all(t.status == "ok" for t in current) else 1


if __name__ == "__main__":
    sys.exit(main())
