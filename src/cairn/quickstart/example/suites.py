"""The quality suites of the example credit project and their reference profiles."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from cairn.quality.profile import profile_reference, save_profile

QUALITY_DIR = "quality"
REFERENCE_END = "2026-01-01"
"""Reference profiles cover data before this date (the example's training window)."""

APPLICATIONS_YAML = """\
# Quality suite of data/applications.parquet: the entity rows and labels of training sets.
# Run it: cairn quality validate quality/applications.yaml data/applications.parquet
name: applications
source: applications
description: Credit applications with their outcome, checked before training sets are built.
references:
  profiles: ../data/profiles.parquet
expectations:
  # schema: the shape of the data (critical by default: a failure halts)
  - expect_table_columns_to_match_set:
      column_set: [application_id, customer_id, event_timestamp, amount, price, term_months,
                   defaulted, label_observed_at, source_row]
  - expect_column_values_to_not_be_null: {column: customer_id}
  - expect_column_values_to_not_be_null: {column: event_timestamp}
  - expect_column_values_to_be_unique: {column: application_id}
  - expect_column_values_to_match_regex: {column: application_id, regex: '^APP-[0-9]{6}$'}
  - expect_column_values_to_be_in_set: {column: defaulted, value_set: [0, 1]}
  # business rules (high by default: a failure halts)
  - expect_column_values_to_be_between: {column: amount, min_value: 0, strict_min: true,
                                         max_value: 50000}
  - expect_column_values_to_be_in_set:
      column: term_months
      value_set: [6, 12, 18, 24, 30, 36, 42, 48, 54, 60, 72]
      layer: business
      severity: high
  - expect_column_pair_values_a_to_be_greater_than_b:
      {column_A: label_observed_at, column_B: event_timestamp}
  - expect_column_values_to_exist_in_table: {column: customer_id, table: profiles}
  # statistics (medium by default: a failure warns)
  - expect_table_row_count_to_be_between: {min_value: 1000}
  - expect_column_mean_to_be_between: {column: amount, min_value: 500, max_value: 2000}
  - expect_column_quantile_values_to_be_between:
      column: amount
      quantile_ranges: {quantiles: [0.05, 0.5, 0.95], value_ranges: [[100, 800], [600, 1600],
                                                                     [1400, 3000]]}
  # ML: against the 2025 applications the example's models are trained on
  - expect_column_psi_to_be_less_than: {column: amount, reference: reference/applications.json}
  - expect_column_psi_to_be_less_than: {column: term_months,
                                        reference: reference/applications.json}
  - expect_label_rate_to_be_stable: {column: defaulted, reference: reference/applications.json,
                                     max_delta: 0.05}
  - expect_feature_label_correlation_to_be_below: {column: amount, label_column: defaulted,
                                                   threshold: 0.5}
"""

PROFILES_YAML = """\
# Quality suite of data/profiles.parquet: profile snapshots (source of customer_profile).
name: profiles
source: profiles
description: Customer profile snapshots with event and created (known-at) times.
expectations:
  - expect_column_values_to_not_be_null: {column: customer_id}
  - expect_column_values_to_not_be_null: {column: event_timestamp}
  - expect_compound_columns_to_be_unique:
      column_list: [customer_id, event_timestamp, created_timestamp]
  - expect_column_pair_values_a_to_be_greater_than_b:
      {column_A: created_timestamp, column_B: event_timestamp, or_equal: true}
  - expect_column_values_to_be_between: {column: age, min_value: 18, max_value: 100}
  - expect_column_values_to_not_be_null: {column: income, mostly: 0.9, severity: medium}
  - expect_column_values_to_be_between: {column: income, min_value: 0, severity: high}
  - expect_column_values_to_be_in_set:
      {column: home, value_set: [ignore, other, owner, parents, priv, rent]}
  - expect_column_values_to_be_in_set: {column: records, value_set: ['no', 'yes']}
  - expect_column_values_to_be_in_set:
      {column: job, value_set: [fixed, freelance, others, partime]}
  - expect_column_median_to_be_between: {column: income, min_value: 80, max_value: 200}
"""

TRANSACTIONS_YAML = """\
# Quality suite of data/transactions.parquet: the card transactions behind txn_stats.
name: transactions
source: transactions
description: Card transactions, checked before they are materialized or aggregated.
references:
  applications: ../data/applications.parquet
expectations:
  - expect_column_to_exist: {column: transaction_id}
  - expect_column_values_to_be_unique: {column: transaction_id}
  - expect_column_values_to_not_be_null: {column: customer_id}
  - expect_column_values_to_not_be_null: {column: amount}
  - expect_table_rows_to_be_unique: {}
  - expect_column_values_to_be_between: {column: amount, min_value: 0, strict_min: true,
                                         max_value: 100000}
  - expect_column_values_to_be_in_set:
      column: merchant_category
      value_set: [atm_cash, electronics, entertainment, fuel, gambling, grocery, health,
                  online_retail, restaurants, travel, utilities]
  - expect_column_pair_values_a_to_be_greater_than_b:
      {column_A: created_timestamp, column_B: event_timestamp, or_equal: true}
  - expect_column_values_to_exist_in_table: {column: customer_id, table: applications}
  - expect_column_mean_to_be_between: {column: amount, min_value: 20, max_value: 150}
  - expect_column_stdev_to_be_between: {column: amount, min_value: 10, max_value: 300}
  - expect_column_proportion_of_unique_values_to_be_between:
      {column: customer_id, min_value: 0.001, max_value: 0.2}
  - expect_column_psi_to_be_less_than: {column: amount, reference: reference/transactions.json}
  - expect_column_psi_to_be_less_than: {column: merchant_category,
                                        reference: reference/transactions.json}
  # a stale feed warns (the example data ends in July 2026: validate it --as-of 2026-07-10)
  - expect_data_to_be_fresh: {column: created_timestamp, max_age: 2d, severity: medium}
"""

SUITES = {
    "applications.yaml": APPLICATIONS_YAML,
    "profiles.yaml": PROFILES_YAML,
    "transactions.yaml": TRANSACTIONS_YAML,
}


def write_example_suites(project_path: str | Path) -> list[Path]:
    """Write ``quality/{applications,profiles,transactions}.yaml`` and the reference profiles
    ``quality/reference/{applications,transactions}.json`` into an example project."""
    root = Path(project_path)
    folder = root / QUALITY_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in SUITES.items():
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    cutoff = pd.Timestamp(REFERENCE_END, tz="UTC")
    apps = pq.read_table(root / "data" / "applications.parquet").to_pandas()
    reference = apps[apps["event_timestamp"] < cutoff]
    profile = profile_reference(reference, ["amount", "price", "term_months"], label="defaulted")
    written.append(save_profile(profile, folder / "reference" / "applications.json"))
    txns = pq.read_table(
        root / "data" / "transactions.parquet",
        columns=["event_timestamp", "amount", "merchant_category"],
    ).to_pandas()
    profile = profile_reference(
        txns[txns["event_timestamp"] < cutoff], ["amount", "merchant_category"]
    )
    written.append(save_profile(profile, folder / "reference" / "transactions.json"))
    return written
