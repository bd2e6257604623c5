"""How the quickstart prints what it did: one section per step, for a terminal.

:func:`print_report` prints a whole :class:`~cairn.quickstart.run.QuickstartReport`; each step's
section reuses the CLI's views of :mod:`cairn.ui.terminal` (drift tables, lineage trees,
quality results, experiment analyses), so the quickstart shows results exactly as the commands
that produce them do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from cairn.core.timeutil import from_micros
from cairn.ui.terminal.console import console
from cairn.ui.terminal.experiments import print_comparison, print_summary
from cairn.ui.terminal.lineage import print_lineage
from cairn.ui.terminal.monitoring import drift_table
from cairn.ui.terminal.predictions import cell_text
from cairn.ui.terminal.predictions import print_result as print_query_result
from cairn.ui.terminal.quality import (
    ACTION_STYLE,
    observed_text,
    print_health,
    unexpected_text,
    verdict_text,
)

if TYPE_CHECKING:
    from cairn.quickstart.dashboard_demo import DashboardDemo
    from cairn.quickstart.experiment_demo import ExperimentDemo
    from cairn.quickstart.monitoring_demo import MonitoringDemo
    from cairn.quickstart.quality_demo import QualityDemo
    from cairn.quickstart.retraining_demo import RetrainingDemo
    from cairn.quickstart.rollout_demo import RolloutDemo
    from cairn.quickstart.run import QuickstartReport
    from cairn.quickstart.serving_demo import ServingDemo
    from cairn.quickstart.streaming_demo import StreamingDemo
    from cairn.quickstart.training_demo import TrainingDemo


def print_report(report: QuickstartReport) -> None:
    """The Rich summary of a quickstart run."""
    steps = Table(
        "step", "seconds", title=f"Cairn quickstart in {report.path}", title_justify="left"
    )
    for name, seconds in report.steps:
        steps.add_row(name, f"{seconds:.2f}")
    console.print(steps)
    if report.quality is not None:
        print_quality_demo(report.quality)
    if report.applied is not None:
        counts: dict[str, int] = {}
        for c in report.applied.changes:
            counts[c.kind] = counts.get(c.kind, 0) + 1
        console.print(
            "Applied: " + ", ".join(f"{n} {k.replace('_', ' ')}(s)" for k, n in counts.items())
        )
    frame, manifest = report.training_set, report.manifest
    if frame is None or manifest is None:
        return
    features = Table(
        "feature",
        "dtype",
        "null share",
        "mean / top",
        title=f"Training set: {len(frame)} rows x {len(report.feature_columns)} "
        f"features -> {report.training_set_path}",
        title_justify="left",
    )
    for col in report.feature_columns:
        s = frame[col]
        if s.dtype.kind in "if":
            summary = f"{s.mean():.3g}"
        else:
            top = s.dropna().astype(str).value_counts()
            summary = top.index[0] if len(top) else "-"
        features.add_row(col, str(s.dtype), f"{s.isna().mean():.1%}", summary)
    console.print(features)
    sources = "\n".join(
        f"  {name}: {info.get('sha256') or 'delta v' + str(info.get('delta_version'))}"[:90]
        for name, info in manifest.sources.items()
    )
    if report.late_rows_hidden:
        console.print(
            f"Point in time: {report.late_rows_hidden} applications had a profile update with an "
            f"earlier event time that was only known later; the training set does not see it."
        )
    console.print(
        Panel(
            f"digest {manifest.digest}\nentity rows {manifest.entity['rows']} from "
            f"{manifest.entity['start']} to {manifest.entity['end']}\n"
            f"views "
            + ", ".join(f"{v} v{m['version']}" for v, m in manifest.feature_views.items())
            + f"\nsources (content SHA-256):\n{sources}",
            title="Manifest",
            title_align="left",
        )
    )

    print_online(report)
    if report.training is not None:
        print_training_demo(report.training)
    if report.serving is not None:
        print_serving_demo(report.serving)
    if report.monitoring is not None:
        print_monitoring_demo(report.monitoring)
    if report.rollout is not None:
        print_rollout_demo(report.rollout)
    if report.experiment is not None:
        print_experiment_demo(report.experiment)
    if report.streaming is not None:
        print_streaming_demo(report.streaming)
    if report.retraining is not None:
        print_retraining_demo(report.retraining)
    if report.families is not None:
        from cairn.quickstart.families_printer import print_families_demo

        print_families_demo(report.families)
    if report.dashboard is not None:
        print_dashboard_demo(report.dashboard)
    else:
        console.print(
            f"\nSee all of it in the dashboard: cairn ui --repo {report.path} "
            "(then http://127.0.0.1:8080/ui/), or at /ui of cairn serve.",
            highlight=False,
        )


def print_dashboard_demo(demo: DashboardDemo) -> None:
    """How many dashboard pages rendered, how fast, which failed; the command serving them."""
    slow = demo.slowest
    console.print(
        f"[bold]Dashboard[/]: {len(demo.visits)} pages rendered over this project in process "
        f"(median {demo.median_ms:.0f} ms, slowest {slow.milliseconds:.0f} ms: "
        f"{escape(slow.path)}), {len(demo.failed)} failed.",
        highlight=False,
    )
    for visit in demo.failed:
        console.print(f"  [red]{visit.status}[/] {escape(visit.path)}", highlight=False)
    console.print(
        f"\nSee all of it in the dashboard: {demo.command} → http://127.0.0.1:8080/ui/ "
        "(or /ui of cairn serve, with a viewer token).",
        highlight=False,
    )


def _share(value: object) -> str:
    return f"{value:.1%}" if isinstance(value, float) else "-"


def print_retraining_demo(demo: RetrainingDemo) -> None:
    """The retraining step: what the controller did, and the run's ledger entry."""
    console.print(f"[bold]Retraining[/] (policy {demo.policy}, `cairn retrain watch --once`):")
    for s in demo.steps:
        if s.event != "waiting" or s is demo.steps[-1]:
            console.print(f"  {escape(s.line())}", highlight=False)
    console.print(
        f"  shadow traffic: {demo.requests} predictions served, {demo.failed} failed",
        highlight=False,
    )
    e = demo.entry
    if e is None:
        return
    gates = e.numbers.get("gates") or {}
    window = e.numbers.get("data_window") or {}
    lines = [
        f"#{e.id} {e.policy}: {e.action} {e.trigger} [{e.window}] -> {e.state}",
        f"decided: {e.numbers.get('features') and ', '.join(e.numbers['features'])} drifted "
        f"(monitoring runs {e.numbers.get('monitor_runs')})",
        f"candidate {e.numbers.get('candidate')} (run {e.training_run_id}), trained on "
        f"{window.get('start', '?')} to {window.get('end', '?')}",
        *(f"gate {c['gate']}: {'pass' if c['passed'] else 'FAIL'} - {c['detail']}"
          for c in gates.get("checks", [])),
        f"shadow: {e.numbers.get('shadow_predictions')} predictions, same decision as the "
        f"champion on {_share(e.numbers.get('decision_agreement'))}",
        f"now: {e.reason}",
    ]  # fmt: skip
    console.print(
        Panel(escape("\n".join(lines)), title="Retraining ledger entry", title_align="left")
    )
    report = demo.backtest
    if report is None:
        return
    from cairn.ui.terminal.backtest import gate_text, summary_table

    console.print(
        f"[bold]Backtest[/] of {demo.policy} over the example's history "
        f"({from_micros(report.start):%Y-%m-%d} to {from_micros(report.end):%Y-%m-%d}, "
        f"every 30 days; `cairn retrain backtest`): the policy's decisions",
        highlight=False,
    )
    for line in report.lines("policy"):
        d = line.decision
        console.print(
            f"  {from_micros(d.at):%Y-%m-%d} {d.trigger} {d.action} -> {line.state}: "
            f"{escape(gate_text(line) if line.gate is not None else d.reason)}",
            highlight=False,
        )
    console.print(summary_table(report))


