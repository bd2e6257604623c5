"""Cheap correctness checks of the contenders' training sets.

* rows returned and whether the entity rows come back in their order (keys compared by position);
* ``account`` (no created column) against the pandas merge_asof result, by position: under
  DESIGN §3.1 both are "last row with event_ts < t", so they must agree exactly;
* a §3.1 reference on a seeded sample of entity rows, computed by brute force over each sampled
  key's feature rows (visible iff ``event_ts < t`` and ``created_ts <= t``; the winner is the
  greatest ``(event_ts, created_ts, file row)``). Contenders that keep entity order are compared
  by position; others (Feast) by (customer_id, event_timestamp), since duplicate entity rows
  share their values; sampled rows a contender did not return count as "missing".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from _ts_data import A_FEATURES, B_FEATURES, DataSet

FEATURES = (*A_FEATURES, *B_FEATURES)


@dataclass(frozen=True)
class RuleCheck:
    """Sampled comparison with the §3.1 reference."""

    sample: int
    missing: int
    differ: int

    def text(self) -> str:
        bad = self.differ + self.missing
        if bad == 0:
            return f"ok {self.sample}/{self.sample}"
        miss = f", {self.missing} missing" if self.missing else ""
        return f"{self.differ} differ{miss} /{self.sample}"


def key_arrays(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(customer_id, event time as UTC microseconds) as int64 arrays."""
    return df["customer_id"].to_numpy(dtype=np.int64), micros(df["event_timestamp"])


def micros(col: pd.Series) -> np.ndarray:
    """A timestamp column as int64 microseconds since the epoch, UTC."""
    ts = pd.to_datetime(col, utc=True).dt.tz_localize(None)
    return np.asarray(ts.astype("datetime64[us]").to_numpy().view(np.int64))


def order_kept(result: pd.DataFrame, entity_df: pd.DataFrame) -> bool:
    """True when the result holds exactly the entity rows, in order."""
    if len(result) != len(entity_df):
        return False
    rc, rt = key_arrays(result)
    ec, et = key_arrays(entity_df)
    return bool(np.array_equal(rc, ec) and np.array_equal(rt, et))


def differing_rows(x: pd.DataFrame, y: pd.DataFrame, columns: tuple[str, ...]) -> int:
    """Rows (by position) where any of ``columns`` differs; nulls equal nulls."""
    bad = np.zeros(len(x), dtype=bool)
    for col in columns:
        bad |= ~_same(x[col], y[col])
    return int(bad.sum())


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    na, nb = a.isna().to_numpy(), b.isna().to_numpy()
    if _numeric(a) and _numeric(b):
        va = a.astype("float64").to_numpy(na_value=np.nan)
        vb = b.astype("float64").to_numpy(na_value=np.nan)
        eq = va == vb
    else:
        eq = a.astype(object).to_numpy() == b.astype(object).to_numpy()
    return np.asarray((na & nb) | (~na & ~nb & eq), dtype=bool)


def _numeric(s: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(s.dtype)) and not pd.api.types.is_bool_dtype(s.dtype)


def reference_sample(data: DataSet, entity_df: pd.DataFrame, n: int, seed: int = 7) -> pd.DataFrame:
    """§3.1 values for ``n`` sampled entity rows; column ``_pos`` is the entity row position."""
    rng = np.random.default_rng(seed)
    pos = np.sort(rng.choice(len(entity_df), size=min(n, len(entity_df)), replace=False))
    cid, ts = key_arrays(entity_df.iloc[pos])
    out = pd.DataFrame({"_pos": pos, "customer_id": cid, "_ts": ts})
    a = pd.read_parquet(data.txn_profile)
    b = pd.read_parquet(data.account)
    for col, values in _view_reference(a, "created_timestamp", A_FEATURES, cid, ts).items():
        out[col] = values
    for col, values in _view_reference(b, None, B_FEATURES, cid, ts).items():
        out[col] = values
    return out


def _view_reference(
    view: pd.DataFrame, created: str | None, feats: tuple[str, ...], cid: np.ndarray, t: np.ndarray
) -> dict[str, pd.Series]:
    vc, ve = key_arrays(view)
    vcr = micros(view[created]) if created else ve
    by_key = np.argsort(vc, kind="stable")
    lo = np.searchsorted(vc[by_key], cid, side="left")
    hi = np.searchsorted(vc[by_key], cid, side="right")
    counts = hi - lo
    owner = np.repeat(np.arange(len(cid)), counts)
    starts = np.repeat(lo - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    rows = by_key[np.arange(counts.sum()) + starts]
    visible = (ve[rows] < t[owner]) & (vcr[rows] <= t[owner])
    owner, rows = owner[visible], rows[visible]
    order = np.lexsort((rows, vcr[rows], ve[rows], owner))  # last key is primary
    owner, rows = owner[order], rows[order]
    last = np.r_[owner[1:] != owner[:-1], True] if len(owner) else np.zeros(0, dtype=bool)
    winner = np.full(len(cid), -1, dtype=np.int64)
    winner[owner[last]] = rows[last]
    return {f: _take(view[f], winner) for f in feats}


def _take(col: pd.Series, idx: np.ndarray) -> pd.Series:
    """``col[idx]`` with nulls where ``idx`` is -1."""
    values = col.to_numpy(dtype=object).copy()
    taken = values[np.where(idx >= 0, idx, 0)]
    taken[idx < 0] = None
    return pd.Series(taken, dtype=object)


def rule_check(result: pd.DataFrame, ref: pd.DataFrame, kept_order: bool) -> RuleCheck:
    """Compare a contender's result with the sampled §3.1 reference."""
    if kept_order:
        got = result.iloc[ref["_pos"].to_numpy()].reset_index(drop=True)
        missing = np.zeros(len(ref), dtype=bool)
    else:
        got, missing = _lookup_by_key(result, ref)
    want = ref.reset_index(drop=True)
    same = np.ones(len(ref), dtype=bool)
    for f in FEATURES:
        same &= _same(_as_numeric_if_possible(got[f]), _as_numeric_if_possible(want[f]))
    differ = int((~same & ~missing).sum())
    return RuleCheck(sample=len(ref), missing=int(missing.sum()), differ=differ)


def _lookup_by_key(result: pd.DataFrame, ref: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    cid, ts = key_arrays(result)
    table = pd.DataFrame({"customer_id": cid, "_ts": ts})
    for f in FEATURES:
        table[f] = result[f].to_numpy()
    table = table.drop_duplicates(["customer_id", "_ts"])
    keys = ref[["customer_id", "_ts"]].copy()
    got = keys.merge(table, on=["customer_id", "_ts"], how="left", indicator=True)
    return got, (got["_merge"] == "left_only").to_numpy()


def _as_numeric_if_possible(s: pd.Series) -> pd.Series:
    if s.dtype == object:
        converted = pd.to_numeric(s, errors="coerce")
        if converted.isna().sum() == s.isna().sum():
            return converted.astype("float64")
    return s
