"""Registered models: MLflow's versions and aliases, under Cairn's governance.

:class:`ModelRegistry` is what the CLI and the app use. Versions and the current alias
targets live in MLflow's registry (serving reads them there); who approved what, every alias
move and the audit trail live in Cairn's metadata store (decisions and moves are read back
from the audit chain). Every governance action is performed by a
:class:`~cairn.auth.Principal` whose role covers it: approve/reject needs ``approver``, alias
moves and promotion ``deployer``, policy changes ``admin``. Champion moves go through
:mod:`cairn.registry.promotion` (separation of duties, rejected versions refused, the old
champion becomes ``fallback``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from cairn.auth.principal import Principal
from cairn.core.errors import ConfigError
from cairn.core.predictions import ModelRef as CoreModelRef
from cairn.registry.aliases import AliasHistory, AliasMove, validate_alias
from cairn.registry.approvals import Approval, ApprovalStore
from cairn.registry.audit import AuditLog
from cairn.registry.errors import GovernanceError, RegistryInputError
from cairn.registry.promotion import (
    CHAMPION,
    Promotion,
    PromotionPolicy,
    policy_of,
    promote,
    set_policy,
)
from cairn.registry.refusals import audited_refusal
from cairn.tracking import (
    MlflowRegistry,
    ModelVersionRecord,
    RegisteredModelRecord,
    Tracker,
    UnknownModelError,
    UnknownRunError,
)

#: ``true`` when ``cairn train`` knew the author as an authenticated principal; the same name
#: as :data:`cairn.training.trainer.AUTHOR_AUTHENTICATED_TAG` (not imported: it pulls pandas).
AUTHOR_AUTHENTICATED_TAG = "cairn.author_authenticated"


@dataclass(frozen=True)
class ModelRef(CoreModelRef):
    """:class:`cairn.core.predictions.ModelRef` whose parse errors are registry input errors.

    Example
    -------
    >>> ModelRef.parse("credit-default@champion")
    ModelRef(name='credit-default', alias='champion', version=None)
    >>> ModelRef.parse("credit-default/3").version
    '3'
    """

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Parse a reference; anything else is a RegistryInputError showing both forms."""
        try:
            ref = CoreModelRef.parse(text)
        except ConfigError as exc:
            raise RegistryInputError(str(exc)) from None
        return cls(ref.name, ref.alias, ref.version)


def alias_target(model: RegisteredModelRecord, alias: str) -> str:
    """The version ``model@alias`` points at; UnknownModelError listing its aliases when the
    alias is not set."""
    target = model.aliases.get(alias)
    if target is None:
        known = ", ".join(f"{a} -> v{v}" for a, v in sorted(model.aliases.items()))
        raise UnknownModelError(
            f"Model {model.name!r} has no alias {alias!r}; its aliases: "
            f"{known or 'none (promote a version: cairn models promote NAME VERSION)'}."
        )
    return target


@dataclass(frozen=True)
class ModelSummary:
    """One registered model for listings: its versions count, aliases and newest version."""

    name: str
    versions: int
    latest: str | None
    aliases: dict[str, str]
    champion_author: str | None = None


@dataclass(frozen=True)
class VersionDetails:
    """One version with its latest review decision."""

    version: ModelVersionRecord
    approval: Approval | None


@dataclass(frozen=True)
class ModelDetails:
    """A model: versions (with approvals), aliases, alias history and drift warnings."""

    model: RegisteredModelRecord
    versions: list[VersionDetails]
    history: list[AliasMove]
    warnings: list[str] = field(default_factory=list)


