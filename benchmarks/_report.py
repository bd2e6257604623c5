"""Reporting helpers shared by the benchmark scripts: the ``--only`` list, machine facts and
package versions, the results table, notes and the JSON they write and print.

Nothing here imports numpy or pandas: the parents of some benchmarks stay small on purpose
(a child's peak RSS starts from its parent's).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import psutil

D = TypeVar("D")


# ----------------------------------------------------------------------------- command line


def bench_parser(doc: str | None, *, quick: str, only: str) -> argparse.ArgumentParser:
    """A parser (described by the first line of ``doc``) with the options every comparison
    benchmark has: ``--quick`` and ``--only NAME`` (read it with :func:`pick_names`)."""
    p = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    p.add_argument("--quick", action="store_true", help=quick)
    p.add_argument("--only", action="append", default=[], metavar="NAME", help=only)
    return p


def pick_names(
    only: list[str], order: Sequence[str], default: Sequence[str] | None = None
) -> tuple[list[str], list[str]]:
    """``--only`` values (repeated or comma-separated) as (known names in ``order``, unknown).

    With no names given, the first list is ``default`` (all of ``order`` when None).
    """
    names = [n.strip() for item in only for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in order]
    if not names:
        return list(order if default is None else default), unknown
    return [n for n in order if n in names], unknown


# ----------------------------------------------------------------------------- JSON files


def write_json(path: Path, obj: dict[str, Any]) -> None:
    """Write ``obj`` as indented JSON (non-JSON values as strings)."""
    path.write_text(json.dumps(obj, indent=1, default=str) + "\n")


def read_json(path: Path) -> dict[str, Any]:
    """The JSON object a child wrote to ``path``; ``{}`` when it wrote none."""
    if not path.exists():
        return {}
    report: dict[str, Any] = json.loads(path.read_text())
    return report


# ----------------------------------------------------------------------------- machine facts


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or ``"unknown CPU"``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _ram_gb() -> float:
    return round(psutil.virtual_memory().total / 2**30, 1)


def machine_info() -> dict[str, Any]:
    """Date (UTC), usable cores, total RAM and CPU model of this machine."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "nproc": len(os.sched_getaffinity(0)),
        "ram_gb": _ram_gb(),
        "cpu": cpu_model(),
    }


def host_info(packages: Sequence[str], *, ram: bool = True) -> dict[str, Any]:
    """The machine facts of the serving benchmarks (predict, reason codes): CPU, ``cpu_count``,
    RAM (unless ``ram`` is False), date to the minute, Python and ``packages``' versions."""
    info: dict[str, Any] = {"cpu": cpu_model(), "nproc": os.cpu_count()}
    if ram:
        info["ram_gb"] = _ram_gb()
    info["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    info["python"] = sys.version.split()[0]
    info["versions"] = package_versions(packages, missing=None)
    return info


def package_versions(
    packages: Iterable[str], missing: str | None = "not installed"
) -> dict[str, str | None]:
    """Installed version of each distribution, ``missing`` for those not installed."""
    out: dict[str, str | None] = {}
    for dist in packages:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = missing
    return out


def versions_of(packages: Iterable[str]) -> dict[str, str | None]:
    """Python's version, then each distribution's (``"not installed"`` when missing)."""
    return {"python": sys.version.split()[0], **package_versions(packages)}


def print_banner(benchmark: str, mode: str, machine: dict[str, Any]) -> None:
    """The first line of a run: which benchmark, in which mode, on which machine, when."""
    print(
        f"{benchmark} benchmark ({mode}) on {machine['cpu']} x{machine['nproc']}, "
        f"{machine['ram_gb']} GB RAM, {machine['date']}"
    )


def data_location(root: Path, quick: bool) -> tuple[Path, float]:
    """Folder and scale of a benchmark's data set: ``root/quick`` at 0.1, ``root/full`` at 1."""
    return root / ("quick" if quick else "full"), 0.1 if quick else 1.0


def open_run(
    benchmark: str, quick: bool, data_root: Path, ensure: Callable[[Path, float], tuple[D, bool]]
) -> tuple[dict[str, Any], D]:
    """Start a run over a generated data set: print the banner, then ``ensure`` the data (under
    :func:`data_location`) and print whether it was generated or reused and how long that took
    (never part of a timing). Returns the machine facts and the data set."""
    machine = machine_info()
    print_banner(benchmark, "quick, 10x smaller" if quick else "full size", machine)
    root, scale = data_location(data_root, quick)
    t0 = time.perf_counter()
    data, generated = ensure(root, scale)
    print(
        f"data: {'generated' if generated else 'reused'} {root} "
        f"({time.perf_counter() - t0:.1f} s, excluded from timings)"
    )
    return machine, data


# ----------------------------------------------------------------------------- output


def cell(value: float | None, fmt: str, suffix: str = "") -> str:
    """A table cell: ``value`` formatted with ``fmt`` plus ``suffix``, or ``-`` for None."""
    return "-" if value is None else format(value, fmt) + suffix


def wall_header(most: int) -> str:
    """The wall-time column's name when a contender's best of ``most`` calls is shown."""
    return f"wall s (best of {most})" if most > 1 else "wall s"


def print_table(
    title: str, header: Sequence[str], rows: Iterable[Sequence[str]], details: Iterable[str] = ()
) -> None:
    """Print ``title``, then the rows under ``header`` in left-aligned columns two spaces apart
    with a dashed rule below the header, then each of ``details`` on its own indented line."""
    table = [list(header), *(list(r) for r in rows)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    print(title)
    print("\n".join(lines))
    for line in details:
        print(f"  {line}")


def load_text(avg: Sequence[float]) -> str:
    """A load average triple as ``"1.00 0.50 0.25"``."""
    return " ".join(f"{x:.2f}" for x in avg)


def load_note(before: Sequence[float], after: Sequence[float], extra: str = "") -> str:
    """The notes' line on the load average before and after the measured runs."""
    return (
        f"  load average before/after: {load_text(before)} / {load_text(after)}"
        f" (other work on the box inflates times{extra})"
    )


def run_facts(
    machine: dict[str, Any],
    versions: dict[str, str | None],
    load: tuple[Sequence[float], Sequence[float]],
) -> dict[str, Any]:
    """The ``machine``, ``versions`` and ``loadavg_before/after`` entries of a BENCH_JSON."""
    return {
        "machine": machine,
        "versions": versions,
        "loadavg_before": list(load[0]),
        "loadavg_after": list(load[1]),
    }


def print_bench_json(payload: dict[str, Any], *, compact: bool = True) -> None:
    """Print the run's last line, ``BENCH_JSON {...}`` (``compact``: no spaces after , and :)."""
    separators = (",", ":") if compact else None
    print("BENCH_JSON " + json.dumps(payload, separators=separators, default=str))
