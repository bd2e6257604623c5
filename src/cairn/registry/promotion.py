"""Promotion: moving ``champion`` (and other aliases) under the governance policy.

Rules (DESIGN §3.6, issue 15), with the approvals read from the audit chain:

- each reviewer's latest decision counts; a version with any ``reject`` among them gets no
  alias;
- ``champion`` needs ``min_approvals`` (default 1) approvals by distinct reviewers, none of
  them the version's author (four eyes); with ``approver_not_promoter`` the promoter's own
  approval does not count either. A model's :class:`PromotionPolicy` is changed only by an
  admin, with a reason (``policy.changed`` in the audit log), so separation of duties is
  never silently off; every promotion under a waived four-eyes policy says so in its audit
  entry;
- the old champion becomes ``fallback``;
- every alias move is recorded in the chain (``alias.moved``), each promotion writes
  ``model.promoted`` with the approvals it relied on, and each refusal
  ``governance.refused``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol

from cairn.auth.principal import Principal
from cairn.registry.aliases import AliasMove, validate_alias
from cairn.registry.approvals import Approval, ApprovalStore, same_person
from cairn.registry.audit import AuditLog
from cairn.registry.errors import GovernanceError, RegistryInputError
from cairn.registry.refusals import audited_refusal

if TYPE_CHECKING:
    from cairn.tracking import MlflowRegistry, ModelVersionRecord

CHAMPION = "champion"
FALLBACK = "fallback"
POLICY_ACTION = "policy.changed"
PROMOTED_ACTION = "model.promoted"
MAX_APPROVALS = 10
Blocker = Literal[
    "rejected", "unapproved", "self-approved", "too-few-approvals", "approver-is-promoter"
]


class PromotionRegistry(Protocol):
    """What promotion needs of a model registry: MLflow's registry, the audit log, the
    approvals, a version's record and author, and recorded alias moves
    (:class:`cairn.registry.models.ModelRegistry` is one)."""

    @property
    def mlflow(self) -> MlflowRegistry:
        """MLflow's registry (the current alias targets)."""
        ...

    @property
    def audit(self) -> AuditLog:
        """The project's audit log."""
        ...

    @property
    def approvals(self) -> ApprovalStore:
        """The review decisions, read from the audit chain."""
        ...

    def version(self, name: str, version: str | int) -> ModelVersionRecord:
        """One version of a model."""
        ...

    def author_of(self, mv: ModelVersionRecord) -> str:
        """Who trained a version."""
        ...

    def move(
        self, name: str, alias: str, version: str | None, *, principal: Principal, reason: str
    ) -> AliasMove:
        """Record one alias move and make it in MLflow (no promotion rules)."""
        ...


@dataclass(frozen=True)
class PromotionPolicy:
    """A model's promotion rules; the default requires four eyes with one approval.

    ``require_four_eyes``: a champion needs approvals by someone other than its author.
    ``approver_not_promoter``: the promoter's own approval does not count.
    ``min_approvals``: how many distinct approvers (none the author) a champion needs.

    Example
    -------
    >>> PromotionPolicy(min_approvals=2).to_dict()["min_approvals"]
    2
    """

    require_four_eyes: bool = True
    changed_by: str | None = None
    changed_at: datetime | None = None
    reason: str | None = None
    audit_seq: int | None = None
    approver_not_promoter: bool = False
    min_approvals: int = 1

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "require_four_eyes": self.require_four_eyes,
            "approver_not_promoter": self.approver_not_promoter,
            "min_approvals": self.min_approvals,
            "changed_by": self.changed_by,
            "changed_at": None if self.changed_at is None else self.changed_at.isoformat(),
            "reason": self.reason,
            "audit_seq": self.audit_seq,
        }


@dataclass(frozen=True)
class Promotion:
    """What a promotion did: the alias moves (empty when nothing changed), the approval it
    relied on (the latest of ``approvals``), and the policy in force."""

    model: str
    version: str
    alias: str
    moves: list[AliasMove]
    approval: Approval | None
    policy: PromotionPolicy
    previous: str | None = None
    notes: list[str] = field(default_factory=list)
    approvals: tuple[Approval, ...] = ()


def policy_of(audit: AuditLog, model: str) -> PromotionPolicy:
    """The policy in force for ``model``: its latest ``policy.changed`` entry (fields an
    older entry lacks take their defaults), else the default (four eyes, one approval)."""
    found = audit.entries(subject=model, action=POLICY_ACTION, limit=1)
    if not found:
        return PromotionPolicy()
    entry = found[-1]
    d = entry.details
    try:
        min_approvals = max(1, int(d.get("min_approvals", 1)))
    except (TypeError, ValueError):
        min_approvals = 1
    return PromotionPolicy(
        require_four_eyes=bool(d.get("require_four_eyes", True)),
        changed_by=entry.actor,
        changed_at=entry.at,
        reason=str(d.get("reason") or ""),
        audit_seq=entry.seq,
        approver_not_promoter=bool(d.get("approver_not_promoter", False)),
        min_approvals=min_approvals,
    )


