"""Seeded data of the materialization and online-read benchmarks (generated once, reused).

Two snapshot views over the same customers, event times spread over 30 days before ``END``:

* ``txn_profile`` (``view A``): ``customer_id``, ``event_timestamp``, ``created_timestamp``
  (event time + 0-6 h, so rows stamped in the last hours before ``END`` are not yet known at
  ``END``), ``f1..f5`` float64; 1 % of rows are corrections (same key and event time, created
  later, new values).
* ``account_stats`` (``view B``): ``customer_id``, ``event_timestamp``, ``g1..g5`` float64, no
  created column.

Every customer has at least one row in each view (the first ``entities`` rows of each view are a
permutation of all ids), the rest are drawn uniformly, so each view holds the latest value of
every customer. No two rows of a key share ``(event_timestamp, created_timestamp)``, so the
winner at any time is unambiguous without the ingestion sequence.

:func:`reference_at` is an independent pandas brute force of DESIGN §3.1 at one time (visible iff
``event_ts < t`` and ``created_ts <= t``; the greatest ``(event_ts, created_ts)`` wins), used to
check what each contender wrote online.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20260301
START = pd.Timestamp("2025-01-01", tz="UTC")
SPAN_DAYS = 30
END = START + pd.Timedelta(days=SPAN_DAYS)
LAG_US = 6 * 3_600_000_000
A_VIEW, B_VIEW = "txn_profile", "account_stats"
A_FEATURES = ("f1", "f2", "f3", "f4", "f5")
B_FEATURES = ("g1", "g2", "g3", "g4", "g5")
FEATURES = {A_VIEW: A_FEATURES, B_VIEW: B_FEATURES}
VERSION = 2  # bump when the generator changes: data on disk of another version is rebuilt


@dataclass(frozen=True)
class Sizes:
    """How much data: entities and feature rows per view."""

    entities: int
    rows_per_view: int

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        return cls(entities=int(100_000 * scale), rows_per_view=int(400_000 * scale))


@dataclass(frozen=True)
class DataSet:
    """The files of one generated data set."""

    root: Path
    sizes: Sizes

    @property
    def a_path(self) -> Path:
        return self.root / f"{A_VIEW}.parquet"

    @property
    def b_path(self) -> Path:
        return self.root / f"{B_VIEW}.parquet"

    @property
    def meta(self) -> Path:
        return self.root / "meta.json"

    def files(self) -> list[Path]:
        return [self.a_path, self.b_path]

    def feature_rows(self) -> int:
        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.files())


def ensure_data(root: Path, scale: float) -> tuple[DataSet, bool]:
    """The data set under ``root``: generated when missing or stale; (data, generated)."""
    sizes = Sizes.for_scale(scale)
    data = DataSet(root, sizes)
    want = {"version": VERSION, "seed": SEED, **asdict(sizes)}
    if data.meta.exists() and all(p.exists() for p in data.files()):
        if json.loads(data.meta.read_text()) == want:
            return data, False
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    _write(_view_a(sizes, rng), data.a_path)
    _write(_view_b(sizes, rng), data.b_path)
    data.meta.write_text(json.dumps(want) + "\n")
    return data, True


def _ids(sizes: Sizes, rng: np.random.Generator, n: int) -> np.ndarray:
    first = rng.permutation(sizes.entities).astype(np.int64)
    rest = rng.integers(0, sizes.entities, n - len(first), dtype=np.int64)
    return np.concatenate([first, rest])


def _event_us(rng: np.random.Generator, n: int) -> np.ndarray:
    """Microseconds before END, in (0, 30 days]: every event is strictly before END."""
    span = SPAN_DAYS * 86_400_000_000
    return np.asarray(END.value // 1_000 - rng.integers(1, span + 1, n, dtype=np.int64))


def _ts(us: np.ndarray) -> pd.Series:
    """Epoch microseconds as a tz-aware UTC column of microsecond resolution (Parquet
    ``timestamp[us, tz=UTC]``; see the note on nanoseconds in the benchmark's docstring)."""
    return pd.Series(us.astype("datetime64[us]")).dt.tz_localize("UTC")


def _view_a(sizes: Sizes, rng: np.random.Generator) -> pd.DataFrame:
    n_fix = sizes.rows_per_view // 100
    n = sizes.rows_per_view - n_fix
    cid = _ids(sizes, rng, n)
    ev = _event_us(rng, n)
    df = pd.DataFrame({"customer_id": cid, "_ev": ev}).drop_duplicates(["customer_id", "_ev"])
    df["_cr"] = df["_ev"] + rng.integers(0, LAG_US + 1, len(df), dtype=np.int64)
    fix = df.sample(n=n_fix, random_state=int(rng.integers(2**31))).copy()
    fix["_cr"] = fix["_cr"] + rng.integers(60_000_000, 7_200_000_000, n_fix, dtype=np.int64)
    df = pd.concat([df, fix], ignore_index=True)
    for f in A_FEATURES:
        df[f] = rng.standard_normal(len(df)) * 100.0
    df.insert(1, "event_timestamp", _ts(df.pop("_ev").to_numpy()))
    df.insert(2, "created_timestamp", _ts(df.pop("_cr").to_numpy()))
    return df.sort_values("event_timestamp", kind="stable").reset_index(drop=True)


def _view_b(sizes: Sizes, rng: np.random.Generator) -> pd.DataFrame:
    n = sizes.rows_per_view
    cid = _ids(sizes, rng, n)
    ev = _event_us(rng, n)
    df = pd.DataFrame({"customer_id": cid, "_ev": ev}).drop_duplicates(["customer_id", "_ev"])
    for f in B_FEATURES:
        df[f] = rng.standard_normal(len(df)) * 10.0
    df.insert(1, "event_timestamp", _ts(df.pop("_ev").to_numpy()))
    return df.sort_values("event_timestamp", kind="stable").reset_index(drop=True)


def _write(df: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, row_group_size=128 * 1024)
    tmp.replace(path)


def sample_keys(data: DataSet, n: int, seed: int = SEED + 1) -> list[int]:
    """``n`` distinct customer ids, fixed by the seed."""
    rng = np.random.default_rng(seed)
    k = min(n, data.sizes.entities)
    return [int(x) for x in rng.choice(data.sizes.entities, size=k, replace=False)]


def reference_at(data: DataSet, keys: list[int], t: pd.Timestamp) -> pd.DataFrame:
    """DESIGN §3.1 by brute force: per key, the visible row at ``t`` with the greatest
    ``(event_ts, created_ts)``; one row per key in ``keys`` order, NaN where nothing is visible.
    Columns: ``customer_id`` then ``f1..f5``, ``g1..g5``."""
    out = pd.DataFrame({"customer_id": np.asarray(keys, dtype=np.int64)})
    wanted = set(keys)
    for path, feats, created in (
        (data.a_path, A_FEATURES, True),
        (data.b_path, B_FEATURES, False),
    ):
        df = pd.read_parquet(path)
        df = df[df["customer_id"].isin(wanted)]
        cr = df["created_timestamp"] if created else df["event_timestamp"]
        df = df.assign(_cr=cr)
        df = df[(df["event_timestamp"] < t) & (df["_cr"] <= t)]
        df = df.sort_values(["customer_id", "event_timestamp", "_cr"], kind="stable")
        last = df.groupby("customer_id", sort=False).tail(1).set_index("customer_id")
        out = out.join(last[list(feats)], on="customer_id")
    return out


def late_keys(data: DataSet, keys: list[int], t: pd.Timestamp) -> int:
    """How many of ``keys`` have, in view A, a row stamped before ``t`` but not known by ``t``
    that would win if known (where an event-time-only system differs from §3.1)."""
    df = pd.read_parquet(data.a_path)
    df = df[df["customer_id"].isin(set(keys)) & (df["event_timestamp"] < t)]
    df = df.sort_values(["customer_id", "event_timestamp", "created_timestamp"], kind="stable")
    last = df.groupby("customer_id", sort=False).tail(1)
    return int((last["created_timestamp"] > t).sum())


def differing_keys(got: pd.DataFrame, want: pd.DataFrame) -> int:
    """Rows (keys) whose feature values differ between two frames of the same keys in the same
    order; exact float equality, NaN equals NaN; every row counts when the keys differ."""
    cols = [c for c in want.columns if c != "customer_id"]
    if list(got["customer_id"]) != list(want["customer_id"]):
        return len(want)
    a = got[cols].to_numpy(dtype=float)
    b = want[cols].to_numpy(dtype=float)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return int((~same.all(axis=1)).sum())
