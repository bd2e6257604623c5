"""``reproduce``: rebuild a run's training set, prove it is the same data, train again.

The run's ``train_config.json`` says how the training set was asked for, and its manifest
what it was built from. The rebuilt manifest must hash to the same digest; otherwise the
error names what changed (a source's content, the entity rows, a definition, the row count).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cairn.core.errors import DataError
from cairn.registry.artifact_trust import AuditEntries, verify_run
from cairn.tracking import Tracker
from cairn.training.config import TrainConfig
from cairn.training.trainer import ARTIFACTS, AuditSink, Progress, TrainingResult, train
from cairn.training.training_set import OfflineFeatures, build_training_set


class DataVersionMismatchError(DataError):
    """The rebuilt training set is not the data the run was trained on."""


@dataclass(frozen=True)
class Reproduction:
    """The new run, the original one, and how far each metric moved."""

    original_run_id: str
    digest: str
    result: TrainingResult
    metric_deltas: dict[str, float]

    @property
    def identical_metrics(self) -> bool:
        """Every metric matches the original within 1e-9."""
        return all(abs(d) <= 1e-9 for d in self.metric_deltas.values())


def reproduce(
    run_id: str,
    store: OfflineFeatures,
    tracker: Tracker,
    *,
    author: str,
    author_via: str | None = None,
    register: bool = False,
    audit: AuditSink | None = None,
    progress: Progress | None = None,
) -> Reproduction:
    """Rebuild run ``run_id``'s training set, check its digest, and train again.

    The new run is tagged ``cairn.reproduces=<run_id>``; it is registered only when
    ``register`` is true. Raises :class:`DataVersionMismatchError` when the data changed,
    and :class:`~cairn.registry.artifact_trust.ArtifactTamperedError` when a version
    registered from the run no longer hashes to the digest ``audit`` recorded (checked
    before anything is rebuilt; a version registered before digests were kept warns).
    """
    original = tracker.get_run(run_id)
    if isinstance(audit, AuditEntries):
        if progress:
            progress("verifying the run's model artifacts")
        for check in verify_run(tracker, audit, run_id):
            check.enforce()
    config = TrainConfig.from_mapping(
        {**tracker.load_json(run_id, ARTIFACTS["config"]), "register": register},
        source=f"train config of run {run_id}",
    )
    expected = tracker.load_json(run_id, ARTIFACTS["manifest"])
    if progress:
        progress("rebuilding the training set")
    data = build_training_set(config, store)
    if data.manifest.digest != expected.get("digest"):
        changes = manifest_changes(expected, data.manifest.to_dict())
        raise DataVersionMismatchError(
            f"Cannot reproduce run {run_id}: the rebuilt training set hashes to "
            f"{data.manifest.digest[:16]}…, not {str(expected.get('digest'))[:16]}…; "
            f"changed: {'; '.join(changes) or 'the manifest'}."
        )
    result = train(
        config,
        store,
        tracker,
        author=author,
        author_via=author_via,
        audit=audit,
        tags={"cairn.reproduces": run_id},
        training_set=data,
        progress=progress,
    )
    deltas = {k: result.metrics[k] - v for k, v in original.metrics.items() if k in result.metrics}
    return Reproduction(run_id, data.manifest.digest, result, deltas)


def manifest_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """What differs between two manifests, one phrase per difference.

    Example
    -------
    >>> manifest_changes({"sources": {"a": {"sha256": "1"}}, "row_count": 5},
    ...                  {"sources": {"a": {"sha256": "2"}}, "row_count": 6})
    ["source 'a' content sha256 1 -> 2", 'row_count 5 -> 6']
    """
    out: list[str] = []
    old_sources, new_sources = old.get("sources") or {}, new.get("sources") or {}
    for name in sorted(set(old_sources) | set(new_sources)):
        a, b = old_sources.get(name), new_sources.get(name)
        if a is None or b is None:
            out.append(f"source {name!r} {'added' if a is None else 'removed'}")
            continue
        for key in ("sha256", "delta_version", "path", "format", "files"):
            if a.get(key) != b.get(key):
                what = "content sha256" if key == "sha256" else key
                out.append(f"source {name!r} {what} {_short(a.get(key))} -> {_short(b.get(key))}")
    old_views, new_views = old.get("feature_views") or {}, new.get("feature_views") or {}
    for name in sorted(set(old_views) | set(new_views)):
        a, b = old_views.get(name) or {}, new_views.get(name) or {}
        if a.get("definition_hash") != b.get("definition_hash"):
            out.append(
                f"feature view {name!r} definition v{a.get('version')} -> v{b.get('version')}"
            )
    old_entity, new_entity = old.get("entity") or {}, new.get("entity") or {}
    for key in ("sha256", "rows", "start", "end", "columns"):
        if old_entity.get(key) != new_entity.get(key):
            what = "content sha256" if key == "sha256" else key
            out.append(
                f"entity rows {what} {_short(old_entity.get(key))} -> {_short(new_entity.get(key))}"
            )
    for key in ("feature_refs", "row_count", "full_feature_names", "cairn_version", "project"):
        if old.get(key) != new.get(key):
            out.append(f"{key} {_short(old.get(key))} -> {_short(new.get(key))}")
    return out


def _short(value: Any) -> str:
    text = str(value)
    return text[:12] + "…" if len(text) == 64 else text
