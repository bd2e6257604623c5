"""Seeded synthetic data for the quality benchmark: 20 columns of loan applications.

Full size: 1M and 5M rows (``--quick``: 100k and 500k). Columns: ``id`` (unique),
``customer_id`` (~5 rows per customer) with ``seq`` (unique per customer), ``amount``
(lognormal, 0.5 % null), ``income``, ``age``, ``term``, ``score``, ``status``, ``country``,
``email``, ``channel``, ``created_at``/``updated_at`` (UTC, updated >= created), ``pct_a`` +
``pct_b`` + ``pct_c`` = 100, ``flag``, ``balance``, ``label``. ``clean`` data passes all 20
checks of the benchmark suite; ``dirty`` data (same rows) breaks 6 of them in a few rows each.
Files are Parquet (zstd, 131,072-row row groups) in ``benchmarks/.data/quality/``, written
once and reused.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported inside the functions: the benchmark's parent process stays small
    import pyarrow as pa

GENERATOR_VERSION = 1
SEED = 20261126
COUNTRIES = ["DE", "FR", "ES", "IT", "NL", "BE", "AT", "PT", "PL", "SE", "DK", "FI", "IE", "GB"]
STATUSES = ["approved", "declined", "review", "pending"]
TERMS = [12, 24, 36, 48, 60]
CHANNELS = ["web", "app", "branch"]
COLUMNS = [
    "id",
    "customer_id",
    "seq",
    "amount",
    "income",
    "age",
    "term",
    "score",
    "status",
    "country",
    "email",
    "channel",
    "created_at",
    "updated_at",
    "pct_a",
    "pct_b",
    "pct_c",
    "flag",
    "balance",
    "label",
]
ROW_GROUP = 131_072
DIRTY_FAILURES = 6
"""Checks the dirty data fails: null ids, duplicate ids, ages out of range, an unknown status,
updated before created, shares not adding up to 100."""


def path_for(root: Path, rows: int, kind: str) -> Path:
    """Where the data set of ``rows`` rows (``clean`` or ``dirty``) lives."""
    return root / f"v{GENERATOR_VERSION}" / f"{kind}_{rows}.parquet"


def ensure(root: Path, rows: int) -> tuple[Path, Path, bool]:
    """The clean and dirty files of ``rows`` rows, generated when missing."""
    clean, dirty = path_for(root, rows, "clean"), path_for(root, rows, "dirty")
    if clean.exists() and dirty.exists():
        return clean, dirty, False
    clean.parent.mkdir(parents=True, exist_ok=True)
    table = generate(rows)
    _write(table, clean)
    _write(corrupt(table), dirty)
    return clean, dirty, True


def generate(n: int, seed: int = SEED) -> pa.Table:
    """``n`` clean rows."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng(seed)
    ids = np.arange(n, dtype=np.int64)
    perm = rng.permutation(n)  # customer = perm // 5, seq = perm % 5: (customer, seq) unique
    amount = rng.lognormal(8, 1, n)
    amount[rng.random(n) < 0.005] = np.nan
    created = np.datetime64("2025-01-01T00:00:00", "us") + rng.integers(
        0, 365 * 86_400_000_000, n
    ).astype("timedelta64[us]")
    updated = created + rng.integers(0, 30 * 86_400_000_000, n).astype("timedelta64[us]")
    pct_a = rng.integers(0, 101, n)
    pct_b = (rng.random(n) * (100 - pct_a + 1)).astype(np.int64)
    email = pc.binary_join_element_wise("user", pa.array(ids).cast(pa.string()), "@example.com", "")
    return pa.table(
        {
            "id": ids,
            "customer_id": (perm // 5).astype(np.int64),
            "seq": (perm % 5).astype(np.int64),
            "amount": pa.array(amount, from_pandas=True),
            "income": rng.normal(3000, 800, n),
            "age": rng.integers(18, 91, n),
            "term": np.array(TERMS)[rng.integers(0, len(TERMS), n)],
            "score": rng.random(n),
            "status": pa.array(np.array(STATUSES, dtype=object)[rng.integers(0, 4, n)]),
            "country": pa.array(np.array(COUNTRIES, dtype=object)[rng.integers(0, 14, n)]),
            "email": email,
            "channel": pa.array(np.array(CHANNELS, dtype=object)[rng.integers(0, 3, n)]),
            "created_at": pa.array(created).cast(pa.timestamp("us", tz="UTC")),
            "updated_at": pa.array(updated).cast(pa.timestamp("us", tz="UTC")),
            "pct_a": pct_a,
            "pct_b": pct_b,
            "pct_c": 100 - pct_a - pct_b,
            "flag": rng.random(n) < 0.1,
            "balance": rng.normal(10_000, 5_000, n),
            "label": (rng.random(n) < 0.2).astype(np.int64),
        }
    )


def corrupt(table: pa.Table, seed: int = SEED + 1) -> pa.Table:
    """The same rows with six kinds of fault, a few rows each."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    n = table.num_rows
    k = max(10, n // 10_000)

    def rows() -> np.ndarray[tuple[int], np.dtype[np.int64]]:
        return rng.choice(n, size=k, replace=False)

    ids = table["id"].to_numpy().astype(np.float64)
    ids[rows()] = np.nan  # null ids
    dup = rows()
    ids[dup] = ids[(dup + 1) % n]  # duplicate ids
    age = table["age"].to_numpy().copy()
    age[rows()] = 150
    status = np.array(table["status"].to_pylist(), dtype=object)
    status[rows()] = "unknown"
    updated = table["updated_at"].to_numpy().copy()
    bad = rows()
    updated[bad] = table["created_at"].to_numpy()[bad] - np.timedelta64(1, "h")
    pct_c = table["pct_c"].to_numpy().copy()
    pct_c[rows()] += 1
    out = table
    for name, values in (
        ("id", pa.array(ids, from_pandas=True).cast(pa.int64())),
        ("age", pa.array(age)),
        ("status", pa.array(status)),
        ("updated_at", pa.array(updated).cast(pa.timestamp("us", tz="UTC"))),
        ("pct_c", pa.array(pct_c)),
    ):
        out = out.set_column(out.schema.get_field_index(name), name, values)
    return out


def _write(table: pa.Table, path: Path) -> None:
    import pyarrow.parquet as pq

    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP)
    tmp.replace(path)