def set_policy(
    registry: PromotionRegistry,
    model: str,
    *,
    principal: Principal,
    reason: str,
    require_four_eyes: bool | None = None,
    approver_not_promoter: bool | None = None,
    min_approvals: int | None = None,
) -> PromotionPolicy:
    """Change a model's promotion policy: an audited action by an admin, with a reason.

    ``None`` keeps a field's current value. A principal below admin, or a missing reason, is
    refused (and the refusal audited).
    """
    registry.mlflow.get_model(model)  # unknown model: a clear error
    if min_approvals is not None and (
        isinstance(min_approvals, bool)
        or not isinstance(min_approvals, int)
        or not 1 <= min_approvals <= MAX_APPROVALS
    ):
        raise RegistryInputError(
            f"The promotion policy of {model!r} needs min_approvals as a whole number from 1 "
            f"to {MAX_APPROVALS}; got {min_approvals!r}."
        )
    with audited_refusal(registry.audit, principal, "set_policy", model):
        principal.require("admin", f"change the promotion policy of {model}")
        if not isinstance(reason, str) or not reason.strip():
            raise GovernanceError(
                f"Changing the promotion policy of {model!r} needs a reason (e.g. the decision "
                f"record that allows it); got {reason!r}."
            )
    previous = policy_of(registry.audit, model)
    new = {
        "require_four_eyes": previous.require_four_eyes
        if require_four_eyes is None
        else bool(require_four_eyes),
        "approver_not_promoter": previous.approver_not_promoter
        if approver_not_promoter is None
        else bool(approver_not_promoter),
        "min_approvals": previous.min_approvals if min_approvals is None else min_approvals,
    }
    registry.audit.append(
        principal.name,
        POLICY_ACTION,
        model,
        {
            **new,
            **{f"previous_{k}": v for k, v in previous.to_dict().items() if k in new},
            "reason": reason,
            "principal": principal.to_dict(),
        },
    )
    return policy_of(registry.audit, model)


@dataclass(frozen=True)
class PromotionCheck:
    """What the promotion rules say about pointing an alias at one version.

    ``blocker`` is ``None`` when the rules allow it, else ``"rejected"`` (a reviewer's latest
    decision rejects it; ``approval`` is that rejection), ``"unapproved"``,
    ``"self-approved"`` (only its author approved it), ``"too-few-approvals"`` (fewer
    distinct approvers than the policy's ``min_approvals``) or ``"approver-is-promoter"`` (the
    promoter's own approval would be needed, and the policy forbids it). ``author`` is set
    when the four-eyes rule was checked; ``approvals`` are the approvals that count.
    """

    approval: Approval | None
    policy: PromotionPolicy
    author: str | None = None
    blocker: Blocker | None = None
    approvals: tuple[Approval, ...] = ()

    def message(self, label: str, model: str, version: str, alias: str = CHAMPION) -> str:
        """The refusal in words (empty when nothing blocks)."""
        p, a, author = self.policy, self.approval, self.author
        approve = (
            f"cairn models approve {model} {version} --ticket MRR-YYYY-NNNN --decision approve"
        )
        if self.blocker == "rejected" and a is not None:
            note = f": {a.note}" if a.note else ""
            return (
                f"{label} was rejected by {a.reviewer} ({a.ticket}, {a.at:%Y-%m-%d}{note}); a "
                f"rejected version cannot become {alias}. A new review must approve it first."
            )
        if self.blocker == "unapproved":
            return (
                f"four eyes: {label} (author {author}) has no approval; someone other than "
                f"{author} must approve it first (with an approver token): {approve}."
            )
        if self.blocker == "self-approved":
            return (
                f"four eyes: {label} was approved by its own author ({author}); another "
                f"reviewer must approve it."
            )
        names = ", ".join(x.reviewer for x in self.approvals) or "nobody"
        if self.blocker == "too-few-approvals":
            return (
                f"{label} needs {p.min_approvals} approvals by distinct reviewers other than its "
                f"author {author} (policy of {model}); it has {len(self.approvals)} ({names}). "
                f"Another reviewer must approve it: {approve}."
            )
        if self.blocker == "approver-is-promoter":
            return (
                f"separation of duties: the policy of {model} forbids promoting a version you "
                f"approved yourself; without the promoter's approval {label} has "
                f"{len(self.approvals)} of {p.min_approvals} ({names}). Another deployer must "
                f"promote it, or another reviewer approve it."
            )
        return ""


