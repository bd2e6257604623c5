"""The files of a blank project, as text: every key written out and explained.

Written for one CSV file the user adds, ``data/customers.csv``, one row per customer and time::

    customer_id,event_timestamp,age,income,label
    1001,2025-01-15T09:30:00Z,34,52000.0,0

The example decisions are an outreach model's: ``contact`` (score >= threshold, the positive
decision) or ``skip``; ``contact`` is the favorable one. ``<<...>>`` marks what
:mod:`cairn.quickstart.blank.project` fills in (the project's name, the settings reference and
the built-in metrics, both generated, so the comments follow the code).
"""

from __future__ import annotations

DATA_FILE = "data/customers.csv"
"""The data file the blank project's definitions read (the user adds it)."""
DATA_COLUMNS = ("customer_id", "event_timestamp", "age", "income", "label")
"""Its columns, as ``features.py`` and ``train.yaml`` expect them."""
SUITE_FILE = "quality/customers.yaml"

CAIRN_YAML = """\
# The project's settings. Only `project` is required; every other key has a default.
# `cairn config schema cairn` prints every key; `cairn config check` checks this folder's files.
project: <<project>>

# One SQLAlchemy URL for the metadata database and MLflow's tracking and registry store (or
# CAIRN_DATABASE_URL); unset: SQLite files under .cairn/. metadata.url and tracking.uri win.
# database: postgresql+psycopg://cairn@db:5432/cairn

# Uncomment a key to change its default. Environment variables override any key as
# CAIRN_<SECTION>__<KEY> (e.g. CAIRN_OFFLINE__MEMORY_LIMIT=4GB).
<<settings>>
"""

FEATURES_PY = '''\
"""Feature definitions of this project: `cairn apply` registers them.

They read one CSV file you add, data/customers.csv, with one row per customer and time:

    customer_id,event_timestamp,age,income,label
    1001,2025-01-15T09:30:00Z,34,52000.0,0
    1002,2025-01-16T14:05:00Z,51,,1

Rename the entity, the file, the columns and the features to your data's, then run
`cairn config check` and `cairn apply`. Until the file exists, `cairn apply` stops with one line
naming it.
"""

from __future__ import annotations

from cairn import Entity, FeatureView, Field, FileSource

# An entity: what the features describe. Training rows and online requests identify one by its
# join keys.
customer = Entity(
    name="customer",  # unique; letters, digits and _
    join_keys=["customer_id"],  # the column(s) that identify a customer in every source
    description="A customer we may contact.",  # for people
)

# A source: where raw rows come from (a Parquet file or folder, a CSV file, a Delta table).
customers = FileSource(
    path="data/customers.csv",  # relative to the project folder
    timestamp_field="event_timestamp",  # when each row's facts became true (event time)
    # created_timestamp_column="created_at",  # when a row became known: rows stay invisible
    #                                         # before it (late data, corrections)
    timezone="UTC",  # the zone of timestamps written without one (else they are refused)
    # name="customers",  # default: the file name without its suffix; training SQL and
    #                    # quality suites name the source by it
    description="Customers, one row per customer and time, with the label.",
)

# A feature view: named features of an entity, read from one source. Snapshot features
# (schema) serve the latest value at or before each time; a windowed view would have
# aggregations instead, e.g.
#     aggregations=[Aggregation("amount", "sum", "7d")]  (from cairn import Aggregation)
# for a source of events (sums, counts, means over sliding windows).
customer_profile = FeatureView(
    name="customer_profile",  # features are referenced as "customer_profile:age"
    entities=[customer],  # whose join keys identify a row
    source=customers,
    schema=[  # the feature columns and their types: int64, float64, string, bool, timestamp
        Field(name="age", dtype="int64"),
        Field(name="income", dtype="float64"),
    ],
    ttl="365d",  # a value older than this is treated as missing (None: never expires)
    description="What we know about a customer at each time.",
)
'''

