"""The drift benchmark's seeded frames: a wide synthetic table and a bank-marketing-shaped one.

* ``wide`` (100k and 1M rows): 50 columns, 40 numeric (normal, log-normal, exponential, integer
  with many ties, uniform; some with 5 % missing) and 10 categorical of 3 to 1,000 categories;
  the current table has 7 columns drifted by construction (``DRIFTED``).
* ``bank`` (45,211 rows x 16 columns, the shape of the UCI bank-marketing set the issue measured
  on): 7 integer columns (ages, a heavy-tailed balance, days, durations, a sentinel ``pdays``
  that is -1 for 82 % of rows, a ``previous`` count that is 0 for the same rows) and 9 text
  columns of 2 to 12 categories, the marginal shares of that set; the current month shifts
  balance, moves ``pdays`` off its sentinel and swaps the contact channel's top categories.

Each frame is written once as Parquet under ``benchmarks/.data/drift/`` and reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA_ROOT = HERE / ".data" / "drift"
SEED = 20261126
BANK_ROWS = 45_211

NUMERIC = [f"n{i:02d}" for i in range(40)]
CARDINALITY = (3, 5, 8, 12, 20, 30, 50, 100, 200, 1000)
CATEGORICAL = [f"c{i}" for i in range(len(CARDINALITY))]
DRIFTED = {
    "n00": "mean + 0.8 sd",
    "n01": "log-sd x 2",
    "n02": "25 % missing (reference 0 %)",
    "n03": "mean + 0.25 sd (monitor band)",
    "c0": "shares reversed",
    "c1": "a new category on 10 % of rows",
    "c7": "25 % of rows moved to the top category (monitor band)",
}

BANK_TEXT: dict[str, tuple[list[str], list[int]]] = {
    "job": (
        ["blue-collar", "management", "technician", "admin.", "services", "retired",
         "self-employed", "entrepreneur", "unemployed", "housemaid", "student", "unknown"],
        [9732, 9458, 7597, 5171, 4154, 2264, 1579, 1487, 1303, 1240, 938, 288],
    ),
    "marital": (["married", "single", "divorced"], [27214, 12790, 5207]),
    "education": (["secondary", "tertiary", "primary", "unknown"], [23202, 13301, 6851, 1857]),
    "default": (["no", "yes"], [44396, 815]),
    "housing": (["yes", "no"], [25130, 20081]),
    "loan": (["no", "yes"], [37967, 7244]),
    "contact": (["cellular", "unknown", "telephone"], [29285, 13020, 2906]),
    "month": (
        ["may", "jul", "aug", "jun", "nov", "apr", "feb", "jan", "oct", "sep", "mar", "dec"],
        [13766, 6895, 6247, 5341, 3970, 2932, 2649, 1403, 738, 579, 477, 214],
    ),
    "poutcome": (["unknown", "failure", "other", "success"], [36959, 4901, 1840, 1511]),
}  # fmt: skip
BANK_COLUMNS = ["age", "job", "marital", "education", "default", "balance", "housing", "loan",
                "contact", "day", "month", "duration", "campaign", "pdays", "previous",
                "poutcome"]  # fmt: skip
BANK_DRIFTED = {
    "balance": "+ 600 (about 0.2 sd)",
    "pdays": "the -1 sentinel falls from 82 % to 55 % of rows",
    "previous": "follows pdays",
    "contact": "cellular and unknown swap shares",
}


@dataclass(frozen=True)
class FrameSpec:
    """One benchmark frame: its name, rows, columns and which are categorical."""

    name: str
    rows: int
    columns: int
    categorical: tuple[str, ...]
    drifted: dict[str, str]

    @property
    def label(self) -> str:
        return f"{self.name} {self.rows:,} x {self.columns}"


def spec(name: str) -> FrameSpec:
    """The frame called ``bank``, ``100k`` or ``1m``."""
    if name == "bank":
        return FrameSpec(name, BANK_ROWS, 16, tuple(BANK_TEXT), BANK_DRIFTED)
    rows = {"100k": 100_000, "1m": 1_000_000}[name]
    return FrameSpec(name, rows, 50, tuple(CATEGORICAL), DRIFTED)


def paths(name: str) -> tuple[Path, Path]:
    folder = DATA_ROOT / (name if name == "bank" else str(spec(name).rows))
    return folder / "reference.parquet", folder / "current.parquet"


def ensure(name: str) -> None:
    """Write the frame's reference and current Parquet files unless they exist."""
    import pyarrow.parquet as pq

    ref, cur = paths(name)
    if ref.exists() and cur.exists():
        return
    ref.parent.mkdir(parents=True, exist_ok=True)
    make = generate_bank if name == "bank" else generate
    rows = spec(name).rows
    pq.write_table(make(rows, SEED, drifted=False), ref)
    pq.write_table(make(rows, SEED + 1, drifted=True), cur)