def check_promotable(
    registry: PromotionRegistry,
    mv: ModelVersionRecord,
    *,
    alias: str = CHAMPION,
    promoter: Principal | None = None,
) -> PromotionCheck:
    """The promotion rules for ``alias`` -> ``mv`` (approvals read from the audit chain),
    checked without moving anything. ``promoter``: who would promote (for
    ``approver_not_promoter``; None skips that rule). The caller words the refusal
    (:meth:`PromotionCheck.message`)."""
    decisions = registry.approvals.history(mv.name, mv.version)
    policy = policy_of(registry.audit, mv.name)
    latest: dict[str, Approval] = {}
    for decision in decisions:
        latest.pop(decision.reviewer.strip().casefold(), None)
        latest[decision.reviewer.strip().casefold()] = decision  # dict order: newest last
    newest = decisions[-1] if decisions else None
    rejections = [a for a in latest.values() if a.decision == "reject"]
    if rejections:
        return PromotionCheck(rejections[-1], policy, blocker="rejected")
    if alias != CHAMPION or not policy.require_four_eyes:
        return PromotionCheck(newest, policy)
    author = registry.author_of(mv)
    approved = [a for a in latest.values() if not same_person(a.reviewer, author)]
    if not approved:
        blocker: Blocker = "self-approved" if latest else "unapproved"
        return PromotionCheck(newest, policy, author, blocker)
    if policy.approver_not_promoter and promoter is not None:
        others = [a for a in approved if not same_person(a.reviewer, promoter.name)]
        if len(others) < policy.min_approvals <= len(approved):
            return PromotionCheck(
                others[-1] if others else None,
                policy,
                author,
                "approver-is-promoter",
                tuple(others),
            )
        approved = others
    if len(approved) < policy.min_approvals:
        blocker = "too-few-approvals" if approved else "unapproved"
        return PromotionCheck(newest, policy, author, blocker, tuple(approved))
    return PromotionCheck(approved[-1], policy, author, None, tuple(approved))


def promote(
    registry: PromotionRegistry,
    model: str,
    version: str | int,
    *,
    alias: str = CHAMPION,
    principal: Principal,
    reason: str,
) -> Promotion:
    """Point ``alias`` of ``model`` at ``version`` if the policy allows it.

    Raises :class:`~cairn.auth.AccessDeniedError` for a principal below deployer,
    :class:`~cairn.registry.errors.GovernanceError` for a rejected version, a champion
    without the approvals its policy requires, or a missing reason (each refusal first
    audited as ``governance.refused``); ``UnknownModelError`` for an unknown model or version.
    """
    validate_alias(alias)
    mv = registry.version(model, version)
    label = f"{model} v{mv.version}"
    with audited_refusal(registry.audit, principal, "promote", f"{model}/{mv.version}"):
        principal.require("deployer", f"move {model}@{alias}")
        if not isinstance(reason, str) or not reason.strip():
            raise GovernanceError(
                f"Moving {model}@{alias} to v{mv.version} needs a reason (e.g. the review "
                f"ticket); got {reason!r}."
            )
        check = check_promotable(registry, mv, alias=alias, promoter=principal)
        if check.blocker is not None:
            raise GovernanceError(check.message(label, model, mv.version, alias))
    approval, policy = check.approval, check.policy
    notes: list[str] = []
    if alias == CHAMPION and not policy.require_four_eyes:
        notes.append(
            f"four-eyes policy waived for {model} by {policy.changed_by} "
            f"({policy.reason}); this promotion is audited as such"
        )
    current = registry.mlflow.get_model(model).aliases.get(alias)
    relied = check.approvals
    if current == mv.version:
        return Promotion(model, mv.version, alias, [], approval, policy, current, notes, relied)
    moves: list[AliasMove] = []
    if alias == CHAMPION and current is not None:
        why = f"previous champion, replaced by v{mv.version}: {reason}"
        moves.append(registry.move(model, FALLBACK, current, principal=principal, reason=why))
    moves.append(registry.move(model, alias, mv.version, principal=principal, reason=reason))
    registry.audit.append(
        principal.name,
        PROMOTED_ACTION,
        f"{model}/{mv.version}",
        {
            "alias": alias,
            "previous": current,
            "reason": reason,
            "approval": None if approval is None else _approval(approval),
            "approvals": [_approval(a) for a in relied],
            "policy": policy.to_dict(),
            "four_eyes": "required" if policy.require_four_eyes else "waived",
            "principal": principal.to_dict(),
        },
    )
    return Promotion(model, mv.version, alias, moves, approval, policy, current, notes, relied)


def _approval(a: Approval) -> dict[str, Any]:
    return {
        "reviewer": a.reviewer,
        "ticket": a.ticket,
        "decision": a.decision,
        "at": a.at.isoformat(),
        "audit_seq": a.audit_seq,
    }
