"""Promotion: moving ``champion`` (and other aliases) under the governance policy.

Rules (DESIGN §3.6):

- a version with a ``reject`` as its latest decision gets no alias;
- ``champion`` needs an ``approve`` by someone other than the version's author (four eyes),
  unless the model's policy says otherwise; the policy is changed only by an audited action
  with a reason (``policy.changed`` in the audit log), so it is never silently off, and every
  promotion under a waived policy says so in its audit entry;
- the old champion becomes ``fallback``;
- every alias move is recorded in the alias history (``alias.moved``), and each promotion
  writes ``model.promoted`` with the approval it relied on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from cairn.registry.aliases import AliasMove, validate_alias
from cairn.registry.approvals import Approval
from cairn.registry.audit import AuditLog
from cairn.registry.errors import GovernanceError

if TYPE_CHECKING:
    from cairn.registry.models import ModelRegistry
    from cairn.tracking import ModelVersionRecord

CHAMPION = "champion"
FALLBACK = "fallback"
POLICY_ACTION = "policy.changed"
PROMOTED_ACTION = "model.promoted"


@dataclass(frozen=True)
class PromotionPolicy:
    """A model's promotion rules; the default requires four eyes."""

    require_four_eyes: bool = True
    changed_by: str | None = None
    changed_at: datetime | None = None
    reason: str | None = None
    audit_seq: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "require_four_eyes": self.require_four_eyes,
            "changed_by": self.changed_by,
            "changed_at": None if self.changed_at is None else self.changed_at.isoformat(),
            "reason": self.reason,
            "audit_seq": self.audit_seq,
        }


@dataclass(frozen=True)
class Promotion:
    """What a promotion did: the alias moves (empty when nothing changed), the approval it
    relied on, and the policy in force."""

    model: str
    version: str
    alias: str
    moves: list[AliasMove]
    approval: Approval | None
    policy: PromotionPolicy
    previous: str | None = None
    notes: list[str] = field(default_factory=list)


def policy_of(audit: AuditLog, model: str) -> PromotionPolicy:
    """The policy in force for ``model``: its latest ``policy.changed`` entry, else the default
    (four eyes required)."""
    found = audit.entries(subject=model, action=POLICY_ACTION, limit=1)
    if not found:
        return PromotionPolicy()
    entry = found[-1]
    return PromotionPolicy(
        require_four_eyes=bool(entry.details.get("require_four_eyes", True)),
        changed_by=entry.actor,
        changed_at=entry.at,
        reason=str(entry.details.get("reason") or ""),
        audit_seq=entry.seq,
    )


def set_policy(
    registry: ModelRegistry, model: str, *, require_four_eyes: bool, actor: str, reason: str
) -> PromotionPolicy:
    """Change a model's promotion policy: an audited action that needs a reason."""
    registry.mlflow.get_model(model)  # unknown model: a clear error
    if not isinstance(reason, str) or not reason.strip():
        raise GovernanceError(
            f"Changing the promotion policy of {model!r} needs a reason (e.g. the decision "
            f"record that allows it); got {reason!r}."
        )
    previous = policy_of(registry.audit, model)
    registry.audit.append(
        actor,
        POLICY_ACTION,
        model,
        {
            "require_four_eyes": require_four_eyes,
            "previous_require_four_eyes": previous.require_four_eyes,
            "reason": reason,
        },
    )
    return policy_of(registry.audit, model)


@dataclass(frozen=True)
class PromotionCheck:
    """What the promotion rules say about pointing an alias at one version.

    ``blocker`` is ``None`` when the rules allow it, else ``"rejected"`` (the latest review
    rejected it), ``"unapproved"`` or ``"self-approved"`` (four eyes). ``author`` is set when
    the four-eyes rule was checked (a champion under a policy that requires it).
    """

    approval: Approval | None
    policy: PromotionPolicy
    author: str | None = None
    blocker: Literal["rejected", "unapproved", "self-approved"] | None = None


