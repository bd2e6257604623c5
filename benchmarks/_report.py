"""Reporting helpers shared by the benchmark scripts: machine facts and JSON files."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil


def write_json(path: Path, obj: dict[str, Any]) -> None:
    """Write ``obj`` as indented JSON (non-JSON values as strings)."""
    path.write_text(json.dumps(obj, indent=1, default=str) + "\n")


def machine_info() -> dict[str, Any]:
    """Date (UTC), usable cores, total RAM and CPU model of this machine."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "nproc": len(os.sched_getaffinity(0)),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "cpu": cpu,
    }