def print_streaming_demo(demo: StreamingDemo) -> None:
    """The streaming step: the replay, one card payment in a prediction, parity."""
    status = demo.status
    counts = status["counts"]
    console.print(
        f"Moved the card transactions onto the embedded event log ({status['partitions']} "
        f"partitions; `cairn stream run` built {', '.join(status['views'])} from the history), "
        f"then streamed {demo.replayed:,} of them re-stamped to the last hour: "
        f"{counts.get('events', 0):,} events processed, {counts.get('landed', 0):,} landed, "
        f"lag {status['lag_events']} events.",
        highlight=False,
    )
    table = Table(
        f"customer {demo.customer}",
        *demo.before,
        "credit score",
        title="A card payment one second before the prediction",
        title_justify="left",
    )
    table.add_row("before", *(_cell(v) for v in demo.before.values()), f"{demo.score_before:.4f}")
    table.add_row("after", *(_cell(v) for v in demo.after.values()), f"{demo.score_after:.4f}")
    console.print(table)
    timings = sorted(demo.fresh_all_ms)
    console.print(
        f"Served by `cairn serve` {demo.fresh_ms:.0f} ms after `produce` returned "
        f"(median of {len(timings)}: {timings[len(timings) // 2]:.0f} ms); the credit "
        f"deployment's score moved {demo.score_after - demo.score_before:+.4f}.",
        highlight=False,
    )
    if demo.backfill is not None:
        b = demo.backfill
        console.print(
            f"Changed card_velocity while served (+txn_amount_1h): `cairn stream run` "
            f"backfilled it beside the live definition and switched {b.switched_s:.1f} s after "
            f"the apply; the live definition answered all {b.served} reads meanwhile, the new "
            f"feature {b.refused or '-'} until the server re-read the definitions, then "
            f"{_cell(b.value)} for customer {demo.customer} ({b.seconds:.1f} s after the apply).",
            highlight=False,
        )
    for check in demo.consistency:
        verdict = f"[green]{check.verdict()}[/]" if check.ok else f"[red]{check.verdict()}[/]"
        console.print(
            f"Parity {check.view}: {check.keys} keys online vs the batch engine over the "
            f"history and the landed events: {verdict}"
        )