TRAIN_YAML = """\
# A training job: `cairn train --config train.yaml`. Every key is here; `cairn config schema
# train` prints their types and bounds.

model_name: customer-model       # the registered model's name (deployments.yaml refers to it)
description: Probability that a customer responds when contacted.

# The rows to learn from, with their label: SQL over the applied sources (each one a table
# named after it: `customers`) or a Parquet/CSV file path. Features are looked up as they were
# known strictly before each row's time (a row never sees facts stamped at its own time, as a
# request being scored could not): here the label sits in the same file as the features, so
# the rows are taken one second after each record, when its features are known.
entities: >-
  SELECT customer_id, event_timestamp + INTERVAL 1 SECOND AS event_timestamp, label
  FROM customers
label: label                     # the 0/1 label column of those rows
features:                        # 'view:feature' references to the views of features.py
  - customer_profile:age
  - customer_profile:income

validation_fraction: 0.2         # the latest 20 % of the rows (by event_timestamp) validate
                                 # and report (a two-way split); or, three time-ordered parts:
# split:                         # instead of validation_fraction, time-ordered parts:
#   validation: 0.15             # validates (early stopping, the reference profile)
#   test: 0.15                   # the latest rows: the reported metrics
#   validation_from: 2026-01-01  # or cut at explicit times instead of shares
#   test_from: 2026-03-01
# label_maturity: 90d            # labels known this long after event_timestamp; or:
# label_available_at: known_at   # a column: when each label became known (labels not known
#                                # by a part's cutoff are not used; dropped rows are counted)
# split_warnings:                # when the parts differ enough to warn
#   label_rate_ratio: 1.5        # one part's label rate >= 1.5x another's ...
#   label_rate_p: 0.001          # ... and a two-proportion z-test p below this
#   feature_psi: 0.25            # a feature's PSI between train and a later part
threshold: 0.5                   # scores at or above it are predicted 1 (precision, recall)
seed: 7                          # seeds the estimator and every sample: same data, same model
register: true                   # register the trained model version in the model registry
tags: {}                         # name: text tags of the run and the model version

model:
  type: lightgbm                 # lightgbm, xgboost, sklearn (with an estimator) or scorecard
  # estimator: sklearn.ensemble.HistGradientBoostingClassifier   # type sklearn: a dotted
  #                              # path to a class or factory with fit and predict_proba
  num_boost_round: 200           # boosting rounds (lightgbm, xgboost)
  # early_stopping_rounds: 20    # stop once the validation AUC stops improving
  threads: 1                     # 1: exactly reproducible (cairn train --reproduce RUN_ID)
  params:                        # the family's own parameters (LightGBM's here); each family
  #                              # has its own: xgboost e.g. eta, max_depth; sklearn: the
  #                              # estimator's keyword arguments; scorecard: pdo, odds,
  #                              # base_score, max_n_bins, neutral (woe_zero, min or max)
    learning_rate: 0.05
    num_leaves: 15
    min_data_in_leaf: 20

reference:                       # the profile monitoring compares live traffic with
  bins: 10                       # quantile bins per feature
  sample: 1000                   # values kept per feature
  rows: validation               # validation, train or all

importance_sample: 2000          # validation rows whose SHAP values give feature importances
"""

