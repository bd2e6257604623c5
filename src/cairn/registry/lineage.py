"""Lineage: from a model version back to its run, data, checks, code and approvals.

``build_lineage(registry, "credit-default@champion")`` assembles the chain DESIGN §3.6 asks
for: model version → training run (params, metrics) → training-set manifest (feature refs,
definition hashes, source content hashes or Delta versions, time range, rows, label) →
quality results → code commit → packages → approvals, alias history and audit entries.
Approvals and alias moves are read from the audit chain, so a row written into
``cairn_approvals`` by SQL never shows up as an approver here. Parts
that cannot be found are listed in ``missing``; inconsistencies (a digest that differs between
the run, the version and the manifest, a dirty commit, an alias moved outside Cairn) in
``warnings``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cairn.registry.audit import AuditEntry
from cairn.registry.models import ModelRef, ModelRegistry
from cairn.tracking import DIGEST_TAG, MissingArtifactError, RunRecord, UnknownRunError
from cairn.training.trainer import ARTIFACTS


@dataclass(frozen=True)
class Lineage:
    """The chain behind one model version; ``complete`` when no part is missing."""

    ref: str
    model: dict[str, Any]
    run: dict[str, Any] | None = None
    training_set: dict[str, Any] | None = None
    label: str | None = None
    quality: dict[str, Any] | None = None
    code: dict[str, Any] | None = None
    packages: dict[str, str] = field(default_factory=dict)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)
    alias_history: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Every link of the chain was found."""
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``cairn lineage --json``)."""
        return {
            "ref": self.ref,
            "complete": self.complete,
            "model": self.model,
            "run": self.run,
            "training_set": self.training_set,
            "label": self.label,
            "quality": self.quality,
            "code": self.code,
            "packages": self.packages,
            "approvals": self.approvals,
            "policy": self.policy,
            "alias_history": self.alias_history,
            "audit": self.audit,
            "missing": self.missing,
            "warnings": self.warnings,
        }

    def to_json(self) -> str:
        """Indented JSON."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, default=str)


def build_lineage(registry: ModelRegistry, ref: str | ModelRef) -> Lineage:
    """The lineage of the version ``ref`` (``NAME@ALIAS`` or ``NAME/VERSION``) points at."""
    parsed, mv = registry.resolve(ref)
    missing: list[str] = []
    warnings: list[str] = []
    model = {**mv.to_dict(), "ref": str(parsed)}
    try:
        model["author"] = registry.author_of(mv)
    except Exception:  # reported as missing below; lineage still prints what it has
        missing.append("author (no cairn.author tag on the version or its run)")
    run = _run(registry, mv.run_id, missing)
    manifest = quality = env = config = None
    if run is not None:
        manifest = _artifact(registry, run.run_id, "manifest", missing, "training-set manifest")
        quality = _artifact(registry, run.run_id, "quality", missing, "quality results")
        env = _artifact(registry, run.run_id, "environment", missing, "environment")
        config = _artifact(registry, run.run_id, "config", missing, "training config")
    code = (env or {}).get("code")
    if env is not None and code is None:
        missing.append("code commit (the project folder was not in a git repository)")
    elif code and code.get("dirty"):
        warnings.append(
            f"trained from a dirty work tree at commit {str(code.get('sha'))[:12]} "
            f"({len(code.get('changed') or [])} uncommitted change(s))"
        )
    training_set = None
    if manifest is not None and run is not None:
        training_set = {**manifest, "dataset_inputs": [d.__dict__ for d in run.datasets]}
        warnings.extend(_digest_checks(manifest.get("digest"), run, mv.tags))
    approvals = [_approval(a) for a in registry.approvals.history(mv.name, mv.version)]
    if not approvals:
        missing.append(f"approvals (no review decision on {mv.name} v{mv.version})")
    history = [
        _move(m) for m in registry.aliases.history(mv.name) if mv.version in (m.version, m.previous)
    ]
    warnings.extend(registry.alias_drift(mv.name))
    policy = registry.policy(mv.name)
    if not policy.require_four_eyes:
        warnings.append(
            f"the four-eyes policy of {mv.name} is waived (by {policy.changed_by}: {policy.reason})"
        )
    entries = registry.audit.entries(subject=f"{mv.name}/{mv.version}")
    return Lineage(
        ref=str(parsed),
        model=model,
        run=None if run is None else _run_summary(run),
        training_set=training_set,
        label=None if config is None else config.get("label"),
        quality=quality,
        code=code,
        packages=dict((env or {}).get("packages") or {}),
        approvals=approvals,
        policy=policy.to_dict(),
        alias_history=history,
        audit=_audit(entries),
        missing=missing,
        warnings=warnings,
    )


def _run(registry: ModelRegistry, run_id: str | None, missing: list[str]) -> RunRecord | None:
    if not run_id:
        missing.append("training run (the version names no run)")
        return None
    try:
        return registry.tracker.get_run(run_id)
    except UnknownRunError:
        missing.append(f"training run {run_id} (not in the tracking store)")
        return None


def _artifact(
    registry: ModelRegistry, run_id: str, key: str, missing: list[str], what: str
) -> dict[str, Any] | None:
    try:
        found = registry.tracker.load_json(run_id, ARTIFACTS[key])
    except MissingArtifactError:
        missing.append(f"{what} ({ARTIFACTS[key]} of run {run_id})")
        return None
    return found if isinstance(found, dict) else None


def _digest_checks(digest: Any, run: RunRecord, version_tags: dict[str, str]) -> list[str]:
    out = []
    if run.tags.get(DIGEST_TAG) not in (None, digest):
        out.append(f"the run's {DIGEST_TAG} tag differs from its manifest's digest")
    if version_tags.get(DIGEST_TAG) not in (None, digest):
        out.append(f"the version's {DIGEST_TAG} tag differs from the run's manifest digest")
    for ds in run.datasets:
        if not str(digest).startswith(ds.digest):
            out.append(
                f"the run's dataset input {ds.name!r} has digest {ds.digest}, not the manifest's"
            )
    return out


def _run_summary(run: RunRecord) -> dict[str, Any]:
    data = run.to_dict()
    data["tags"] = {k: v for k, v in run.tags.items() if k.startswith("cairn.")}
    data.pop("datasets", None)
    return data


def _approval(a: Any) -> dict[str, Any]:
    return {
        "reviewer": a.reviewer,
        "ticket": a.ticket,
        "decision": a.decision,
        "note": a.note,
        "author": a.author,
        "at": a.at.isoformat(),
        "via": a.via,
        "audit_seq": a.audit_seq,
    }


def _move(m: Any) -> dict[str, Any]:
    return {
        "alias": m.alias,
        "version": m.version,
        "previous": m.previous,
        "actor": m.actor,
        "reason": m.reason,
        "at": m.at.isoformat(),
        "audit_seq": m.audit_seq,
    }


def _audit(entries: list[AuditEntry]) -> list[dict[str, Any]]:
    return [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "subject": e.subject,
            "hash": e.hash,
        }
        for e in entries
    ]