def check_promotable(
    registry: ModelRegistry, mv: ModelVersionRecord, *, alias: str = CHAMPION
) -> PromotionCheck:
    """The promotion rules for ``alias`` -> ``mv``, checked without moving anything: a
    rejected version gets no alias; a champion needs an approval by someone other than its
    author unless the model's policy waives four eyes. The caller words the refusal."""
    approval = registry.approvals.latest(mv.name, mv.version)
    policy = policy_of(registry.audit, mv.name)
    if approval is not None and approval.decision == "reject":
        return PromotionCheck(approval, policy, blocker="rejected")
    if alias != CHAMPION or not policy.require_four_eyes:
        return PromotionCheck(approval, policy)
    author = registry.author_of(mv)
    if approval is None:
        return PromotionCheck(approval, policy, author, "unapproved")
    if approval.reviewer.strip().casefold() == author.strip().casefold():
        return PromotionCheck(approval, policy, author, "self-approved")
    return PromotionCheck(approval, policy, author)


def promote(
    registry: ModelRegistry,
    model: str,
    version: str | int,
    *,
    alias: str = CHAMPION,
    actor: str,
    reason: str,
) -> Promotion:
    """Point ``alias`` of ``model`` at ``version`` if the policy allows it.

    Raises :class:`~cairn.registry.errors.GovernanceError` for a rejected version, a champion
    without a four-eyes approval, or a missing reason; ``UnknownModelError`` for an unknown
    model or version.
    """
    validate_alias(alias)
    mv = registry.version(model, version)
    label = f"{model} v{mv.version}"
    if not isinstance(reason, str) or not reason.strip():
        raise GovernanceError(
            f"Moving {model}@{alias} to v{mv.version} needs a reason (e.g. the review "
            f"ticket); got {reason!r}."
        )
    check = check_promotable(registry, mv, alias=alias)
    approval, policy = check.approval, check.policy
    if approval is not None and check.blocker == "rejected":
        raise GovernanceError(
            f"{label} was rejected by {approval.reviewer} ({approval.ticket}, "
            f"{approval.at:%Y-%m-%d}{': ' + approval.note if approval.note else ''}); a "
            f"rejected version cannot become {alias}. A new review must approve it first."
        )
    if check.blocker == "unapproved":
        raise GovernanceError(
            f"four eyes: {label} (author {check.author}) has no approval; someone other than "
            f"{check.author} must approve it first: cairn models approve {model} "
            f"{mv.version} --reviewer ID --ticket MRR-YYYY-NNNN --decision approve."
        )
    if check.blocker == "self-approved":
        raise GovernanceError(
            f"four eyes: {label} was approved by its own author ({check.author}); another "
            f"reviewer must approve it."
        )
    notes: list[str] = []
    if alias == CHAMPION and not policy.require_four_eyes:
        notes.append(
            f"four-eyes policy waived for {model} by {policy.changed_by} "
            f"({policy.reason}); this promotion is audited as such"
        )
    current = registry.mlflow.get_model(model).aliases.get(alias)
    if current == mv.version:
        return Promotion(model, mv.version, alias, [], approval, policy, current, notes)
    moves: list[AliasMove] = []
    if alias == CHAMPION and current is not None:
        moves.append(
            registry.move(
                model,
                FALLBACK,
                current,
                actor=actor,
                reason=f"previous champion, replaced by v{mv.version}: {reason}",
            )
        )
    moves.append(registry.move(model, alias, mv.version, actor=actor, reason=reason))
    registry.audit.append(
        actor,
        PROMOTED_ACTION,
        f"{model}/{mv.version}",
        {
            "alias": alias,
            "previous": current,
            "reason": reason,
            "approval": None
            if approval is None
            else {
                "reviewer": approval.reviewer,
                "ticket": approval.ticket,
                "decision": approval.decision,
                "at": approval.at.isoformat(),
            },
            "policy": policy.to_dict(),
            "four_eyes": "required" if policy.require_four_eyes else "waived",
        },
    )
    return Promotion(model, mv.version, alias, moves, approval, policy, current, notes)