def _cell(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def print_online(report: QuickstartReport) -> None:
    """The online half of the summary: materialization, a read, consistency, freshness."""
    if report.materialized:
        done = ", ".join(
            f"{r.view}: {r.records:,} records / {r.tiles:,} tiles in {r.seconds:.2f}s"
            for r in report.materialized
        )
        console.print(f"Materialized: {done}")
    if report.online_sample is not None and report.online_at is not None:
        sample = report.online_sample
        shown = ["customer_id", "found", *report.feature_columns[:4], *report.feature_columns[-3:]]
        table = Table(
            *shown,
            title=f"Online features at {report.online_at:%Y-%m-%d %H:%M} UTC "
            f"(one read: {report.online_read_us or 0:.0f} µs p50 in process)",
            title_justify="left",
        )
        for values in sample[shown].itertuples(index=False):
            table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in values))
        console.print(table)
    for check in report.consistency:
        verdict = f"[green]{check.verdict()}[/]" if check.ok else f"[red]{check.verdict()}[/]"
        console.print(
            f"Consistency {check.view}: {check.keys} keys x "
            f"{len(check.mismatches)} features online vs offline: {verdict}"
        )
    for info in report.status:
        console.print(
            f"Freshness {info['view']}: watermark {info['watermark']}, newest event "
            f"{info['max_event']} ({info['freshness_seconds'] or 0:,.0f} s behind now: the demo "
            f"data ends in the past)"
        )


def print_monitoring_demo(demo: MonitoringDemo) -> None:
    """The monitoring part of the quickstart: the two months and what monitoring said."""
    console.print(
        f"Logged {demo.predictions:,} predictions over two months (and {demo.outcomes:,} "
        f"outcomes); the second month changed: {'; '.join(demo.changes)}.",
        highlight=False,
    )
    for name, outcome in (("Stable month", demo.stable), ("Drifted month", demo.drifted)):
        run = outcome.run
        flagged = run.flagged()
        console.print(
            f"[bold]{name}[/] (run #{run.run_id}): {run.window.describe()} — "
            f"{escape('drifted: ' + ', '.join(flagged)) if flagged else 'no drift'}",
            highlight=False,
        )
        if run.performance is not None:
            console.print(f"  performance: {run.performance.describe()}", highlight=False)
        for change in outcome.changes:
            console.print(f"  band change: {change.describe()}", highlight=False, markup=False)
    shown = [f for f in demo.drifted.run.results() if f.drifted or f.feature == "score"]
    console.print(drift_table(shown, title="Drifted month: what moved"))
    console.print(f"Report: {demo.report} (cairn monitor report --deployment credit)")


def print_experiment_demo(demo: ExperimentDemo) -> None:
    """The experiment step of the quickstart: the arms, the challenger, the report."""
    print_summary(demo.analysis)
    if demo.comparison is not None:
        print_comparison(demo.comparison)
    elif demo.comparison_note:
        console.print(f"[yellow]{demo.comparison_note}[/]")
    console.print(f"Experiment report: {demo.report}")


