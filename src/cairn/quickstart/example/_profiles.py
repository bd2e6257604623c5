"""Profile snapshots: the applicants' attributes as a warehouse would have recorded them.

Each row says what was true of a customer from ``event_timestamp`` on, and ``created_timestamp``
says when the row landed in the warehouse (event time + 0–3 days). Per customer:

* a **base snapshot** 30–400 days before the application;
* for 30 % of customers an **update** 4–29 days before the application (income and expenses
  changed; the base snapshot then holds the older values);
* for 5 % (among those with a known income) a **correction**: the latest row before the
  application was keyed with income × 10, and a second row with the same event time and a later
  created time fixes it;
* for 3 % a **late update**: an income change stamped 1–48 hours *before* the application that
  only landed 1–30 days *after* it. A join on event time alone would leak it into training;
  Cairn's known-at rule (``created_ts <= t``) keeps it out. For customers who went on to
  default the income drops, for the others it rises, so a leak would flatter the model.

Whatever the history, the row visible at the application time (greatest event time, then
created time, among rows with ``event_ts < t`` and ``created_ts <= t``) holds exactly the values
of the published data set, which makes the point-in-time join checkable.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from cairn.quickstart.example._applications import PROFILE_COLUMNS
from cairn.quickstart.example._common import (
    DAY,
    HOUR,
    Floats,
    Ints,
    Micros,
    str_column,
    ts_column,
    uniform_us,
)

UPDATE_SHARE = 0.30
CORRECTION_SHARE = 0.05
LATE_SHARE = 0.03


@dataclass(frozen=True)
class _Rows:
    """Some profile rows: which applicant, when, and the income/expenses they carry."""

    who: Ints
    event: Micros
    created: Micros
    income: Floats
    expenses: Ints


def profiles_table(people: pd.DataFrame, rng: np.random.Generator) -> pa.Table:
    """The ``profiles.parquet`` table, sorted by customer, event time and created time."""
    n = len(people)
    applied = people["applied_us"].to_numpy(np.int64)
    income = people["income"].to_numpy(np.float64)
    expenses = people["expenses"].to_numpy(np.int64)
    everyone = np.arange(n, dtype=np.int64)

    updated = np.sort(rng.choice(n, size=round(UPDATE_SHARE * n), replace=False))
    base_event = applied - uniform_us(rng, 30 * DAY, 400 * DAY, n)
    base_income, base_expenses = income.copy(), expenses.copy()
    base_income[updated] = np.round(income[updated] * rng.uniform(0.8, 0.97, updated.size))
    base_expenses[updated] = np.maximum(
        35, expenses[updated] + rng.choice([-15, -10, 10, 15], size=updated.size)
    )
    base = _Rows(
        everyone,
        base_event,
        base_event + uniform_us(rng, 0, 3 * DAY, n),
        base_income,
        base_expenses,
    )
    upd_event = applied[updated] - uniform_us(rng, 4 * DAY, 29 * DAY, updated.size)
    update = _Rows(
        updated,
        upd_event,
        upd_event + uniform_us(rng, 0, 3 * DAY, updated.size),
        income[updated],
        expenses[updated],
    )

    parts = _with_correction(base, update, people, rng, round(CORRECTION_SHARE * n))
    parts.append(_late_updates(people, rng, round(LATE_SHARE * n)))
    return _table(people, parts)


def _with_correction(
    base: _Rows, update: _Rows, people: pd.DataFrame, rng: np.random.Generator, size: int
) -> list[_Rows]:
    """Key a wrong income (× 10) into the latest row of ``size`` customers and fix it later."""
    applied = people["applied_us"].to_numpy(np.int64)
    income = people["income"].to_numpy(np.float64)
    latest, latest_created = base.event.copy(), base.created.copy()
    latest[update.who], latest_created[update.who] = update.event, update.created
    who = np.sort(rng.choice(np.flatnonzero(~np.isnan(income)), size=size, replace=False))
    # The fix lands 1 hour to 7 days after the wrong row, and always before the application.
    fixed_at = np.minimum(
        latest_created[who] + uniform_us(rng, HOUR, 7 * DAY, size), applied[who] - HOUR
    )
    correction = _Rows(
        who, latest[who], fixed_at, income[who], people["expenses"].to_numpy(np.int64)[who]
    )
    for rows in (base, update):  # the row that landed first carries the keying error
        hit = np.isin(rows.who, who) & (rows.event == latest[rows.who])
        rows.income[hit] = rows.income[hit] * 10
    return [base, update, correction]


def _late_updates(people: pd.DataFrame, rng: np.random.Generator, size: int) -> _Rows:
    """Income changes stamped just before the application that land after it."""
    n, applied = len(people), people["applied_us"].to_numpy(np.int64)
    who = np.sort(rng.choice(n, size=size, replace=False))
    bad = people["defaulted"].to_numpy(np.int64)[who] == 1
    factor = np.where(bad, rng.uniform(0.5, 0.8, size), rng.uniform(1.05, 1.3, size))
    event = applied[who] - uniform_us(rng, HOUR, 48 * HOUR, size)
    created = applied[who] + uniform_us(rng, DAY, 30 * DAY, size)
    income = np.round(people["income"].to_numpy(np.float64)[who] * factor)
    return _Rows(who, event, created, income, people["expenses"].to_numpy(np.int64)[who])


def _table(people: pd.DataFrame, parts: list[_Rows]) -> pa.Table:
    """Stack ``parts`` into one table; other columns come from each applicant's row."""
    who = np.concatenate([p.who for p in parts])
    event = np.concatenate([p.event for p in parts])
    created = np.concatenate([p.created for p in parts])
    income = np.concatenate([p.income for p in parts])
    expenses = np.concatenate([p.expenses for p in parts])
    customer = people["customer_id"].to_numpy(np.int64)[who]
    order = np.lexsort((created, event, customer))
    who = who[order]
    columns: dict[str, pa.Array] = {
        "customer_id": pa.array(customer[order]),
        "event_timestamp": ts_column(event[order]),
        "created_timestamp": ts_column(created[order]),
    }
    for name in PROFILE_COLUMNS:
        if name == "income":
            columns[name] = pa.array(income[order], from_pandas=True)
        elif name == "expenses":
            columns[name] = pa.array(expenses[order].astype(np.int64))
        elif isinstance(people[name].dtype, pd.StringDtype):
            columns[name] = str_column(people[name].to_numpy(object)[who])
        else:
            columns[name] = pa.array(people[name].to_numpy()[who], from_pandas=True)
    return pa.table(columns)
