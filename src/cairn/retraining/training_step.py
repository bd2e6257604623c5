"""Training a candidate for a ledger entry: once, through the existing training path.

The run trains what ``cairn train --config`` would (the policy's training config, the same
:func:`cairn.training.train`, MLflow run, registration and ``model.registered`` audit entry),
restricted to the policy's data window at the decision's time (:mod:`cairn.retraining.window`)
and tagged with the entry (``cairn.retraining.entry = PROJECT#ID``).

The tag is what makes a restart safe. Before training, the controller looks for a FINISHED run
of the entry with a registered version: when one exists (a controller died after registering,
before recording it in the ledger), it is taken as the result and nothing is trained again. A
run of the entry still marked RUNNING was interrupted (its process died mid-fit): it is marked
FAILED and the entry trains once more; at most one version is ever registered for an entry.

The data quality gates run first: each suite of ``gates.quality`` (``quality/NAME.yaml``)
validates its source's rows known at the decision's time; a suite whose result says ``halt``
refuses the run before anything is fitted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cairn.core.errors import ConfigError
from cairn.core.timeutil import from_micros
from cairn.retraining.window import windowed_config
from cairn.tracking.errors import UnknownModelError

if TYPE_CHECKING:
    from cairn.app.project import Project
    from cairn.auth.principal import Principal
    from cairn.retraining.entry import LedgerEntry
    from cairn.retraining.policy import Policy
    from cairn.training.config import TrainConfig

__all__ = [
    "ENTRY_TAG",
    "Trained",
    "entry_tag",
    "finished_training",
    "quality_gate",
    "run_config",
    "train_candidate",
]

ENTRY_TAG = "cairn.retraining.entry"
"""Run tag: ``PROJECT#ID`` of the ledger entry the run trains for."""
POLICY_TAG = "cairn.retraining.policy"
TRIGGER_TAG = "cairn.retraining.trigger"


def entry_tag(project: str, entry_id: int) -> str:
    """The value of :data:`ENTRY_TAG` for an entry.

    Example
    -------
    >>> entry_tag("credit", 7)
    'credit#7'
    """
    return f"{project}#{entry_id}"


@dataclass(frozen=True)
class Trained:
    """The candidate of an entry."""

    run_id: str
    model: str
    version: str
    metrics: dict[str, float]
    resumed: bool = False
    """True when a finished training of the entry was found instead of training again."""
    interrupted: list[str] = field(default_factory=list)
    """Runs of the entry left RUNNING by a dead process, now marked FAILED."""
    seconds: float = 0.0

    @property
    def ref(self) -> str:
        """``model/version``."""
        return f"{self.model}/{self.version}"


def run_config(project: Project, policy: Policy, entry: LedgerEntry) -> TrainConfig:
    """The training config of an entry's run: the policy's config in its data window."""
    from cairn.training import TrainConfig

    base = TrainConfig.from_yaml(project.root / policy.training)
    tags = {
        ENTRY_TAG: entry_tag(project.name, entry.id),
        POLICY_TAG: entry.policy,
        TRIGGER_TAG: entry.trigger,
        "cairn.role": "retraining-candidate",
    }
    return windowed_config(base, policy, at=entry.decided_at, root=project.root, tags=tags)


def finished_training(
    project: Project, model: str, entry: LedgerEntry
) -> tuple[Trained | None, list[str]]:
    """The entry's finished, registered training (None: none), and the runs left RUNNING by
    a dead process (marked FAILED now)."""
    runs = project.tracker.find_runs({ENTRY_TAG: entry_tag(project.name, entry.id)})
    interrupted = [r.run_id for r in runs if r.status == "RUNNING"]
    for run_id in interrupted:
        project.tracker.end_run(run_id, "FAILED")
    finished = {r.run_id: r for r in runs if r.status == "FINISHED"}
    if not finished:
        return None, interrupted
    try:
        versions = project.tracker.registry().versions(model)
    except UnknownModelError:  # nothing registered yet: nothing finished
        return None, interrupted
    for v in reversed(versions):
        if v.run_id in finished:
            run = finished[v.run_id]
            return Trained(v.run_id, model, v.version, dict(run.metrics), resumed=True), interrupted
    return None, interrupted


def quality_gate(
    project: Project, policy: Policy, at: int, *, record: bool = True
) -> dict[str, str | None]:
    """Suite name -> None when it did not halt on its source's rows known at ``at``, else the
    failures in one line. ``record``: keep each result in the project's quality history (a
    backtest does not)."""
    from cairn.quality import load_suite
    from cairn.quality.gate import validate_source

    out: dict[str, str | None] = {}
    sources = {s.name: s for s in project.features.list_sources()}
    for name in policy.gates.quality:
        path = project.root / "quality" / f"{name}.yaml"
        if not path.is_file():
            raise ConfigError(
                f"gates.quality names suite {name!r}, but {path} does not exist; expected "
                f"quality/{name}.yaml (cairn quality suggest drafts one)."
            )
        suite = load_suite(path)
        source = sources.get(suite.source or "")
        if source is None:
            raise ConfigError(
                f"quality suite {name!r} ({path}) must name the project source it checks "
                f"(source: one of {', '.join(sources) or 'none'}); got {suite.source!r}."
            )
        result = validate_source(
            suite,
            source,
            root=project.root,
            settings=project.settings,
            end=from_micros(at),
            store=project.quality if record else None,
        )
        out[name] = result.describe_failures(result.halting) if result.action == "halt" else None
    return out


def train_candidate(
    project: Project,
    config: TrainConfig,
    *,
    principal: Principal,
    quality: dict[str, str | None] | None = None,
) -> Trained:
    """Train and register the candidate of ``config`` (a :func:`run_config`) as
    ``principal``, with the quality results logged beside the run."""
    from cairn.training import train

    began = time.perf_counter()
    suites: list[dict[str, Any]] = [
        {"name": name, "passed": problem is None, "failures": problem or ""}
        for name, problem in (quality or {}).items()
    ]
    result = train(
        config,
        project.features,
        project.tracker,
        author=principal.name,
        author_via=principal.via,
        audit=project.registry.audit,
        quality_suites=suites,
    )
    if result.version is None:
        raise ConfigError(
            f"{config.source}: register is false; a retraining candidate must be registered "
            f"(remove `register: false` from the training config)."
        )
    return Trained(
        result.run_id,
        result.model_name,
        result.version,
        dict(result.reported),
        seconds=time.perf_counter() - began,
    )
