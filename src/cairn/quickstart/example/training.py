"""The example credit project's training config (``train.yaml``)."""

from __future__ import annotations

from pathlib import Path

from cairn.quickstart.example._templates import FEATURE_REFS

CONFIG_FILE = "train.yaml"
MODEL_NAME = "credit-default"
ENTITIES = "SELECT customer_id, event_timestamp, defaulted FROM applications"

EXAMPLE_CONFIG = f"""\
# Training job of the example credit project: `cairn train --config train.yaml`.
model_name: {MODEL_NAME}
description: Probability that an applicant defaults within 12 months.

# The entity rows and the label: SQL over the applied sources (or a Parquet/CSV path).
entities: {ENTITIES}
label: defaulted
features:
{chr(10).join(f"  - {ref}" for ref in FEATURE_REFS)}

validation_fraction: 0.2   # the latest 20 % of applications (by event_timestamp) validate
# split: {{validation: 0.15, test: 0.15}}   # instead: early stopping on validation, metrics
#                          # reported on the latest 15 % (test); see docs/concepts/time.md
# label_maturity: 365d     # or label_available_at: COLUMN; drop labels not known in time
split_warnings:            # warn when the parts differ (printed, logged with the run)
  label_rate_ratio: 1.5    # one part's default rate >= 1.5x another's, and z-test p < 0.001
  feature_psi: 0.25        # a feature's PSI between the train rows and a later part
threshold: 0.5             # scores at or above it are predicted defaults (precision/recall)
seed: 7

model:
  type: lightgbm           # or sklearn, with estimator: a dotted class path
  num_boost_round: 200
  threads: 1               # exactly reproducible (cairn train --reproduce RUN_ID), and fast on
                           # a busy machine, where OpenMP's spinning threads slow a fit down
  params:                  # LightGBM's own parameters
    learning_rate: 0.05
    num_leaves: 15
    min_data_in_leaf: 40
    feature_fraction: 0.8

reference:                 # the profile monitoring compares live traffic with
  bins: 10
  sample: 1000
  rows: validation
"""


def write_example_config(project_path: str | Path) -> Path:
    """Write the example project's ``train.yaml`` (LightGBM on all 21 features) and return it.

    Example
    -------
    >>> import tempfile
    >>> from cairn.training import TrainConfig
    >>> path = write_example_config(tempfile.mkdtemp())
    >>> TrainConfig.from_yaml(path).model_name
    'credit-default'
    """
    path = Path(project_path) / CONFIG_FILE
    path.write_text(EXAMPLE_CONFIG, encoding="utf-8")
    return path