class ModelRegistry:
    """A project's models: MLflow's registry plus approvals, alias history and the audit log.

    Parameters
    ----------
    tracker:
        The project's tracker (its registry URI holds the versions and aliases).
    engine, project:
        The metadata database and project of the governance records
        (``FeatureStore(repo).metadata.engine`` and ``.project``).
    audit:
        The project's audit log (default: one on ``engine`` without a signing key; a project
        passes its own, which signs the chain head when ``audit.signing`` is set).
    """

    def __init__(
        self, tracker: Tracker, engine: Engine, project: str, *, audit: AuditLog | None = None
    ) -> None:
        self.tracker = tracker
        self.mlflow: MlflowRegistry = tracker.registry()
        self.audit = audit or AuditLog(engine, project)
        self.approvals = ApprovalStore(engine, project, self.audit)
        self.aliases = AliasHistory(engine, project, self.audit)
        self.project = project

    # -- reading ---------------------------------------------------------------------------

    def list_models(self) -> list[ModelSummary]:
        """Every registered model with its version count and aliases."""
        out = []
        for m in self.mlflow.list_models():
            versions = self.mlflow.versions(m.name, m)  # m's aliases: no second read
            out.append(
                ModelSummary(
                    m.name,
                    len(versions),
                    versions[-1].version if versions else None,
                    dict(sorted(m.aliases.items())),
                )
            )
        return out

    def show(self, name: str) -> ModelDetails:
        """A model's versions with their latest decisions, its aliases and their history."""
        model = self.mlflow.get_model(name)
        decided = self.approvals.latest_by_version(name)  # one query, not one per version
        versions = [
            VersionDetails(v, decided.get(v.version)) for v in self.mlflow.versions(name, model)
        ]
        return ModelDetails(model, versions, self.aliases.history(name), self.alias_drift(name))

    def version(self, name: str, version: str | int) -> ModelVersionRecord:
        """One version (UnknownModelError names the ones that exist)."""
        return self.mlflow.get_version(name, str(version))

    def resolve(self, ref: str | ModelRef) -> tuple[ModelRef, ModelVersionRecord]:
        """The version a ``NAME@ALIAS`` or ``NAME/VERSION`` reference points at."""
        parsed = ref if isinstance(ref, ModelRef) else ModelRef.parse(ref)
        if parsed.version is not None:
            return parsed, self.version(parsed.name, parsed.version)
        assert parsed.alias is not None
        model = self.mlflow.get_model(parsed.name)
        return parsed, self.version(parsed.name, alias_target(model, parsed.alias))

    def author_of(self, mv: ModelVersionRecord) -> str:
        """Who trained a version: its ``cairn.author`` tag, else its run's author."""
        if mv.author:
            return mv.author
        tags = self._run_tags(mv)
        for key in ("cairn.author", "mlflow.user"):
            if tags.get(key):
                return tags[key]
        raise GovernanceError(
            f"{mv.name} v{mv.version} has no recorded author (tag cairn.author), so the "
            f"four-eyes rule cannot be checked; register versions with `cairn train`."
        )

    def author_authenticated(self, mv: ModelVersionRecord) -> bool:
        """Whether the author was an authenticated principal when the version was trained
        (tag ``cairn.author_authenticated``); False when the tag is absent (older versions,
        names typed on a command line). The name is compared with reviewers either way."""
        value = mv.tags.get(AUTHOR_AUTHENTICATED_TAG)
        if value is None:
            value = self._run_tags(mv).get(AUTHOR_AUTHENTICATED_TAG)
        return str(value).strip().lower() in ("true", "1", "yes")

    def _run_tags(self, mv: ModelVersionRecord) -> dict[str, str]:
        if not mv.run_id:
            return {}
        try:
            return dict(self.tracker.get_run(mv.run_id).tags)
        except UnknownRunError:
            return {}

    def alias_drift(self, name: str) -> list[str]:
        """Aliases whose MLflow target differs from Cairn's last recorded move (moved outside
        Cairn, e.g. in the MLflow UI)."""
        model = self.mlflow.get_model(name)
        recorded: dict[str, str | None] = {}
        for move in self.aliases.history(name):
            recorded[move.alias] = move.version
        out = []
        for alias in sorted(set(recorded) | set(model.aliases)):
            if recorded.get(alias) != model.aliases.get(alias):
                out.append(
                    f"{name}@{alias} is v{model.aliases.get(alias)} in MLflow but Cairn's alias "
                    f"history says v{recorded.get(alias)}: it was moved outside Cairn."
                )
        return out

    # -- governance actions ----------------------------------------------------------------

    def approve(
        self,
        name: str,
        version: str | int,
        *,
        principal: Principal,
        ticket: str,
        decision: str,
        note: str = "",
        reviewer: str | None = None,
    ) -> Approval:
        """Record ``principal``'s review decision on an existing version (approver role;
        never by its author). ``reviewer`` is an optional display name that must match the
        principal. Refusals are audited as ``governance.refused``."""
        mv = self.version(name, version)
        action = decision if decision in ("approve", "reject") else "approve"
        with audited_refusal(self.audit, principal, action, f"{name}/{mv.version}"):
            author = self.author_of(mv)
        return self.approvals.record(
            name,
            mv.version,
            principal=principal,
            reviewer=reviewer,
            ticket=ticket,
            decision=decision,
            note=note,
            author=author,
            author_authenticated=self.author_authenticated(mv),
        )

    def set_alias(
        self, name: str, alias: str, version: str | int, *, principal: Principal, reason: str
    ) -> list[AliasMove]:
        """Point ``alias`` at ``version`` under the promotion rules (see :meth:`promote`)."""
        return self.promote(name, version, alias=alias, principal=principal, reason=reason).moves

    def promote(
        self,
        name: str,
        version: str | int,
        *,
        alias: str = CHAMPION,
        principal: Principal,
        reason: str,
    ) -> Promotion:
        """Move ``alias`` (default champion) to ``version`` as ``principal`` (deployer role):
        the model's separation-of-duties policy for the champion, no rejected versions, the
        old champion becomes fallback (:func:`promotion.promote`)."""
        return promote(self, name, version, alias=alias, principal=principal, reason=reason)

    def policy(self, name: str) -> PromotionPolicy:
        """The promotion policy in force for a model."""
        self.mlflow.get_model(name)
        return policy_of(self.audit, name)

    def set_policy(
        self,
        name: str,
        *,
        principal: Principal,
        reason: str,
        require_four_eyes: bool | None = None,
        approver_not_promoter: bool | None = None,
        min_approvals: int | None = None,
    ) -> PromotionPolicy:
        """Change a model's promotion policy (admin role, audited, with a reason; None keeps
        a field's current value)."""
        return set_policy(
            self,
            name,
            principal=principal,
            reason=reason,
            require_four_eyes=require_four_eyes,
            approver_not_promoter=approver_not_promoter,
            min_approvals=min_approvals,
        )

    def remove_alias(
        self, name: str, alias: str, *, principal: Principal, reason: str
    ) -> AliasMove:
        """Remove a challenger or fallback alias (the champion can only be replaced)."""
        validate_alias(alias)
        with audited_refusal(self.audit, principal, "remove_alias", f"{name}@{alias}"):
            principal.require("deployer", f"remove {name}@{alias}")
            if alias == CHAMPION:
                raise GovernanceError(
                    f"{name}@champion cannot be removed, only replaced: promote another "
                    f"version (cairn models promote {name} VERSION)."
                )
        current = self.mlflow.get_model(name).aliases.get(alias)
        if current is None:
            raise UnknownModelError(f"Model {name!r} has no alias {alias!r} to remove.")
        return self.move(name, alias, None, principal=principal, reason=reason)

    def move(
        self, name: str, alias: str, version: str | None, *, principal: Principal, reason: str
    ) -> AliasMove:
        """Record one alias move, then make it in MLflow; undo the record if MLflow refuses.

        No promotion rules here (use :meth:`promote`); only the deployer role and a reason."""
        before = self.mlflow.get_model(name).aliases.get(alias)
        with audited_refusal(self.audit, principal, "move", f"{name}@{alias}"):
            move = self.aliases.record(name, alias, version, principal=principal, reason=reason)
        try:
            if version is None:
                self.mlflow.delete_alias(name, alias)
            else:
                self.mlflow.set_alias(name, alias, version)
        except Exception as exc:
            why = f"reverted: MLflow refused the move ({exc})"
            self.aliases.record(name, alias, before, principal=principal, reason=why)
            raise
        return move
