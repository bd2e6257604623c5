"""What the controller does for an entry in each state: one function per state, returning the
entry moved one step (with its :class:`~cairn.retraining.controller.RetrainStep`) or a waiting
step. :data:`STEPS` maps a state to its function; the ledger's graph
(:mod:`cairn.retraining.entry`) is what allows each move.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from cairn.core.errors import ConfigError
from cairn.core.types import Micros
from cairn.retraining.entry import LedgerEntry, State

if TYPE_CHECKING:
    from cairn.app.project import Project
    from cairn.auth.principal import Principal
    from cairn.retraining.policy import Policy

__all__ = ["STEPS", "Acting"]


class Acting(Protocol):
    """What a step needs of the controller (a
    :class:`~cairn.retraining.controller.RetrainController`)."""

    project: Project
    principal: Principal
    clock: Callable[[], Micros]

    def move(
        self,
        entry: LedgerEntry,
        state: State,
        text: str,
        numbers: dict[str, Any] | None = None,
        *,
        training_run_id: str | None = None,
    ) -> Any:
        """Move ``entry`` to ``state`` with its audit entry."""
        ...

    def wait(self, entry: LedgerEntry, text: str, numbers: dict[str, Any] | None = None) -> Any:
        """A step that changes nothing."""
        ...

    def holder(self) -> str:
        """``host:pid`` of the controller."""
        ...

    def at(self, micros: Micros) -> str:
        """An instant as text."""
        ...


Act = Callable[[Acting, "Policy", LedgerEntry], Any]


def start_training(c: Acting, policy: Policy, entry: LedgerEntry) -> Any:
    """decided -> training: whoever wins this compare-and-set trains."""
    return c.move(
        entry,
        "training",
        f"training {policy.training} in its data window as {c.principal.name}",
        {"attempt": 1, "controller": c.holder(), "training_started": c.at(c.clock())},
    )


def train(c: Acting, policy: Policy, entry: LedgerEntry) -> Any:
    """training -> trained (or refused by a quality suite): once per entry, even across a
    restart (a finished, registered training of the entry is taken as it is)."""
    from cairn.retraining.training_step import (
        finished_training,
        quality_gate,
        run_config,
        train_candidate,
    )
    from cairn.retraining.window import data_window

    config = run_config(c.project, policy, entry)
    found, interrupted = finished_training(c.project, config.model_name, entry)
    base = {"interrupted_runs": interrupted} if interrupted else {}
    if found is not None:
        return c.move(
            entry,
            "trained",
            f"{found.ref} was trained before the controller restarted (run {found.run_id}); "
            f"not trained again",
            {**base, "candidate": found.ref, "run_id": found.run_id, "resumed": True,
             "metrics": found.metrics},
            training_run_id=found.run_id,
        )  # fmt: skip
    quality = quality_gate(c.project, policy, entry.decided_at)
    failed = {k: v for k, v in quality.items() if v is not None}
    if failed:
        text = "; ".join(f"quality suite {k} halted: {v}" for k, v in failed.items())
        return c.move(entry, "refused", text, {**base, "quality": quality})
    attempt = int(entry.numbers.get("attempt", 1)) + (1 if interrupted else 0)
    trained = train_candidate(c.project, config, principal=c.principal, quality=quality)
    shown = ", ".join(f"{k} {v:.4f}" for k, v in trained.metrics.items() if k in ("auc", "ks"))
    return c.move(
        entry,
        "trained",
        f"trained {trained.ref} in {trained.seconds:.1f} s ({shown} on its own test part)",
        {**base, "candidate": trained.ref, "run_id": trained.run_id, "attempt": attempt,
         "metrics": trained.metrics, "quality": quality,
         "data_window": data_window(policy, entry.decided_at).to_dict()},
        training_run_id=trained.run_id,
    )  # fmt: skip


def gate(c: Acting, policy: Policy, entry: LedgerEntry) -> Any:
    """trained -> gated or refused: the gates on the common out-of-time test window."""
    from cairn.retraining.evaluation import test_window
    from cairn.retraining.gates import judge_gates
    from cairn.retraining.training_step import run_config

    deployment = c.project.deployment(policy.deployment)
    candidate = str(entry.numbers["candidate"])
    champion = _champion(c, deployment.model)
    window = test_window(
        c.project,
        policy,
        run_config(c.project, policy, entry),
        at=entry.decided_at,
        candidate=candidate,
        champion=champion,
    )
    report = judge_gates(
        policy.gates,
        labels=window.labels,
        candidate=window.candidate,
        champion=window.champion,
        threshold=deployment.threshold,
        favorable=deployment.decision.favorable,
        groups=window.groups,
        quality=entry.numbers.get("quality") or {},
        window=window.info,
    )
    vs = f" vs champion {champion}" if champion else " (no champion yet)"
    text = f"{candidate}{vs}: {report.describe()}"
    return c.move(entry, "gated" if report.passed else "refused", text, {"gates": report.to_dict()})


def challenger(c: Acting, policy: Policy, entry: LedgerEntry) -> Any:
    """gated -> challenger: the candidate gets the ``challenger`` alias."""
    from cairn.retraining.promotion import set_challenger

    ref = str(entry.numbers["candidate"])
    set_challenger(c.project, ref, principal=c.principal, reason=_why(entry, "passed its gates"))
    return c.move(entry, "challenger", f"{ref} is {ref.split('/')[0]}@challenger")


def shadow(c: Acting, policy: Policy, entry: LedgerEntry) -> Any:
    """challenger -> shadow: scored beside the deployment's model, off the request path."""
    from cairn.retraining.promotion import start_shadow

    ref = str(entry.numbers["candidate"])
    version, text = start_shadow(
        c.project, policy.deployment, ref, principal=c.principal, reason=_why(entry, "shadow")
    )
    if version is None:
        return c.wait(entry, text)
    spec = policy.promotion.shadow
    return c.move(
        entry,
        "shadow",
        f"{text}; a canary is proposed after {spec.min_predictions} shadow predictions over "
        f"{spec.min_days:g} days",
        {"shadow_rollout": version, "shadow_since": c.clock()},
    )


