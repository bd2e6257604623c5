"""How the quickstart prints its model-families step: the scorecard, its shadow, a decline
with points-based reasons and counterfactuals (:mod:`cairn.quickstart.families_demo`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table

from cairn.ui.terminal.console import console
from cairn.ui.terminal.predictions import cell_text

if TYPE_CHECKING:
    from cairn.quickstart.families_demo import FamiliesDemo


def print_families_demo(demo: FamiliesDemo) -> None:
    """The scorecard beside the booster: metrics, shadow agreement, a decline explained in
    points and the fewest changes that would have approved it."""
    card = demo.scorecard
    metrics = card.metrics
    console.print(
        f"[bold]Model families[/]: points scorecard {escape(demo.ref)} (AUC "
        f"{metrics.get('valid_auc', float('nan')):.4f} on validation), approved by a second "
        f"person, serves deployment credit-scorecard with the LightGBM champion "
        f"{escape(demo.champion)} in shadow.",
        highlight=False,
    )
    a = demo.agreement
    if a:
        console.print(
            f"  {demo.requests} predictions, {demo.failed} failed; on {int(a['pairs'])} shadow "
            f"pairs the two families made the same decision on {a['same']:.1%}"
            + (f" (score correlation {a['score_corr']:.3f})" if "score_corr" in a else ""),
            highlight=False,
        )
    console.print(f"  global explanation page (with the points table): {demo.page}")
    d = demo.declined
    reasons = Table(
        "code", "reason", "feature", "value", "points short of neutral",
        title=f"Scorecard decline {d['prediction_id']} (P(default) {d['score']:.3f})",
        title_justify="left",
    )  # fmt: skip
    for r in d["reason_codes"]:
        reasons.add_row(
            r["code"], r["text"], r["feature"], cell_text(r["value"]), f"{r['contribution']:.1f}"
        )
    console.print(reasons)
    print_counterfactual("Counterfactual (scorecard)", demo.counterfactual)
    print_counterfactual("Counterfactual (LightGBM champion)", demo.booster_counterfactual)


def print_counterfactual(title: str, answer: dict[str, Any]) -> None:
    """One ``GET /v1/explanations/{id}/counterfactual`` answer as a table (or why none)."""
    cf = answer.get("counterfactual") or {}
    how = f"{cf.get('method', '?')}, {cf.get('elapsed_ms', 0.0):.1f} ms"
    if not cf.get("found"):
        console.print(f"{title}: none ({escape(str(cf.get('reason')))}; {how})", highlight=False)
        return
    console.print(
        f"{title}: {answer.get('decision')} -> {cf.get('decision')} (score "
        f"{answer.get('score', 0.0):.3f} -> {cf.get('score', 0.0):.3f}; {how})",
        highlight=False,
    )
    table = Table("feature", "from", "to")
    for change in cf.get("changes", []):
        table.add_row(change["feature"], cell_text(change["from"]), cell_text(change["to"]))
    console.print(table)