def print_training_demo(demo: TrainingDemo) -> None:
    """The training half of the quickstart: both models, the review, the promotion, lineage."""
    steps = Table("step", "seconds", title="Training and governance", title_justify="left")
    for name, seconds in demo.steps:
        steps.add_row(name, f"{seconds:.2f}")
    console.print(steps)
    table = Table(
        "model", "version", "AUC", "KS", "Gini", "Brier", "metrics of", "top feature", "alias",
        title=f"{demo.champion.model_name}: champion vs challenger ({demo.config_path.name})",
        title_justify="left",
    )  # fmt: skip
    for result, alias in ((demo.champion, "champion"), (demo.challenger, "challenger")):
        m = result.reported  # the test part's metrics (validation for a two-way split)
        top = result.importance.top(1)
        table.add_row(
            result.flavor,
            str(result.version),
            f"{m['auc']:.4f}",
            f"{m['ks']:.4f}",
            f"{m['gini']:.4f}",
            f"{m['brier']:.4f}",
            result.split.reported,
            top[0][0] if top else "-",
            alias,
        )
    console.print(table)
    a = demo.approval
    console.print(
        f"Review: {a.reviewer} approved v{a.version} (author {a.author}) under {a.ticket}; "
        f"{demo.author} promoted it to champion."
    )
    print_governance(demo)
    print_lineage(demo.lineage)


def print_governance(demo: TrainingDemo) -> None:
    """The refused self-approval, then the governance entries of the audit chain from it on:
    who acted (the principal a token proved), what, on what."""
    r = demo.refused
    if r is not None:
        console.print(
            f"Refused: {escape(r.actor)} may not approve their own version "
            f"v{r.subject.rpartition('/')[2]} (four eyes; audit #{r.seq} {r.action})"
        )
    if not demo.governance:
        return
    table = Table(
        "#", "action", "actor", "role", "via", "subject", "detail",
        title="Audit log: governance actions (each by a token's principal)",
        title_justify="left",
    )  # fmt: skip
    for e in demo.governance:
        who = e.details.get("principal") or {}
        d = e.details
        if e.action == "governance.refused":
            detail = f"{d.get('action')}: {str(d.get('reason', '')).split(';')[0]}"
        elif e.action == "approval.recorded":
            detail = f"{d.get('decision')} {d.get('ticket')}"
        elif e.action == "alias.moved":
            detail = f"{d.get('previous') or '-'} -> {d.get('version') or '-'}"
        elif d.get("alias") == "champion":
            detail = f"champion (four eyes {d.get('four_eyes')})"
        else:
            detail = str(d.get("alias"))
        table.add_row(
            str(e.seq),
            e.action,
            escape(e.actor),
            str(who.get("role", "-")),
            escape(str(who.get("via", "-"))),
            escape(e.subject),
            escape(detail),
        )
    console.print(table)


def print_quality_demo(demo: QualityDemo) -> None:
    """The quality step of the quickstart: each example suite, then the broken batch halted."""
    table = Table(
        "suite",
        "data",
        "rows",
        "checks",
        "health",
        "verdict",
        "seconds",
        title=f"Data quality (freshness as of {demo.as_of:%Y-%m-%d %H:%M} UTC, the end of the "
        f"demo data)",
        title_justify="left",
    )
    for r in demo.results:
        passed = sum(c.success for c in r.checks)
        health = "-" if r.health.score is None else f"{r.health.score:.1f}"
        table.add_row(
            r.suite,
            r.data,
            f"{r.rows:,}",
            f"{passed}/{len(r.checks)} pass",
            health,
            verdict_text(r.verdict),
            f"{r.seconds:.2f}",
        )
    console.print(table)
    broken = demo.broken
    console.print("Broken batch: " + "; ".join(demo.faults) + ".", markup=False)
    failed = Table("#", "check", "target", "severity", "observed", "unexpected", "action")
    for c in broken.failures:
        failed.add_row(
            str(c.index),
            c.expectation.removeprefix("expect_"),
            c.target,
            str(c.severity),
            observed_text(c),
            unexpected_text(c),
            f"[{ACTION_STYLE[c.action]}]{c.action}[/]",
        )
    console.print(failed)
    print_health(broken)
    if demo.halted:
        console.print(Panel(escape(demo.halted), title="Halted", title_align="left", style="red"))


