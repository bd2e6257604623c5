"""The example credit project's ``deployments.yaml``."""

from __future__ import annotations

from pathlib import Path

from cairn.core.deployments import DEPLOYMENTS_FILE

EXAMPLE_DEPLOYMENTS = """\
# Deployments of the example credit project: `cairn serve` answers POST /v1/predict/credit.
deployments:
  credit:
    model: credit-default@champion
    threshold: 0.5             # score >= threshold -> the positive decision
    decision:                  # the decisions it makes; favorable: the one good for the applicant
      positive: decline
      negative: approve
      favorable: negative
    label:                     # what a label of 1 means, and when outcome metrics count it
      name: defaulted
      maturity: 0s             # the example's labels arrive at once; real defaults take 60-90d
    explain: positive          # reason codes on the request path for the positive decision only
    reason_codes: reason_codes.yaml
    top_k: 4
    feature_budget_ms: 50
    fallback:                  # online store down or slow: score the champion on defaults
      model: credit-default@champion
      defaults: {seniority: 0, records: "no"}
    counterfactual:            # GET /v1/explanations/{id}/counterfactual: what may change
      immutable: [age, marital]
      directions: {income: increase, debt: decrease, assets: increase, seniority: increase}
      max_changes: 3
      budget_ms: 200
"""


def write_example_deployments(project_path: str | Path) -> Path:
    """Write the example project's ``deployments.yaml`` and return its path."""
    path = Path(project_path) / DEPLOYMENTS_FILE
    path.write_text(EXAMPLE_DEPLOYMENTS, encoding="utf-8")
    return path
