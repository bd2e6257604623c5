"""The example credit project's reason-code file (``reason_codes.yaml``)."""

from __future__ import annotations

from pathlib import Path

from cairn.explain.reason_codes import REASON_CODES_FILE

EXAMPLE_REASON_CODES = """\
# Adverse-action reason texts of the example credit project, per feature and direction.
# A factor pushing toward decline is "high" or "low" against `reference` (default: the
# model's median split threshold), "missing" when absent, "category" for a level ({value}).
default: Other factors in the credit profile
features:
  income:
    code: R01
    low: Income insufficient for the amount requested
    missing: Income not verified
  expenses:   {code: R02, high: Monthly expenses too high, low: Monthly expenses not established}
  assets:     {code: R03, low: Insufficient assets, high: Asset level unusual for the application}
  debt:       {code: R04, high: Existing debt too high, low: Limited credit history}
  seniority:  {code: R05, low: Length of employment too short, high: Employment record unusual}
  age:
    code: R06
    low: Limited length of credit history
    high: Length of credit history unusual
  home:       {code: R07, category: "Housing status ({value})", missing: Housing status unknown}
  marital:    {code: R08, category: "Household situation ({value})"}
  records:    {code: R09, category: "Derogatory public records ({value})"}
  job:        {code: R10, category: "Employment type ({value})", missing: Employment type unknown}
  amount_sum_24h:        {code: T01, high: Spending in the last 24 hours too high}
  amount_count_24h:      {code: T02, high: Too many transactions in the last 24 hours}
  amount_count_7d:
    code: T03
    high: Too many transactions in the last 7 days
    low: Too little recent account activity
  amount_sum_7d:
    code: T04
    high: Spending in the last 7 days too high
    low: Too little recent account activity
  amount_mean_30d:       {code: T05, high: Average transaction amount too high}
  amount_max_30d:        {code: T06, high: Largest recent transaction too high}
  amount_std_30d:        {code: T07, high: Spending pattern too irregular}
  amount_sum_90d:
    code: T08
    high: Spending in the last 90 days too high
    low: Too little account activity
  cash_advance_sum_30d:  {code: T09, high: Cash advances in the last 30 days too high}
  cash_advance_sum_90d:  {code: T10, high: Cash advances in the last 90 days too high}
  late_night_mean_30d:   {code: T11, high: Too many late-night transactions}
"""


def write_example_reason_codes(project_path: str | Path) -> Path:
    """Write the example project's ``reason_codes.yaml`` and return its path.

    Example
    -------
    >>> import tempfile
    >>> from cairn.explain import ReasonCodeBook
    >>> path = write_example_reason_codes(tempfile.mkdtemp())
    >>> ReasonCodeBook.from_yaml(path).code("debt")
    'R04'
    """
    path = Path(project_path) / REASON_CODES_FILE
    path.write_text(EXAMPLE_REASON_CODES, encoding="utf-8")
    return path
