"""The example credit project's ``retraining.yaml``."""

from __future__ import annotations

from pathlib import Path

from cairn.retraining.policy import RETRAINING_FILE

POLICY = "credit-drift"

EXAMPLE_RETRAINING = """\
# Retraining policies of the example credit project: `cairn retrain watch` acts on them,
# `cairn retrain status` shows where each stands (`cairn config schema retraining`: every key).
policies:
  credit-drift:
    deployment: credit
    training: train.yaml           # what `cairn train --config train.yaml` trains
    schedule: {cron: "0 6 1 * *", timezone: Europe/Paris}   # and on the 1st of each month
    triggers:
      # two or more inputs (the score counts as one) drifted in the latest monitoring run
      drift: {kinds: [drift, score_drift], band: drift, min_features: 2, persistence: 1}
      performance: {metric: auc, max_drop: 0.05, min_labeled: 200}
    cooldown: 7d                   # at most one run a week (a person's request excepted)
    budget: {max_runs: 4, period: 30d}
    data_window: {lookback: 730d, label_maturity: 0s}   # the example's labels arrive at once
    gates:                         # on the latest 15 % of the window, for both models
      quality: [applications]      # quality/applications.yaml on the rows known at the run
      metric_floors: {auc: 0.75}
      max_loss: {auc: 0.03}        # the candidate trains on less data (15 % held out for
                                   # the test): at most 0.03 AUC below the champion
      max_ece: 0.08
      min_adverse_impact_ratio: 0.8   # approvals across marital groups (four-fifths rule)
      fairness_attribute: marital
    promotion:
      shadow: {min_predictions: 100, min_days: 0}   # real deployments: thousands, 7+ days
      canary: [0.1, 0.5]           # 10 % -> 50 % -> promoted, gated by `cairn deploy watch`
      approval: four_eyes
"""


def write_example_retraining(project_path: str | Path) -> Path:
    """Write the example project's ``retraining.yaml`` and return its path.

    Example
    -------
    >>> import tempfile
    >>> from cairn.retraining.policy import load_policies
    >>> path = write_example_retraining(tempfile.mkdtemp())
    >>> list(load_policies(path)), load_policies(path)[POLICY].gates.fairness_attribute
    (['credit-drift'], 'marital')
    """
    path = Path(project_path) / RETRAINING_FILE
    path.write_text(EXAMPLE_RETRAINING, encoding="utf-8")
    return path