def generate(rows: int, seed: int, drifted: bool) -> Any:
    """One seeded table of ``rows`` x 50 columns (Arrow); ``drifted``: the current one."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {}
    for i, name in enumerate(NUMERIC):
        kind = i % 5
        if kind == 0:
            x = rng.normal(i, 1 + i % 7, rows)
        elif kind == 1:
            x = rng.lognormal(3, 0.6, rows)
        elif kind == 2:
            x = rng.exponential(10 + i, rows)
        elif kind == 3:
            x = rng.integers(0, 60, rows).astype(np.float64)  # many ties
        else:
            x = rng.uniform(-i, i, rows)
        if i % 8 == 5:
            x[rng.random(rows) < 0.05] = np.nan
        cols[name] = x
    for name, k in zip(CATEGORICAL, CARDINALITY, strict=True):
        weights = 1.0 / np.arange(1, k + 1)
        codes = rng.choice(k, rows, p=weights / weights.sum())
        cols[name] = codes
    if drifted:
        cols["n00"] = cols["n00"] + 0.8  # its sd is 1
        cols["n01"] = np.exp(3 + (np.log(cols["n01"]) - 3) * 2.0)
        cols["n02"][rng.random(rows) < 0.25] = np.nan
        cols["n03"] = cols["n03"] + 0.25 * np.nanstd(cols["n03"])
        cols["c0"] = CARDINALITY[0] - 1 - cols["c0"]
        cols["c1"] = np.where(rng.random(rows) < 0.1, CARDINALITY[1], cols["c1"])
        cols["c7"] = np.where(rng.random(rows) < 0.25, 0, cols["c7"])
    arrays = {n: pa.array(v) for n, v in cols.items() if n in NUMERIC}
    for name in CATEGORICAL:
        labels = pa.array([f"{name}_{j}" for j in range(max(CARDINALITY) + 1)])
        arrays[name] = labels.take(pa.array(cols[name]))
    return pa.table(arrays)


def generate_bank(rows: int, seed: int, drifted: bool) -> Any:
    """One seeded bank-marketing-shaped table (Arrow), 16 columns; ``drifted``: the current."""
    import numpy as np
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    sentinel = 0.55 if drifted else 0.817
    pdays = np.where(rng.random(rows) < sentinel, -1, rng.integers(1, 872, rows))
    cols: dict[str, Any] = {
        "age": np.clip(rng.normal(41, 10.6, rows).round(), 18, 95).astype(np.int64),
        "balance": np.round(rng.standard_t(2, rows) * 900 + 1362 + (600 if drifted else 0)),
        "day": rng.integers(1, 32, rows),
        "duration": np.round(rng.exponential(258, rows)).astype(np.int64),
        "campaign": rng.geometric(0.36, rows).astype(np.int64),
        "pdays": pdays.astype(np.int64),
        "previous": np.where(pdays == -1, 0, rng.geometric(0.4, rows)).astype(np.int64),
    }
    cols["balance"] = cols["balance"].astype(np.int64)
    for name, (names, counts) in BANK_TEXT.items():
        weights = np.asarray(counts, dtype=np.float64)
        if drifted and name == "contact":
            weights = weights[[1, 0, 2]]
        codes = rng.choice(len(names), rows, p=weights / weights.sum())
        cols[name] = pa.array(names).take(pa.array(codes))
    return pa.table({name: cols[name] for name in BANK_COLUMNS})
