"""Seeded synthetic data for the training-set benchmark (written once, reused when present).

Full size: 100k customers; view ``txn_profile`` 2M rows with a created (known-at) column lagging
event time by 0-6 h, 1 % of them corrections (same key and event time, later created time, new
values); view ``account`` 200k rows without a created column, unique per (key, event time), 1 %
nulls in ``a1``; 1M entity rows over the same year. The entity rows mix uniform draws with rows
that sit exactly on a feature event time (the strict ``<`` matters), rows 0-6 h after one (the
known-at cutoff matters), exact duplicates, and ~5 % customer ids that have no features.
``scale=0.1`` (``--quick``) divides every count by 10. All timestamps are UTC, microseconds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

GENERATOR_VERSION = 1
SEED = 20240101
START = pd.Timestamp("2024-01-01", tz="UTC")
SPAN_US = 366 * 86_400 * 1_000_000
LAG_US = 6 * 3_600 * 1_000_000
A_FEATURES = ("f1", "f2", "f3", "f4", "f5")
B_FEATURES = ("a1", "a2", "a3")
TIERS = np.array(["bronze", "silver", "gold", "platinum", "private"], dtype=object)


@dataclass(frozen=True)
class Sizes:
    """Row counts of one data set."""

    entities: int
    a_rows: int
    b_rows: int
    entity_rows: int

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        return cls(
            entities=int(100_000 * scale),
            a_rows=int(2_000_000 * scale),
            b_rows=int(200_000 * scale),
            entity_rows=int(1_000_000 * scale),
        )


@dataclass(frozen=True)
class DataSet:
    """Paths of one generated data set."""

    root: Path
    sizes: Sizes

    @property
    def txn_profile(self) -> Path:
        return self.root / "txn_profile.parquet"

    @property
    def account(self) -> Path:
        return self.root / "account.parquet"

    @property
    def entity_rows(self) -> Path:
        return self.root / "entity_rows.parquet"

    def files(self) -> list[Path]:
        return [self.txn_profile, self.account, self.entity_rows]


def ensure_data(root: Path, scale: float) -> tuple[DataSet, bool]:
    """Generate the data set under ``root`` unless a matching one is there; (data, generated?)."""
    sizes = Sizes.for_scale(scale)
    data = DataSet(root, sizes)
    manifest = {"generator": GENERATOR_VERSION, "seed": SEED, **asdict(sizes)}
    manifest_path = root / "manifest.json"
    if manifest_path.exists() and all(p.exists() for p in data.files()):
        if json.loads(manifest_path.read_text()) == manifest:
            return data, False
    root.mkdir(parents=True, exist_ok=True)
    _generate(data, np.random.default_rng(SEED))
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    return data, True


def _generate(data: DataSet, rng: np.random.Generator) -> None:
    a = _txn_profile(data.sizes, rng)
    b = _account(data.sizes, rng)
    e = _entity_rows(data.sizes, a, b, rng)
    _write(a, data.txn_profile)
    _write(b, data.account)
    _write(e, data.entity_rows)


def _ts(us: np.ndarray) -> pd.Series:
    """Microsecond offsets from START as a tz-aware UTC column."""
    base = START.value // 1_000
    return pd.Series((us + base).astype("datetime64[us]")).dt.tz_localize("UTC")


def _txn_profile(sizes: Sizes, rng: np.random.Generator) -> pd.DataFrame:
    n = sizes.a_rows
    n_fix = n // 100
    n_base = n - n_fix
    cid = rng.integers(0, sizes.entities, n_base, dtype=np.int64)
    ev = rng.integers(0, SPAN_US, n_base, dtype=np.int64)
    cr = ev + rng.integers(0, LAG_US + 1, n_base, dtype=np.int64)
    fix = rng.integers(0, n_base, n_fix)  # corrections: same key and event, known later
    cid = np.concatenate([cid, cid[fix]])
    ev = np.concatenate([ev, ev[fix]])
    cr = np.concatenate([cr, cr[fix] + rng.integers(1, LAG_US + 1, n_fix, dtype=np.int64)])
    df = pd.DataFrame(
        {"customer_id": cid, "event_timestamp": _ts(ev), "created_timestamp": _ts(cr)}
    )
    for name in A_FEATURES:
        df[name] = rng.standard_normal(n)
    return df.sort_values("created_timestamp", kind="stable").reset_index(drop=True)


def _account(sizes: Sizes, rng: np.random.Generator) -> pd.DataFrame:
    n = sizes.b_rows
    cid = rng.integers(0, sizes.entities, n, dtype=np.int64)
    ev = rng.integers(0, SPAN_US, n, dtype=np.int64)
    df = pd.DataFrame({"customer_id": cid, "_ev": ev})
    df = df.drop_duplicates(["customer_id", "_ev"]).reset_index(drop=True)
    m = len(df)
    a1 = rng.standard_normal(m) * 1_000.0
    a1[rng.random(m) < 0.01] = np.nan
    df["a1"] = a1
    df["a2"] = rng.integers(0, 10_000, m, dtype=np.int64)
    df["a3"] = TIERS[rng.integers(0, len(TIERS), m)]
    df.insert(1, "event_timestamp", _ts(df.pop("_ev").to_numpy()))
    return df.sort_values("event_timestamp", kind="stable").reset_index(drop=True)


def _entity_rows(
    sizes: Sizes, a: pd.DataFrame, b: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    n = sizes.entity_rows
    parts = {"uniform": int(n * 0.85), "on_a": int(n * 0.05), "after_a": int(n * 0.03)}
    parts["on_b"] = int(n * 0.02)
    n_dup = n - sum(parts.values())
    unknown = max(1, sizes.entities // 20)  # ids >= entities have no feature rows
    a_us, b_us = _offsets(a["event_timestamp"]), _offsets(b["event_timestamp"])
    ia = rng.integers(0, len(a), parts["on_a"] + parts["after_a"])
    ib = rng.integers(0, len(b), parts["on_b"])
    lag = rng.integers(0, LAG_US + 1, parts["after_a"], dtype=np.int64)
    cid = np.concatenate(
        [
            rng.integers(0, sizes.entities + unknown, parts["uniform"], dtype=np.int64),
            a["customer_id"].to_numpy()[ia],
            b["customer_id"].to_numpy()[ib],
        ]
    )
    ts = np.concatenate(
        [
            rng.integers(0, SPAN_US, parts["uniform"], dtype=np.int64),
            a_us[ia[: parts["on_a"]]],
            a_us[ia[parts["on_a"] :]] + lag,
            b_us[ib],
        ]
    )
    dup = rng.integers(0, len(cid), n_dup)
    cid, ts = np.concatenate([cid, cid[dup]]), np.concatenate([ts, ts[dup]])
    order = rng.permutation(n)
    return pd.DataFrame({"customer_id": cid[order], "event_timestamp": _ts(ts[order])})


def _offsets(col: pd.Series) -> np.ndarray:
    """Microseconds since START of a tz-aware column."""
    us = col.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    return np.asarray(us.to_numpy().view(np.int64)) - START.value // 1_000


def _write(df: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False)
    tmp = path.with_suffix(".tmp")
    pq.write_table(table, tmp, row_group_size=256 * 1024)
    tmp.replace(path)


def read_entity_df(data: DataSet) -> pd.DataFrame:
    """The entity rows as every contender receives them: pandas, tz-aware UTC timestamps."""
    return pd.read_parquet(data.entity_rows)
