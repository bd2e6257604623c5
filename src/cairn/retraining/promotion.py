"""The promotion path of a candidate that passed its gates: challenger, shadow, a canary
proposal, and the four-eyes approval. Retraining proposes; people decide.

* **challenger** — the version gets the ``challenger`` alias (the registry's rules and audit);
* **shadow** — the deployment's rollout keeps serving its model and adds the candidate as a
  shadow: it scores the same requests off the request path, logged under the primaries'
  prediction ids. A deployment in the middle of a canary, blue-green or A/B rollout is left
  alone: the step waits (and says so) until that rollout ends;
* **canary proposed** — once the shadow made ``promotion.shadow.min_predictions`` predictions
  over at least ``min_days``, a canary with the policy's stages is proposed (an audit event
  with the shadow's numbers), and nothing changes until a second person reviews the version:
  ``cairn models approve MODEL VERSION --decision approve|reject``. The author of a retrained
  version is whoever runs the controller, so the approver is always someone else;
* **approved** — the canary starts (``stages`` of the policy, then 100 %); ``cairn deploy
  watch`` judges its gates and promotes it, as for any canary. **rejected** — the shadow is
  removed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cairn.core.timeutil import from_micros
from cairn.core.types import Micros

if TYPE_CHECKING:
    from cairn.app.project import Project
    from cairn.auth.principal import Principal
    from cairn.retraining.policy import Policy

__all__ = [
    "ShadowProgress",
    "approval_of",
    "canary_stages",
    "remove_shadow",
    "set_challenger",
    "shadow_progress",
    "start_canary",
    "start_shadow",
]

DAY_US = 86_400_000_000


def set_challenger(project: Project, ref: str, *, principal: Principal, reason: str) -> None:
    """Point ``challenger`` at ``ref`` (``name/version``)."""
    name, _, version = ref.partition("/")
    project.registry.promote(name, version, alias="challenger", principal=principal, reason=reason)


def start_shadow(
    project: Project, deployment: str, ref: str, *, principal: Principal, reason: str
) -> tuple[int | None, str]:
    """Add ``ref`` to the deployment's shadows: ``(rollout version, what happened)``, or
    ``(None, why it waits)`` while another rollout is under way."""
    service = project.rollouts
    spec = service.current(deployment)
    busy = _busy(spec, deployment, "shadow")
    if busy:
        return None, busy
    if ref in spec.shadows and spec.strategy == "single":
        return spec.version, f"{ref} already shadows {deployment}"
    model = spec.control.model if spec.strategy == "single" else None
    request: dict[str, Any] = {"strategy": "single", "shadows": [*spec.shadows, ref]}
    if model is not None:
        request["model"] = model
    update = service.create(deployment, request, principal=principal, reason=reason, replace=True)
    return (
        update.spec.version,
        f"{ref} shadows {deployment} (rollout version {update.spec.version})",
    )


def remove_shadow(
    project: Project, deployment: str, ref: str, *, principal: Principal, reason: str
) -> bool:
    """Take ``ref`` out of the deployment's shadows (False: it was not one)."""
    service = project.rollouts
    spec = service.current(deployment)
    if ref not in spec.shadows:
        return False
    service.set(
        deployment,
        {"shadows": [s for s in spec.shadows if s != ref]},
        principal=principal,
        reason=reason,
    )
    return True