DEPLOYMENTS_YAML = """\
# Deployments: `cairn serve` answers POST /v1/predict/NAME with each one. `cairn config schema
# deployments` prints every key.
deployments:
  customer:                          # the deployment's name (in the URL)
    model: customer-model@champion   # MODEL@ALIAS follows the alias as it moves (cairn models
                                     # promote); MODEL/VERSION pins one version
    threshold: 0.5                   # score >= threshold: the positive decision, else negative

    decision:                        # the two decisions it makes (any names)
      positive: contact              # when score >= threshold
      negative: skip                 # when score < threshold
      favorable: positive            # which one is good for the person decided on (adverse-
                                     # impact ratios compare it): positive or negative
    label:                           # what the model's label means
      name: responded                # a label of 1 (cairn outcomes) means: the customer responded
      maturity: 30d                  # outcome metrics and comparisons count a prediction only
                                     # once it is this old (its label has had time to arrive)

    explain: positive                # which decisions get reason codes when served: positive,
                                     # negative, always or never
    reason_codes: reason_codes.yaml  # their texts
    top_k: 4                         # reason codes per explained decision
    feature_budget_ms: 50            # an online feature read slower than this (ms) scores the
                                     # fallback
    # fallback:                      # when online features cannot be read in time (omit: the
    #   model: customer-model@champion   # request fails with 503): this model (default: the
    #   defaults: {age: 40}          # deployment's) on these values for features not given;
    #   score: 0.0                   # or instead a fixed score (a rules model; then model and
    #                                # defaults are not used)
    coverage:                        # too little data: a person decides, not the model
      min_share: 0.5                 # share of the model's features that must be present
                                     # (non-null, online or in the request) to score
      below: refer                   # below it: refer (decision `refer`, no reason codes),
                                     # reject (HTTP 422) or fallback (needs a fallback)
      unknown_entity: refer          # an entity the online store does not know: refer,
                                     # reject, fallback, or score (on missing values)
    # counterfactual:                # GET /v1/explanations/ID/counterfactual: the smallest
    #                                # change that would turn an unfavorable decision
    #   immutable: [age]             # features never changed (age, protected attributes)
    #   directions: {income: increase}   # numeric features that may only move one way
    #   ranges: {income: [0, 20]}    # feasible new values (default: the reference profile's
    #                                # observed min and max)
    #   max_changes: 3               # at most this many features changed
    #   budget_ms: 200               # search time budget (scorecards are exact)
    # sampling:                      # a model without exact contributions (sampled Shapley
    #   on_request: false            # values): false explains on demand only (GET
    #                                # /v1/explanations/ID), true on the request path
    #   permutations: 16             # the budget, 2 to 256 (error ~ 1/sqrt(permutations))
    #   seed: 0                      # same seed and budget: the same values
"""

REASON_CODES_YAML = """\
# Reason codes of the `customer` deployment: a code and a text per feature and direction. The
# features that pushed a score up, toward the positive decision (contact), are explained, the
# largest first (deployments.yaml: explain, top_k). A feature pushed the score "high" or "low"
# against its reference, was "missing", or is a "category" level ({value} is the level).
# Features not listed here get generic texts ("Age too high"). `cairn config schema
# reason_codes` prints every key.

default: Other factors           # the text of factors this file does not name

features:
  age:
    code: A01                    # default: the feature's name upper-cased (AGE)
    high: Age in the range that responds most
    low: Younger than most responders
    missing: Age not known
    # reference: 40              # the value from which age counts as high (default: the
    #                            # model's median split threshold)
    # text: Age                  # for any direction without a text of its own
  income:
    code: I01
    high: Income in the range that responds most
    low: Income below most responders
    missing: Income not known
  # segment:                     # a string feature: its level replaces {value}
  #   code: S01
  #   category: "Customer segment ({value})"
"""

EXPERIMENTS_YAML = """\
# Experiment metrics: `cairn experiment analyze DEPLOYMENT` measures them per unit, on the
# prediction log joined with its outcomes. `cairn config schema experiments` prints every key.
#
# Every deployment has these built-in metrics (its decision names: contact / skip):
<<metrics>>
#
# Adjust a built-in by naming it with only the keys to change, e.g.
#   label_rate: {maturity: 60d}
# Declare a metric of your own with at least type and sql; its sql reads one log row:
# decision, positive (true for the positive decision), score, latency_ms, error, features,
# entity ... and the outcome columns label (null until observed) and observed_at.

min_completeness: 0.8            # labeled share of mature units an outcome metric needs for a
                                 # verdict

metrics:
  high_score_share:              # a metric of this project (rename or delete it)
    type: proportion             # proportion: 1 when sql holds for any of the unit's rows;
                                 # mean: sql pooled per unit with unit_aggregate;
                                 # ratio: sum of sql over sum of denominator
    sql: score >= 0.8            # SQL over one log row (a ratio's numerator)
    # denominator: "1.0"         # ratios only
    # unit_aggregate: avg        # means only: sum, avg, max or min
    # maturity: 30d              # count only rows at least this old (outcome metrics without
    #                            # one use the deployment's label maturity)
    # cuped:                     # CUPED variance reduction (none declared: never adjusted)
    #   covariate: high_score_share  # a proportion or mean metric measured before the start,
    #   window: 28d              # over this window of non-experiment traffic (no A/B or canary)
    #   min_units: 30            # units with a pre-period value each arm needs
    guardrail: false             # true: tested one-sided for harm, outside the family
    direction: increase          # the good direction: increase or decrease
    family: goals                # corrections for multiple comparisons run within a family
    description: Units scored at or above 0.8.
"""

