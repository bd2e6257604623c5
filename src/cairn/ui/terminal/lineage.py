"""A model version's lineage as a tree, for a terminal."""

from __future__ import annotations

from typing import Any

from rich.tree import Tree

from cairn.registry.lineage import Lineage
from cairn.ui.terminal.console import console, err_console


def print_lineage(found: Lineage) -> None:
    """The lineage as a Rich tree, then what is missing and any warnings."""
    m = found.model
    tree = Tree(
        f"[bold]{found.ref}[/] -> {m['name']} v{m['version']} "
        f"(author {m.get('author') or '?'}, {m.get('tags', {}).get('cairn.flavor', '?')})"
    )
    run = found.run
    if run is not None:
        metrics = run.get("metrics", {})
        node = tree.add(f"run {run['run_id']} [{run['status']}] started {run['start_time']}")
        node.add(
            "validation: "
            + ", ".join(
                f"{k} {metrics[f'valid_{k}']:.4f}"
                for k in ("auc", "ks", "gini", "precision", "recall", "brier")
                if f"valid_{k}" in metrics
            )
        )
    ts = found.training_set
    if ts is not None:
        _manifest_node(tree, ts, found.label)
    if found.quality is not None:
        q = found.quality
        counts = q.get("counts", {})
        tree.add(
            f"quality: {'passed' if q.get('passed') else 'FAILED'} "
            f"({counts.get('pass', 0)} pass, {counts.get('warn', 0)} warn, "
            f"{counts.get('fail', 0)} fail)"
        )
    code = found.code
    if code is not None:
        dirty = " [yellow](dirty)[/]" if code.get("dirty") else ""
        tree.add(f"code: commit {code.get('sha')}{dirty}")
    if found.packages:
        tree.add("packages: " + ", ".join(f"{k} {v}" for k, v in found.packages.items()))
    four_eyes = "required" if found.policy.get("require_four_eyes", True) else "WAIVED"
    reviews = tree.add(f"approvals (four eyes {four_eyes})")
    for a in found.approvals:
        proof = f", {a['via']}" if a.get("via") else ""
        seq = f", audit #{a['audit_seq']}" if a.get("audit_seq") is not None else ""
        reviews.add(
            f"{a['decision']} by {a['reviewer']} ({a['ticket']}{proof}{seq}) at {a['at']}: "
            f"{a['note']}"
        )
    if found.alias_history:
        moves = tree.add("alias moves")
        for mv in found.alias_history:
            moves.add(
                f"{mv['at']} {mv['alias']}: {mv['previous'] or '-'} -> {mv['version'] or '-'} "
                f"by {mv['actor']} ({mv['reason']})"
            )
    if found.audit:
        tree.add(
            "audit: " + ", ".join(f"#{e['seq']} {e['action']} by {e['actor']}" for e in found.audit)
        )
    console.print(tree)
    for item in found.missing:
        err_console.print(f"[red]missing:[/] {item}")
    for item in found.warnings:
        err_console.print(f"[yellow]warning:[/] {item}")
    if found.complete:
        console.print("[green]Lineage complete.[/]")


def _manifest_node(tree: Tree, ts: dict[str, Any], label: str | None) -> None:
    entity = ts.get("entity", {})
    node = tree.add(
        f"training set: {ts.get('row_count', 0):,} rows, digest {ts.get('digest')} "
        f"(full-content SHA-256)"
    )
    node.add(
        f"entity rows {entity.get('start')} .. {entity.get('end')}, label {label!r}, "
        f"sha256 {str(entity.get('sha256'))[:16]}…"
    )
    views = node.add(f"{len(ts.get('feature_refs', []))} features from")
    for name, view in ts.get("feature_views", {}).items():
        views.add(
            f"{name} v{view.get('version')} definition {str(view.get('definition_hash'))[:16]}… "
            f"({len(view.get('features', []))} features)"
        )
    sources = node.add("sources")
    for name, src in ts.get("sources", {}).items():
        version = (
            f"delta v{src['delta_version']}"
            if src.get("delta_version") is not None
            else f"sha256 {str(src.get('sha256'))[:16]}…"
        )
        sources.add(f"{name}: {version} ({src.get('files')} file(s))")
