"""The deployment admin service: create, change, switch, promote and roll back rollouts.

Both ``cairn deploy ...`` and the HTTP admin routes (:mod:`cairn.serving.admin`) call a
:class:`RolloutService`. It keeps the specs in the :class:`~cairn.rollouts.RolloutStore`
and adds what serving cannot know:

- every model reference must exist in the registry (an unknown model, version or alias is
  one clear error);
- a model about to take all of a deployment's traffic (single, the live blue-green slot, a
  promotion) must pass the champion rules of :mod:`cairn.registry.promotion`: not rejected,
  and approved by someone other than its author unless the model's audited policy waives it;
  promotion itself goes through :func:`cairn.registry.promotion.promote`;
- a canary's candidate is pinned to the version its reference names when the canary starts,
  so the version the gates judge is the version that gets promoted;
- every change is made by an authenticated :class:`~cairn.auth.Principal` (create, set,
  switch, rollback, advance, hold: ``deployer``; promote: ``approver``) and is an audit event
  (``rollout.*``, subject ``deployment/NAME``) naming the principal, their role, the reason
  and the spec before and after; a refused change is a ``governance.refused`` event. The
  :class:`~cairn.rollouts.requests.RolloutUpdate` a change returns carries that entry
  (``entry``), so a caller shows it without searching the audit log.

Writes use ``expected_version``: a change based on a spec that moved meanwhile (an operator
and the canary controller at once) fails with ``ConflictError`` instead of overwriting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from cairn.auth.principal import Principal, Role
from cairn.core.deployments import Deployment, find_deployment
from cairn.core.errors import ConfigError
from cairn.registry.audit import AuditEntry
from cairn.registry.errors import GovernanceError
from cairn.registry.models import ModelRegistry
from cairn.registry.promotion import CHAMPION, check_promotable
from cairn.registry.refusals import audited_refusal
from cairn.rollouts.requests import COMMON_KEYS as COMMON_KEYS
from cairn.rollouts.requests import CREATE_KEYS as CREATE_KEYS
from cairn.rollouts.requests import SET_KEYS, RolloutUpdate, apply_changes, build_spec
from cairn.rollouts.spec import Arm, RolloutSpec
from cairn.rollouts.store import (
    ConflictError,
    InvalidRolloutError,
    RolloutChange,
    RolloutStore,
)

ACTION_PREFIX = "rollout."
Deployments = Mapping[str, Deployment] | Callable[[], Mapping[str, Deployment]]


def subject(deployment: str) -> str:
    """The audit subject of a deployment's rollout.

    Example
    -------
    >>> subject("credit")
    'deployment/credit'
    """
    return f"deployment/{deployment}"


class RolloutService:
    """Rollouts of one project's deployments, under the registry's governance.

    Parameters
    ----------
    store:
        Where the specs live (the project's metadata database).
    registry:
        The governed model registry (its audit log records every change).
    deployments:
        Name -> deployment (``deployments.yaml``), or a callable that reads them afresh.
    """

    def __init__(
        self, store: RolloutStore, registry: ModelRegistry, deployments: Deployments
    ) -> None:
        self.store = store
        self.registry = registry
        self._deployments = deployments

    @classmethod
    def for_project(cls, repo: str | Path) -> RolloutService:
        """Deprecated (removed in 0.3): use ``Project.open(repo).rollouts``, which shares the
        project's other parts. Kept for 0.1 callers through :mod:`cairn._compat`."""
        from cairn._compat import legacy

        service: RolloutService = legacy("cairn.app.project", "Project").open(repo).rollouts
        return service

    # -- reading -----------------------------------------------------------------------

    def deployment(self, name: str) -> Deployment:
        """The deployment called ``name``; :class:`~cairn.core.deployments.UnknownDeploymentError`
        names the others."""
        known = self._deployments() if callable(self._deployments) else self._deployments
        return find_deployment(known, name)

    def current(self, name: str) -> RolloutSpec:
        """The stored rollout, or the implicit single one of ``deployments.yaml`` (version 0)."""
        dep = self.deployment(name)
        return self.store.current(name) or RolloutSpec.single(name, dep.model)

    def currents(
        self, names: Iterable[str]
    ) -> tuple[dict[str, RolloutSpec], dict[str, InvalidRolloutError]]:
        """:meth:`current` of each of ``names`` from one read of the store
        (:meth:`~cairn.rollouts.store.RolloutStore.read_current`), and apart the error of each
        whose stored spec is invalid (what :meth:`current` would raise for it)."""
        stored, invalid = self.store.read_current()
        specs: dict[str, RolloutSpec] = {}
        errors: dict[str, InvalidRolloutError] = {}
        for name in names:
            dep = self.deployment(name)
            if name in invalid:
                errors[name] = invalid[name]
            else:
                specs[name] = stored.get(name) or RolloutSpec.single(name, dep.model)
        return specs, errors

    def routing(
        self,
        deployment: str,
        *,
        resolve: Callable[[str], str] | None = None,
        spec: RolloutSpec | None = None,
    ) -> dict[str, Any]:
        """The rollout, its weights and the version each reference resolves to: the part of
        :meth:`status` a listing of deployments shows. ``resolve`` maps a reference to its
        version (default: the registry's :meth:`~cairn.registry.models.ModelRegistry.resolve`);
        a listing of many deployments passes one
        :class:`~cairn.registry.resolver.RefResolver`'s ``version``, and each deployment's
        ``spec`` from one :meth:`currents` (default: :meth:`current`, one read)."""
        spec = spec if spec is not None else self.current(deployment)
        weights = spec.weights()
        arms = [
            {
                "name": a.name,
                "model": a.model,
                "weight": weights[a.name],
                **self._resolved(a.model, resolve),
            }
            for a in spec.arms
        ]
        return {
            "deployment": deployment,
            "rollout": spec.to_dict(),
            "weights": weights,
            "arms": arms,
            "shadows": [{"model": ref, **self._resolved(ref, resolve)} for ref in spec.shadows],
        }

    def status(self, deployment: str) -> dict[str, Any]:
        """The rollout, its weights, the version each reference resolves to (:meth:`routing`),
        the last change and the last gate decision."""
        routed = self.routing(deployment)
        history = self.store.history(deployment)[-1:]
        decisions = self.decisions(deployment, limit=20)
        return {
            **routed,
            "last_change": None
            if not history
            else {
                "version": history[0].version,
                "actor": history[0].actor,
                "reason": history[0].reason,
                "at": history[0].at.isoformat(),
            },
            "last_decision": None
            if not decisions
            else {
                **decisions[-1].details["gate"],
                "at": decisions[-1].at.isoformat(),
                "change": decisions[-1].action,
            },
        }

    def decisions(self, deployment: str, *, limit: int | None = None) -> list[AuditEntry]:
        """The audited gate decisions of the deployment's rollouts, oldest first: the
        ``rollout.*`` entries whose details carry the ``gate`` that decided (its action, gate,
        numbers and reason; the canary controller writes them) and the spec ``before`` it.
        ``limit`` reads only the newest ``limit`` audit entries of the deployment."""
        entries = self.registry.audit.entries(subject=subject(deployment), limit=limit)
        return [e for e in entries if "gate" in e.details]

    def history(self, deployment: str) -> list[RolloutChange]:
        """Every stored version of the deployment's rollout, oldest first."""
        self.deployment(deployment)
        return self.store.history(deployment)

    # -- changes -----------------------------------------------------------------------

    def create(
        self,
        deployment: str,
        request: Mapping[str, Any],
        *,
        principal: Principal,
        reason: str = "",
        replace: bool = False,
    ) -> RolloutUpdate:
        """Start a rollout from ``request`` (``strategy`` and its models; see
        :func:`build_spec`). An active canary, blue-green or A/B rollout is only replaced
        with ``replace``."""
        self._allow(principal, "deployer", "create", deployment)
        dep = self.deployment(deployment)
        expected: int | None = None
        try:
            before = self.store.current(deployment)
        except InvalidRolloutError as exc:
            if not replace:
                raise
            before, expected = None, exc.version  # replaced, as the error suggests
        base = (before or RolloutSpec.single(deployment, dep.model)).control.model
        if before is not None and before.state == "active" and before.strategy != "single":
            if not replace:
                raise ConflictError(
                    f"Deployment {deployment!r} has an active {before.strategy} rollout "
                    f"(version {before.version}); promote or roll it back first, or replace it "
                    f'(--replace / "replace": true).'
                )
        spec = build_spec(deployment, request, base=base)
        for ref in spec.models():
            self.registry.resolve(ref)  # unknown model, version or alias: one clear error
        notes: list[str] = []
        if spec.strategy == "canary":
            candidate = self._pinned(spec.arm("canary").model)
            arms = (spec.arms[0], Arm("canary", candidate))
            spec = spec.with_changes(arms=arms)
            notes += self._approval_notes(candidate)
        with audited_refusal(self.registry.audit, principal, "rollout.create", subject(deployment)):
            self._require_champion_rules(spec, deployment)
        return self._write(
            deployment, spec, before, "created", principal, reason, notes, expected=expected
        )

    def set(
        self,
        deployment: str,
        changes: Mapping[str, Any],
        *,
        principal: Principal,
        reason: str = "",
    ) -> RolloutUpdate:
        """Change fields of the stored rollout: ``weights`` ({arm: weight}), ``stages``,
        ``stage``, ``gate`` (fields to change), ``shadows``, ``coverage`` or ``state``
        (``active`` resumes a held rollout, ``held`` pauses it)."""
        self._allow(principal, "deployer", "set", deployment)
        if not changes:
            raise ConfigError(
                f"Rollout of {deployment!r}: nothing to change; give one of {', '.join(SET_KEYS)}."
            )
        before = self._stored(deployment)
        spec = apply_changes(before, changes)
        for ref in spec.shadows:
            self.registry.resolve(ref)
        return self._write(deployment, spec, before, "changed", principal, reason)

    def switch(
        self, deployment: str, *, principal: Principal, reason: str = "", to: str | None = None
    ) -> RolloutUpdate:
        """Blue-green: make the other slot (or ``to``) live; its model must pass the champion
        rules, since it takes all traffic."""
        self._allow(principal, "deployer", "switch", deployment)
        before = self._stored(deployment)
        if before.strategy != "blue-green":
            raise ConfigError(
                f"switch applies to blue-green rollouts; {deployment!r} has a {before.strategy} "
                f"rollout (use promote or rollback)."
            )
        live = to or ("green" if before.live == "blue" else "blue")
        if live not in ("blue", "green"):
            raise ConfigError(f"switch --to must be blue or green; got {live!r}.")
        if live == before.live:
            raise ConfigError(f"The {live} slot of {deployment!r} is already live.")
        spec = before.with_changes(live=live, since=0)
        with audited_refusal(self.registry.audit, principal, "rollout.switch", subject(deployment)):
            self._require_champion_rules(spec, deployment)
        return self._write(deployment, spec, before, "switched", principal, reason)

    def rollback(
        self,
        deployment: str,
        *,
        principal: Principal,
        reason: str = "",
        expected_version: int | None = None,
        decision: Mapping[str, Any] | None = None,
    ) -> RolloutUpdate:
        """All traffic back to the control: a canary or A/B test ends ``rolled_back``, a
        blue-green rollout makes the other slot live, a single one returns to its previous
        stored spec."""
        self._allow(principal, "deployer", "rollback", deployment)
        before = self._stored(deployment)
        if before.strategy in ("canary", "ab"):
            if before.state in ("rolled_back", "promoted"):
                raise ConfigError(
                    f"The {before.strategy} of {deployment!r} is already {before.state}."
                )
            spec = before.with_changes(state="rolled_back", since=0)
        elif before.strategy == "blue-green":
            spec = before.with_changes(live="green" if before.live == "blue" else "blue", since=0)
        else:
            older = [c.spec for c in self.store.history(deployment) if c.version < before.version]
            if not older:
                raise ConfigError(
                    f"Deployment {deployment!r} has no earlier rollout to roll back to."
                )
            spec = older[-1].with_changes(since=0)
        return self._write(
            deployment,
            spec,
            before,
            "rolled_back",
            principal,
            reason,
            expected=expected_version,
            decision=decision,
        )

    def promote(
        self,
        deployment: str,
        *,
        principal: Principal,
        reason: str = "",
        arm: str | None = None,
        expected_version: int | None = None,
        decision: Mapping[str, Any] | None = None,
    ) -> RolloutUpdate:
        """Make the candidate (canary arm, live blue-green slot, ``arm`` of an A/B test, the
        single model) champion through :func:`cairn.registry.promotion.promote` (four eyes);
        the deployment then serves ``MODEL@champion`` alone. Needs the approver role; the
        candidate still needs its approvals (the registry's rules decide, for this principal
        as the promoter)."""
        self._allow(principal, "approver", "promote", deployment)
        before = self._stored(deployment)
        if expected_version is not None and before.version != expected_version:
            raise ConflictError(  # before the alias moves, not only when the spec is written
                f"Rollout of {deployment!r} is at version {before.version}, not "
                f"{expected_version}: it changed since it was read; re-read it."
            )
        chosen = _candidate(before, arm)
        ref, mv = self.registry.resolve(chosen.model)
        why = reason or f"promoted from the {before.strategy} rollout of {deployment}"
        self.registry.promote(ref.name, mv.version, alias=CHAMPION, principal=principal, reason=why)
        champion = f"{ref.name}@{CHAMPION}"
        shadows = tuple(s for s in before.shadows if s != champion)
        spec = RolloutSpec.single(deployment, champion).with_changes(shadows=shadows)
        notes = (f"{ref.name} v{mv.version} is now {CHAMPION}",)
        return self._write(
            deployment,
            spec,
            before,
            "promoted",
            principal,
            why,
            list(notes),
            expected=expected_version,
            decision=decision,
        )

    def advance(
        self,
        deployment: str,
        *,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        decision: Mapping[str, Any] | None = None,
    ) -> RolloutUpdate:
        """Move an active canary to its next stage (the canary controller's step)."""
        self._allow(principal, "deployer", "advance", deployment)
        before = self._stored(deployment)
        if before.strategy != "canary" or before.state != "active":
            raise ConfigError(
                f"Only an active canary advances; {deployment!r} is a {before.state} "
                f"{before.strategy} rollout."
            )
        if before.stage + 1 >= len(before.stages):
            raise ConfigError(f"The canary of {deployment!r} is at its last stage; promote it.")
        spec = before.with_changes(stage=before.stage + 1, since=0)
        return self._write(
            deployment, spec, before, "advanced", principal, reason,
            expected=expected_version, decision=decision,
        )  # fmt: skip

    def hold(
        self,
        deployment: str,
        *,
        principal: Principal,
        reason: str,
        expected_version: int | None = None,
        decision: Mapping[str, Any] | None = None,
    ) -> RolloutUpdate:
        """Pause a rollout where it is (``set --state active`` resumes it)."""
        self._allow(principal, "deployer", "hold", deployment)
        before = self._stored(deployment)
        spec = before.with_changes(state="held")
        return self._write(
            deployment, spec, before, "held", principal, reason,
            expected=expected_version, decision=decision,
        )  # fmt: skip

    # -- helpers -----------------------------------------------------------------------

    def _allow(self, principal: Principal, role: Role, action: str, deployment: str) -> None:
        """``principal`` may take ``action`` on the deployment, else AccessDeniedError (after
        a ``governance.refused`` audit entry)."""
        with audited_refusal(
            self.registry.audit, principal, ACTION_PREFIX + action, subject(deployment)
        ):
            principal.require(role, f"{action} the rollout of {deployment!r}")

    def _stored(self, deployment: str) -> RolloutSpec:
        self.deployment(deployment)
        spec = self.store.current(deployment)
        if spec is None:
            raise ConfigError(
                f"Deployment {deployment!r} has no rollout yet; create one: cairn deploy create "
                f"{deployment} --strategy canary --candidate MODEL@ALIAS."
            )
        return spec

    def _write(
        self,
        deployment: str,
        spec: RolloutSpec,
        before: RolloutSpec | None,
        what: str,
        principal: Principal,
        reason: str,
        notes: list[str] | None = None,
        *,
        expected: int | None = None,
        decision: Mapping[str, Any] | None = None,
    ) -> RolloutUpdate:
        expected = (before.version if before else 0) if expected is None else expected
        actor = principal.name
        stored = self.store.put(spec, actor=actor, reason=reason, expected_version=expected)
        details: dict[str, Any] = {
            "role": principal.role,
            "principal": principal.to_dict(),
            "reason": reason,
            "version": stored.version,
            "before": None if before is None else before.to_dict(),
            "after": stored.to_dict(),
        }
        if decision is not None:
            details["gate"] = dict(decision)
        entry = self.registry.audit.append(
            actor, ACTION_PREFIX + what, subject(deployment), details
        )
        return RolloutUpdate(stored, before, tuple(notes or ()), entry)

    def _resolved(self, ref: str, resolve: Callable[[str], str] | None = None) -> dict[str, Any]:
        try:
            if resolve is not None:
                return {"version": resolve(ref)}
            return {"version": self.registry.resolve(ref)[1].version}
        except (KeyError, ValueError) as exc:
            return {"version": None, "error": str(exc)}

    def _pinned(self, ref: str) -> str:
        parsed, mv = self.registry.resolve(ref)
        return f"{parsed.name}/{mv.version}"

    def _approval_notes(self, ref: str) -> list[str]:
        try:
            self._require_approved(ref, "become champion")
        except GovernanceError as exc:
            return [f"the canary will hold before promotion: {exc}"]
        return []

    def _require_champion_rules(self, spec: RolloutSpec, deployment: str) -> None:
        """The model that takes all traffic (single, live slot) must pass the champion rules."""
        if spec.strategy == "single":
            self._require_approved(spec.arms[0].model, f"serve all of {deployment!r}")
        elif spec.strategy == "blue-green":
            self._require_approved(spec.control.model, f"go live on {deployment!r}")

    def _require_approved(self, ref: str, doing: str) -> None:
        """The champion rules of :func:`cairn.registry.promotion.promote`, checked without
        moving an alias (the current champion passes)."""
        parsed, mv = self.registry.resolve(ref)
        name, label = parsed.name, f"{parsed.name} v{mv.version}"
        if self.registry.mlflow.get_model(name).aliases.get(CHAMPION) == mv.version:
            return
        check = check_promotable(self.registry, mv)
        if check.blocker == "rejected":
            assert check.approval is not None
            raise GovernanceError(
                f"{label} was rejected by {check.approval.reviewer} ({check.approval.ticket}); "
                f"it cannot {doing}."
            )
        if check.blocker in ("unapproved", "self-approved"):
            raise GovernanceError(
                f"four eyes: {label} (author {check.author}) is not approved by a second person, "
                f"so it cannot {doing}; approve it first (with an approver token): cairn models "
                f"approve {name} {mv.version} --ticket MRR-YYYY-NNNN --decision approve."
            )
        if check.blocker is not None:
            raise GovernanceError(
                f"{label} cannot {doing}: {check.message(label, name, mv.version)}"
            )


def _candidate(spec: RolloutSpec, arm: str | None) -> Arm:
    if spec.strategy == "ab":
        if arm is None:
            names = ", ".join(a.name for a in spec.arms)
            raise ConfigError(
                f"Promoting from an A/B test needs the winning arm (--arm NAME); arms: {names}."
            )
        return spec.arm(arm)
    if arm is not None:
        raise ConfigError(
            f"--arm applies to A/B tests only; {spec.deployment!r} is {spec.strategy}."
        )
    if spec.strategy == "canary":
        if spec.state == "rolled_back":
            raise ConfigError(
                f"The canary of {spec.deployment!r} was rolled back; it cannot be promoted."
            )
        return spec.arm("canary")
    return spec.control  # blue-green: the live slot; single: the one arm
