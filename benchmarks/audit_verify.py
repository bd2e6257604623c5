"""Audit chain benchmark: append and `AuditLog.verify` on a 10,000-entry chain (SQLite), unsigned,
HMAC-SHA256 and Ed25519, and verify of a tampered chain (classification cost).

What is measured: the wall time of ``N`` appends through :meth:`AuditLog.append` (one transaction
each, the head signed when a key is configured), then ``verify()`` (every hash and link
recomputed, the head signature checked) as the median of 5, then ``verify`` with 100 checkpoints,
and the classification of the same rows in memory after an insertion with renumbering at the
middle (every later row moved). No peer: there is no comparable open tool. Nothing is asserted
beyond each verify's verdict.

Usage: ``.venv-bench/bin/python benchmarks/audit_verify.py [--quick] [--entries N]``. The last
line printed is ``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cairn.metadata import MetadataStore
from cairn.registry import AuditLog
from cairn.registry._chain import StoredEntry
from cairn.registry._classify import classify
from cairn.registry.anchor import Anchor, Ed25519Anchor, HmacAnchor


def _clock() -> Callable[[], datetime]:
    ticks = iter(range(10**9))
    return lambda: datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=next(ticks))


def measure(label: str, anchor: Anchor | None, entries: int, folder: Path) -> dict[str, Any]:
    store = MetadataStore(f"sqlite:///{folder / f'{label}.db'}")
    log = AuditLog(store.engine, "bench", anchor=anchor, now=_clock())
    start = time.perf_counter()
    for i in range(entries):
        log.append("ana", "note", f"credit/{i % 50}", {"i": i, "ticket": "MRR-2026-0001"})
    appended = time.perf_counter() - start
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        result = log.verify()
        runs.append(time.perf_counter() - start)
        assert result.ok and result.entries == entries, result.problems[:3]
    checkpoint = log.checkpoint()
    start = time.perf_counter()
    assert log.verify(checkpoints=[checkpoint] * 100).ok
    with_checkpoints = time.perf_counter() - start
    store.close()
    return {
        "signing": label,
        "entries": entries,
        "append_ms": 1000 * appended / entries,
        "verify_s": statistics.median(runs),
        "verify_100_checkpoints_s": with_checkpoints,
    }


def tampered(entries: int, folder: Path) -> float:
    """Seconds to classify the rows after a forged entry inserted mid-chain, the rest renumbered."""
    store = MetadataStore(f"sqlite:///{folder / 'unsigned.db'}")
    with store.engine.connect() as conn:
        rows = [
            StoredEntry(*r)
            for r in conn.exec_driver_sql(
                "SELECT seq, project, at, actor, action, subject, details, prev_hash, hash "
                "FROM cairn_audit_log WHERE project = 'bench' ORDER BY seq"
            )
        ]
    store.close()
    middle = entries // 2
    forged = StoredEntry(middle, "bench", rows[middle].at, "eve", "note", "s", "{}", "f" * 64, "")
    moved = [StoredEntry(r.seq + 1, *list(vars(r).values())[1:]) for r in rows[middle - 1 :]]
    attacked = [*rows[: middle - 1], forged, *moved]
    start = time.perf_counter()
    _, problems, _ = classify(attacked, (entries + 1, rows[-1].hash))
    took = time.perf_counter() - start
    assert problems and problems[0].seq == middle, problems[:2]
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 entries instead of 10,000")
    parser.add_argument("--entries", type=int, default=None)
    args = parser.parse_args()
    entries = args.entries or (2_000 if args.quick else 10_000)
    anchors: dict[str, Anchor | None] = {
        "unsigned": None,
        "hmac": HmacAnchor(b"k" * 32),
        "ed25519": Ed25519Anchor(private=Ed25519PrivateKey.generate()),
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = [measure(label, anchor, entries, folder) for label, anchor in anchors.items()]
        classify_s = tampered(entries, folder)
    print(f"audit chain of {entries:,} entries, SQLite")
    print(f"{'signing':<10} {'append ms':>10} {'verify s':>9} {'+100 checkpoints s':>19}")
    for r in rows:
        print(
            f"{r['signing']:<10} {r['append_ms']:>10.2f} {r['verify_s']:>9.3f} "
            f"{r['verify_100_checkpoints_s']:>19.3f}"
        )
    print(f"classify after a mid-chain insertion with renumbering: {classify_s:.3f} s")
    print("BENCH_JSON " + json.dumps({"audit_verify": rows, "classify_tampered_s": classify_s}))


if __name__ == "__main__":
    main()