def propose(c: Acting, policy: Policy, entry: LedgerEntry) -> Any:
    """shadow -> canary_proposed once the shadow criteria are met."""
    from cairn.retraining.promotion import canary_stages, shadow_progress

    ref = str(entry.numbers["candidate"])
    since = int(entry.numbers.get("shadow_since", entry.decided_at))
    progress = shadow_progress(c.project, policy.deployment, ref, since=since, now=c.clock())
    spec = policy.promotion.shadow
    if not progress.ready(policy):
        return c.wait(
            entry,
            f"shadow of {ref}: {progress.predictions}/{spec.min_predictions} predictions, "
            f"{progress.days:.2f}/{spec.min_days:g} days",
            progress.to_dict(),
        )
    stages = " -> ".join(f"{s:g} %" for s in canary_stages(policy))
    name, _, version = ref.partition("/")
    agree = progress.agreement
    said = "" if agree is None else f", same decision as the champion on {agree:.1%}"
    return c.move(
        entry,
        "canary_proposed",
        f"shadow met its criteria ({progress.predictions} predictions{said}); proposed a "
        f"canary {stages}, waiting for a second person's approval: cairn models approve "
        f"{name} {version} --ticket MRR-YYYY-NNNN --decision approve (or reject)",
        {**progress.to_dict(), "canary_stages": canary_stages(policy)},
    )


def decide_approval(c: Acting, policy: Policy, entry: LedgerEntry) -> Any:
    """canary_proposed -> approved (the canary starts) or rejected (the shadow ends)."""
    from cairn.retraining.promotion import approval_of, remove_shadow, start_canary

    ref = str(entry.numbers["candidate"])
    verdict, why = approval_of(c.project, ref)
    if verdict is None:
        return c.wait(entry, f"waiting for approval: {why}")
    if verdict == "rejected":
        removed = remove_shadow(
            c.project, policy.deployment, ref, principal=c.principal, reason=_why(entry, "rejected")
        )
        return c.move(entry, "rejected", f"{why}; shadow removed: {removed}")
    version, text = start_canary(
        c.project, policy.deployment, ref, policy, principal=c.principal,
        reason=_why(entry, why),
    )  # fmt: skip
    if version is None:
        return c.wait(entry, f"{why}; {text}")
    return c.move(entry, "approved", f"{why}; {text}", {"canary_rollout": version})


STEPS: dict[str, Act] = {
    "decided": start_training,
    "training": train,
    "trained": gate,
    "gated": challenger,
    "challenger": shadow,
    "shadow": propose,
    "canary_proposed": decide_approval,
}
"""State -> what the controller does for an entry in it."""


def _champion(c: Acting, model: str) -> str | None:
    """``name/version`` the deployment's model reference points at now (None: unset)."""
    try:
        parsed, mv = c.project.registry.resolve(model)
    except (KeyError, ValueError, ConfigError):
        return None
    return f"{parsed.name}/{mv.version}"


def _why(entry: LedgerEntry, what: str) -> str:
    return f"retraining {entry.policy} #{entry.id} ({entry.trigger} [{entry.window}]): {what}"