def print_serving_demo(demo: ServingDemo) -> None:
    """The serving half of the quickstart: a declined decision, its reasons, the log."""
    d = demo.declined
    console.print(
        f"Served {demo.requests} predictions at {demo.url} (client round trip p50 "
        f"{demo.client_p50_ms:.2f} ms)."
    )
    console.print(
        f"Declined: prediction {d['prediction_id']} by {d['model']['name']} "
        f"v{d['model']['version']}, score {d['score']:.3f} (server {d['latency_ms']:.2f} ms)"
    )
    reasons = Table(
        "code",
        "reason",
        "feature",
        "value",
        "contribution",
        title="Reason codes",
        title_justify="left",
    )
    for r in d["reason_codes"]:
        reasons.add_row(
            r["code"], r["text"], r["feature"], cell_text(r["value"]), f"{r['contribution']:+.3f}"
        )
    console.print(reasons)
    console.print(d["summary"])
    r = demo.referred
    if r is not None:
        console.print(
            f"Unknown applicant: decision [bold]{r['decision']}[/] (a person decides; no "
            f"adverse-action reasons), {r['features_missing']} of the model's features missing."
        )
    console.print(f"Loaded {demo.outcomes_loaded} outcomes through POST /v1/outcomes.")
    print_query_result(
        demo.log, title='cairn predictions query "... FROM predictions LEFT JOIN outcomes ..."'
    )


def print_rollout_demo(demo: RolloutDemo) -> None:
    """The rollout step of the quickstart, for a terminal."""
    out = console
    out.print(
        f"Rollouts: {demo.requests} requests over HTTP, [bold]{demo.failed} failed[/], "
        f"{demo.seconds:.1f} s; challenger {demo.challenger}, slow candidate {demo.slow}."
    )
    out.print(
        f"Shadow: {demo.shadow_rows} challenger scores logged under {demo.shadow_ids} of the "
        f"champion's prediction ids (off the request path)."
    )
    for pid, arm, primary, shadow in demo.shadow_sample:
        out.print(f"  {pid}…  champion {primary:.3f}  {arm} {shadow:.3f}", highlight=False)
    ab = Table("arm", "weight", "predictions", "share", title="A/B 50/50, sticky by customer")
    total = sum(demo.ab_counts.values()) or 1
    for arm, weight in demo.ab_weights.items():
        count = demo.ab_counts.get(arm, 0)
        ab.add_row(arm, f"{weight:.0%}", str(count), f"{count / total:.1%}")
    out.print(ab)
    out.print(
        f"SRM χ² p = {demo.ab_srm_p:.3f} (below 0.001 would mean broken assignment); "
        f"{demo.ab_labeled} A/B predictions labeled, {demo.outcomes} outcomes posted in all."
    )
    table = Table("canary", "stage", "decision", "gate", "why", title="Canary controller")
    for name, steps in (("challenger", demo.canary_steps), ("slow", demo.broken_steps)):
        for s in steps:
            table.add_row(name, f"{s.percent:g}%", s.decision.action, s.decision.gate,
                          s.decision.reason)  # fmt: skip
    out.print(table)
    promoted = [s for s in demo.canary_steps if s.decision.action == "promote"]
    if promoted and promoted[-1].decision.model_line():
        out.print(
            f"Model gates at promotion: {promoted[-1].decision.model_line()}.", highlight=False
        )
    out.print(
        f"Champion is now {demo.challenger.split('/')[0]} v{demo.champion} "
        "(promoted through four eyes)."
    )
    rolled = demo.rollback
    if rolled is not None:
        n = rolled.decision.numbers
        out.print(
            f"Slow canary rolled back by gate [bold]{rolled.decision.gate}[/] after "
            f"{n.get('canary_n')} canary rows: mean latency "
            f"{n.get('canary_latency_mean_ms', 0):.2f} vs {n.get('control_latency_mean_ms', 0):.2f}"
            f" ms, p99 {n.get('canary_p99_ms', 0):.2f} vs {n.get('control_p99_ms', 0):.2f} ms."
        )
    state = "[green]intact[/]" if demo.audit_ok else "[red]BROKEN[/]"
    out.print(f"Audit chain {state}: {demo.audit_entries} entries.")
