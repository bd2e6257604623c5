"""Card transactions: a seeded, SYNTHETIC event stream for the example's real applicants.

The credit data set has no behavioural data, so this stream is made up, vectorised with numpy
from ``np.random.default_rng(seed)`` (same seed, same rows). For each customer it covers the
120 days before the day of the application and the 10 days after it; the later rows (and rows
of the last minutes whose ingestion lags past the application) must never reach a training
row, which is what the point-in-time join is for.

How it is drawn:

* per customer a daily rate (lognormal around ~0.55 a day, ~15 % higher for customers who go
  on to default), a Poisson total over the span and uniform days, so daily counts are Poisson;
* times of day peak in the afternoon; a per-customer share of transactions falls at night
  (00:00–05:59 UTC, ``late_night = 1``), higher for riskier customers;
* ``is_cash_advance`` (ATM cash on the card; ~3.5 % of rows for good customers, ~5 % for bad)
  with round amounts, otherwise a merchant category with its own typical amount, and an
  ``is_online`` flag whose probability depends on the category;
* ``amount`` is lognormal, scaled by the customer's income and spend level (riskier customers
  spend a little more);
* ``created_timestamp`` = event time + an ingestion lag of seconds to hours (median ~1 min).

The label effects are deliberately mild: the windowed features should help a model, not
give the answer away.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from cairn.quickstart.example._common import DAY, HOUR, SECOND, Floats, str_column, ts_column

DAYS_BEFORE = 120
DAYS_AFTER = 10
DAILY_RATE = 0.52

CATEGORIES = (
    "grocery",
    "restaurants",
    "fuel",
    "online_retail",
    "travel",
    "electronics",
    "utilities",
    "entertainment",
    "health",
    "gambling",
)
CASH_CATEGORY = "atm_cash"
_WEIGHTS_GOOD = np.array([0.26, 0.15, 0.10, 0.12, 0.05, 0.05, 0.08, 0.09, 0.08, 0.02])
_WEIGHTS_BAD = np.array([0.24, 0.15, 0.10, 0.13, 0.04, 0.06, 0.08, 0.10, 0.06, 0.04])
_LOG_SCALE = np.log([1.0, 0.8, 1.3, 1.2, 3.5, 2.8, 1.9, 0.7, 1.1, 1.4])
_ONLINE = np.array([0.02, 0.08, 0.0, 1.0, 0.6, 0.45, 0.65, 0.5, 0.15, 0.7])
_DAY_HOURS = np.array(
    [1, 2, 4, 6, 8, 9, 9, 10, 11, 11, 10, 10, 10, 10, 11, 11, 9, 6], dtype=np.float64
)  # relative weights of 06:00 … 23:00


def transactions_table(people: pd.DataFrame, rng: np.random.Generator) -> pa.Table:
    """The ``transactions.parquet`` table, ordered by event time (then customer)."""
    n = len(people)
    bad = people["defaulted"].to_numpy(np.int64).astype(np.float64)
    income = people["income"].to_numpy(np.float64)
    spend = rng.normal(0.0, 0.35, n)  # per-customer heterogeneity, shared by rate and amount
    rate = DAILY_RATE * np.exp(0.14 * bad + spend - 0.35**2 / 2)
    counts = rng.poisson(rate * (DAYS_BEFORE + DAYS_AFTER))
    who = np.repeat(np.arange(n), counts)
    m = who.size

    first_day = people["applied_us"].to_numpy(np.int64) // DAY * DAY - DAYS_BEFORE * DAY
    p_night = _logistic(-3.0 + 0.4 * bad + rng.normal(0.0, 0.4, n))
    night = rng.random(m) < p_night[who]
    hour = np.where(
        night,
        rng.integers(0, 6, m),
        6 + rng.choice(_DAY_HOURS.size, size=m, p=_DAY_HOURS / _DAY_HOURS.sum()),
    )
    event = (
        first_day[who]
        + rng.integers(0, DAYS_BEFORE + DAYS_AFTER, m) * DAY
        + hour * HOUR
        + rng.integers(0, HOUR // 1000, m) * 1000
    )

    p_cash = _logistic(-3.5 + 0.4 * bad + rng.normal(0.0, 0.6, n))
    cash = rng.random(m) < p_cash[who]
    cumulative = np.cumsum(np.where(bad[who, None] > 0, _WEIGHTS_BAD, _WEIGHTS_GOOD), axis=1)
    category = np.minimum((rng.random(m)[:, None] > cumulative).sum(axis=1), len(CATEGORIES) - 1)
    online = ~cash & (rng.random(m) < _ONLINE[category])
    level = 3.2 + 0.35 * np.log(np.nan_to_num(income, nan=125.0) / 125.0) + 0.5 * spend + 0.1 * bad
    amount = np.exp(level[who] + _LOG_SCALE[category] + rng.normal(0.0, 0.8, m))
    cash_amount = np.maximum(1, np.round(np.exp(rng.normal(4.6, 0.6, m)) / 20)) * 20
    amount = np.round(np.where(cash, cash_amount, amount), 2)
    lag = np.clip(np.exp(rng.normal(4.0, 1.8, m)), 1.0, 6 * 3600.0)
    created = event + np.round(lag * 1000).astype(np.int64) * (SECOND // 1000)

    order = np.lexsort((who, event))
    names = np.array([*CATEGORIES, CASH_CATEGORY], dtype=object)
    customer = people["customer_id"].to_numpy(np.int64)
    return pa.table(
        {
            "customer_id": pa.array(customer[who][order]),
            "transaction_id": pa.array(np.arange(1, m + 1, dtype=np.int64)),
            "event_timestamp": ts_column(event[order]),
            "created_timestamp": ts_column(created[order]),
            "amount": pa.array(amount[order]),
            "merchant_category": str_column(
                names[np.where(cash, len(CATEGORIES), category)][order]
            ),
            "is_cash_advance": pa.array(cash[order]),
            "is_online": pa.array(online[order]),
            "cash_advance": pa.array(cash[order].astype(np.int64)),
            "late_night": pa.array(night[order].astype(np.int64)),
        }
    )


def _logistic(x: Floats) -> Floats:
    """The logistic function, elementwise."""
    return 1.0 / (1.0 + np.exp(-x))