@dataclass(frozen=True)
class ShadowProgress:
    """How far a shadow got: its predictions since it started, and their agreement with the
    primaries they shadowed."""

    predictions: int
    days: float
    agreement: float | None
    """Share of shadowed requests where both models made the same decision."""
    mean_abs_score_diff: float | None

    def ready(self, policy: Policy) -> bool:
        """Whether the policy's shadow criteria are met."""
        spec = policy.promotion.shadow
        return self.predictions >= spec.min_predictions and self.days >= spec.min_days

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers."""
        return {
            "shadow_predictions": self.predictions,
            "shadow_days": round(self.days, 4),
            "decision_agreement": self.agreement,
            "mean_abs_score_diff": self.mean_abs_score_diff,
        }


def shadow_progress(
    project: Project, deployment: str, ref: str, *, since: Micros, now: Micros
) -> ShadowProgress:
    """The shadow predictions of ``ref`` on ``deployment`` logged since ``since``."""
    name, _, version = ref.partition("/")
    start = from_micros(since)
    with project.predictions.connect() as con:
        row = con.execute(
            "SELECT count(*), avg(CASE WHEN p.decision IS NULL THEN NULL "
            "WHEN p.decision = s.decision THEN 1.0 ELSE 0.0 END), avg(abs(p.score - s.score)) "
            "FROM predictions s LEFT JOIN predictions p ON p.prediction_id = s.prediction_id "
            "AND NOT coalesce(p.shadow, false) "
            "WHERE coalesce(s.shadow, false) AND s.deployment = ? AND s.model_name = ? "
            "AND s.model_version = ? AND s.time >= ? AND s.error IS NULL",
            [deployment, name, version, start],
        ).fetchone()
    count, agree, diff = row if row is not None else (0, None, None)
    return ShadowProgress(
        int(count or 0),
        max(0, now - since) / DAY_US,
        None if agree is None else float(agree),
        None if diff is None else float(diff),
    )


def approval_of(project: Project, ref: str) -> tuple[str | None, str]:
    """``("approved" | "rejected" | None, why)``: what the reviewers said of ``ref`` under the
    champion rules of its model (None: still waiting)."""
    from cairn.registry.promotion import check_promotable

    _, mv = project.registry.resolve(ref)
    check = check_promotable(project.registry, mv)
    label = f"{mv.name} v{mv.version}"
    if check.blocker is None:
        who = ", ".join(f"{a.reviewer} ({a.ticket})" for a in check.approvals) or "policy"
        return "approved", f"approved by {who}"
    if check.blocker == "rejected":
        return "rejected", check.message(label, mv.name, mv.version)
    return None, check.message(label, mv.name, mv.version)


def canary_stages(policy: Policy) -> list[float]:
    """The canary's stages in percent: the policy's weights, then 100 (the promotion).

    Example
    -------
    >>> from cairn.retraining.policy import parse_policies
    >>> canary_stages(parse_policies({"policies": {"p": {"deployment": "d"}}})["p"])
    [5.0, 25.0, 50.0, 100.0]
    """
    return [round(w * 100, 6) for w in policy.promotion.canary] + [100.0]


def start_canary(
    project: Project,
    deployment: str,
    ref: str,
    policy: Policy,
    *,
    principal: Principal,
    reason: str,
) -> tuple[int | None, str]:
    """Start the approved candidate's canary: ``(rollout version, what happened)``, or
    ``(None, why it waits)`` while another canary, blue-green or A/B rollout is under way."""
    service = project.rollouts
    spec = service.current(deployment)
    busy = _busy(spec, deployment, "canary")
    if busy:
        return None, busy
    shadows = [s for s in spec.shadows if s != ref]
    update = service.create(
        deployment,
        {"strategy": "canary", "candidate": ref, "stages": canary_stages(policy),
         "shadows": shadows},
        principal=principal,
        reason=reason,
        replace=True,
    )  # fmt: skip
    stages = " -> ".join(f"{s:g} %" for s in canary_stages(policy))
    at = datetime.now(UTC).isoformat(timespec="seconds")
    return update.spec.version, f"canary of {ref} started at {at}: {stages} (rollout version " + (
        f"{update.spec.version}; `cairn deploy watch` judges its gates)"
    )


def _busy(spec: Any, deployment: str, step: str) -> str:
    """Why ``step`` must wait for the deployment's rollout to end (empty: it need not)."""
    if spec.strategy == "single" or spec.state != "active":
        return ""
    return (
        f"waiting: {deployment} has an active {spec.strategy} rollout (version {spec.version}); "
        f"the {step} starts when it ends"
    )
