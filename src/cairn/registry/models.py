"""Registered models: MLflow's versions and aliases, under Cairn's governance.

:class:`ModelRegistry` is what the CLI and the app use. Versions and the current alias
targets live in MLflow's registry (serving reads them there); who approved what, every alias
move and the audit trail live in Cairn's metadata store. Champion moves go through
:mod:`cairn.registry.promotion` (four eyes, rejected versions refused, the old champion
becomes ``fallback``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

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
from cairn.tracking import (
    MlflowRegistry,
    ModelVersionRecord,
    RegisteredModelRecord,
    Tracker,
    UnknownModelError,
    UnknownRunError,
)


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
    """

    def __init__(self, tracker: Tracker, engine: Engine, project: str) -> None:
        self.tracker = tracker
        self.mlflow: MlflowRegistry = tracker.registry()
        self.audit = AuditLog(engine, project)
        self.approvals = ApprovalStore(engine, project, self.audit)
        self.aliases = AliasHistory(engine, project, self.audit)
        self.project = project

    # -- reading ---------------------------------------------------------------------------

    def list_models(self) -> list[ModelSummary]:
        """Every registered model with its version count and aliases."""
        out = []
        for m in self.mlflow.list_models():
            versions = self.mlflow.versions(m.name)
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
        versions = [
            VersionDetails(v, self.approvals.latest(name, v.version))
            for v in self.mlflow.versions(name)
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
        target = model.aliases.get(parsed.alias)
        if target is None:
            known = ", ".join(f"{a} -> v{v}" for a, v in sorted(model.aliases.items()))
            raise UnknownModelError(
                f"Model {parsed.name!r} has no alias {parsed.alias!r}; its aliases: "
                f"{known or 'none (promote a version: cairn models promote NAME VERSION)'}."
            )
        return parsed, self.version(parsed.name, target)

    def author_of(self, mv: ModelVersionRecord) -> str:
        """Who trained a version: its ``cairn.author`` tag, else its run's author."""
        if mv.author:
            return mv.author
        if mv.run_id:
            try:
                tags = self.tracker.get_run(mv.run_id).tags
            except UnknownRunError:
                tags = {}
            for key in ("cairn.author", "mlflow.user"):
                if tags.get(key):
                    return tags[key]
        raise GovernanceError(
            f"{mv.name} v{mv.version} has no recorded author (tag cairn.author), so the "
            f"four-eyes rule cannot be checked; register versions with `cairn train`."
        )

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
        reviewer: str,
        ticket: str,
        decision: str,
        note: str = "",
    ) -> Approval:
        """Record a review decision on an existing version (never by its author)."""
        mv = self.version(name, version)
        return self.approvals.record(
            name,
            mv.version,
            reviewer=reviewer,
            ticket=ticket,
            decision=decision,
            note=note,
            author=self.author_of(mv),
        )

    def set_alias(
        self, name: str, alias: str, version: str | int, *, actor: str, reason: str
    ) -> list[AliasMove]:
        """Point ``alias`` at ``version`` under the promotion rules (see :meth:`promote`)."""
        return self.promote(name, version, alias=alias, actor=actor, reason=reason).moves

    def promote(
        self, name: str, version: str | int, *, alias: str = CHAMPION, actor: str, reason: str
    ) -> Promotion:
        """Move ``alias`` (default champion) to ``version``: four eyes for the champion, no
        rejected versions, the old champion becomes fallback (:func:`promotion.promote`)."""
        return promote(self, name, version, alias=alias, actor=actor, reason=reason)

    def policy(self, name: str) -> PromotionPolicy:
        """The promotion policy in force for a model."""
        self.mlflow.get_model(name)
        return policy_of(self.audit, name)

    def set_policy(
        self, name: str, *, require_four_eyes: bool, actor: str, reason: str
    ) -> PromotionPolicy:
        """Change a model's promotion policy (audited, with a reason)."""
        return set_policy(
            self, name, require_four_eyes=require_four_eyes, actor=actor, reason=reason
        )

    def remove_alias(self, name: str, alias: str, *, actor: str, reason: str) -> AliasMove:
        """Remove a challenger or fallback alias (the champion can only be replaced)."""
        validate_alias(alias)
        if alias == CHAMPION:
            raise GovernanceError(
                f"{name}@champion cannot be removed, only replaced: promote another version "
                f"(cairn models promote {name} VERSION)."
            )
        current = self.mlflow.get_model(name).aliases.get(alias)
        if current is None:
            raise UnknownModelError(f"Model {name!r} has no alias {alias!r} to remove.")
        return self.move(name, alias, None, actor=actor, reason=reason)

    def move(
        self, name: str, alias: str, version: str | None, *, actor: str, reason: str
    ) -> AliasMove:
        """Record one alias move, then make it in MLflow; undo the record if MLflow refuses."""
        before = self.mlflow.get_model(name).aliases.get(alias)
        move = self.aliases.record(name, alias, version, actor=actor, reason=reason)
        try:
            if version is None:
                self.mlflow.delete_alias(name, alias)
            else:
                self.mlflow.set_alias(name, alias, version)
        except Exception as exc:
            reason = f"reverted: MLflow refused the move ({exc})"
            self.aliases.record(name, alias, before, actor=actor, reason=reason)
            raise
        return move