SUITE_YAML = """\
# A data quality suite for data/customers.csv:
#   cairn quality validate quality/customers.yaml data/customers.csv
# Each check names an expectation (Great Expectations' names, plus PSI, label-rate, leakage and
# freshness checks; `cairn config schema quality` lists them with their arguments). A check
# belongs to a layer (schema, business, statistical, ml) whose default severity (critical,
# high, medium, low) maps to an action (halt, halt, warn, log).

name: customers                  # results are kept under this name (default: the file name)
description: Customer rows, checked before features are built from them.
source: customers                # the applied source it guards: cairn materialize runs it first
sample_rows: 20                  # failing rows kept per failing check
actions:                         # severity -> action overrides
  medium: warn
# references:                    # other tables that checks name, relative to this file
#   accounts: ../data/accounts.csv

expectations:
  # schema: the shape of the data (critical by default: a failure halts)
  - expect_column_values_to_not_be_null: {column: customer_id}
  - expect_column_values_to_not_be_null: {column: event_timestamp}
  - expect_column_values_to_be_in_set: {column: label, value_set: [0, 1]}
  # business rules (high by default: a failure halts)
  - expect_column_values_to_be_between: {column: age, min_value: 18, max_value: 120}
  # a check with its own severity: missing incomes only warn, and only above 5 %
  - expect_column_values_to_not_be_null: {column: income, mostly: 0.95, severity: medium}
"""

README_MD = """\
# <<project>>

A Cairn project made by `cairn init --template blank`. Every file is valid as written and
explains its keys in comments; `cairn config schema KIND` prints each file's JSON Schema.

| File | What it declares |
|---|---|
| `cairn.yaml` | the project's name and settings (stores, tracking, monitoring, serving) |
| `features.py` | the entity `customer`, its source `data/customers.csv`, a feature view |
| `train.yaml` | the training job: rows, label, features, estimator |
| `deployments.yaml` | the deployment `customer`: model, threshold, decisions, label |
| `reason_codes.yaml` | the reason texts of its decisions |
| `experiments.yaml` | the metrics of its experiments |
| `quality/customers.yaml` | the data quality suite of `data/customers.csv` |

## Next steps

```bash
# 1. add data/customers.csv (customer_id,event_timestamp,age,income,label), or edit
#    features.py, train.yaml and quality/customers.yaml for your own data
cairn config check                     # every file valid?
cairn apply                            # register features.py
cairn quality validate quality/customers.yaml data/customers.csv
# 2. tokens prove who acts: with the admin token `cairn init` wrote, one per person
export CAIRN_TOKEN=$(cat .cairn/admin.token)
cairn auth token create --holder ana --role deployer > ana.token      # trains, promotes
cairn auth token create --holder carla --role approver > carla.token  # reviews
unset CAIRN_TOKEN
cairn train --config train.yaml --token-file ana.token   # register customer-model v1 (author ana)
cairn models approve customer-model 1 --token-file carla.token \
    --ticket MRR-2026-001 --decision approve            # four eyes: never the author
cairn models promote customer-model 1 --token-file ana.token --reason "MRR-2026-001 approved"
cairn materialize-incremental now      # load the online store
cairn serve                            # POST /v1/predict/customer
```
"""

GITIGNORE = """\
# Local state: metadata, MLflow, online store, offline tables, prediction log.
.cairn/
"""
