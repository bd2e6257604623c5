"""What each deployment serves now, and how that changes: load first, then swap whole.

:class:`Rollouts` holds every deployment's router and the models the routers need as one
:class:`~cairn.serving.routing.plan.Serving` value. A new rollout (:meth:`Rollouts.apply`) or a
moved alias (:meth:`Rollouts.refresh`) loads and warms every model it needs first and then
replaces that value in one reference assignment: a request reads it once and sees the old
rollout or the new one, whole. A rollout whose models cannot be loaded is not applied; the
deployment keeps what it serves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping

from cairn.core.deployments import Deployment
from cairn.core.predictions import ModelRef
from cairn.rollouts.spec import RolloutSpec
from cairn.serving.models import ModelLoader, ScoringModel
from cairn.serving.refusals import Refusals
from cairn.serving.routing import router_for
from cairn.serving.routing.plan import Serving
from cairn.serving.routing.route import Router

logger = logging.getLogger("cairn.serving")


class Rollouts:
    """The routers and loaded models of a set of deployments.

    Parameters
    ----------
    deployments:
        Name -> deployment; a deployment without a rollout spec serves its model alone.
    loader:
        Resolves and loads models from the registry.
    specs:
        Deployment -> rollout spec to start from (nothing is loaded until :meth:`apply` or
        :meth:`refresh`).
    """

    def __init__(
        self,
        deployments: Mapping[str, Deployment],
        loader: ModelLoader,
        specs: Mapping[str, RolloutSpec] | None = None,
    ) -> None:
        self.deployments = dict(deployments)
        self.loader = loader
        self.unapplied: dict[str, str] = {}
        """Deployment -> why its newest rollout is not served yet (a model failed to load)."""
        self.refusals = Refusals()
        """References whose newest version was refused (``/readyz``, ``/metrics``)."""
        self.unapplied_refs: dict[str, list[str]] = {}
        """Deployment -> the references its unapplied rollout could not load."""
        self._routers = self._routers_for(specs or {})
        self.current = Serving.build(self._routers, {})
        """Every deployment's plan: read it once per request, it is replaced, never changed."""
        self._lock = threading.Lock()

    def refs(self, routers: Mapping[str, Router] | None = None) -> list[str]:
        """Every model reference the rollouts (arms and shadows) and fallbacks use."""
        refs = [ref for r in (routers or self._routers).values() for ref in r.spec.models()]
        refs += [
            d.fallback.model for d in self.deployments.values() if d.fallback and d.fallback.model
        ]
        return sorted(set(refs))

    def refresh(self) -> list[str]:
        """Load (and warm) every model whose reference now points at another version.

        A registry that does not answer leaves the loaded models serving; returns the
        references that moved.
        """
        with self._lock:
            models, moved = self._load(self.refs(), self.current.models, resolve_loaded=True)
            self.current = Serving.build(self._routers, self._needed(self._routers, models))
        return moved

    def apply(self, specs: Mapping[str, RolloutSpec]) -> list[str]:
        """Serve ``specs`` (deployment -> rollout); returns the deployments whose rollout changed.

        Deployments without a spec serve their ``deployments.yaml`` model. A deployment whose
        new arms cannot all be loaded keeps its current rollout and is listed in
        :attr:`unapplied` (apply again to retry).
        """
        with self._lock:
            current = self._routers
            wanted = self._routers_for(specs)
            routers = {
                name: current[name] if current[name].spec == r.spec else r
                for name, r in wanted.items()
            }
            # a changed rollout re-resolves its aliases now (a promotion has just moved one),
            # not at the next alias poll; the others keep what they have loaded
            changed = {
                ref for n, r in routers.items() if r is not current[n] for ref in r.spec.models()
            }
            models, _ = self._load(sorted(changed), self.current.models, resolve_loaded=True)
            models, _ = self._load(self.refs(routers), models, resolve_loaded=False)
            unapplied: dict[str, str] = {}
            unapplied_refs: dict[str, list[str]] = {}
            for name, router in routers.items():
                missing = [a.model for a in router.spec.arms if a.model not in models]
                if missing and router is not current[name]:
                    unapplied[name] = f"could not load {', '.join(missing)}"
                    unapplied_refs[name] = missing
                    routers[name] = current[name]
            if unapplied:  # the rollouts kept need their models (loaded, unless at start)
                models, _ = self._load(self.refs(routers), models, resolve_loaded=False)
            self.unapplied = unapplied
            self.unapplied_refs = unapplied_refs
            self._routers = routers
            self.current = Serving.build(routers, self._needed(routers, models))
        return sorted(name for name in routers if routers[name] is not current[name])

    def _routers_for(self, specs: Mapping[str, RolloutSpec]) -> dict[str, Router]:
        for name in sorted(set(specs) - set(self.deployments)):
            logger.warning("Ignoring the rollout of %r: no deployment of that name", name)
        return {
            name: router_for(specs.get(name) or RolloutSpec.single(name, dep.model))
            for name, dep in self.deployments.items()
        }

    def _needed(
        self, routers: Mapping[str, Router], models: Mapping[str, ScoringModel]
    ) -> dict[str, ScoringModel]:
        keep = set(self.refs(routers))
        return {ref: m for ref, m in models.items() if ref in keep}

    def _load(
        self, refs: Iterable[str], loaded: Mapping[str, ScoringModel], *, resolve_loaded: bool
    ) -> tuple[dict[str, ScoringModel], list[str]]:
        """``loaded`` plus every ref not loaded (and, with ``resolve_loaded``, every moved one)."""
        models = dict(loaded)
        moved: list[str] = []
        for ref in refs:
            if ref in models and not resolve_loaded:
                continue
            version: str | None = None
            try:
                version = self.loader.resolve(ref)
                current = models.get(ref)
                if current is not None and current.version == version:
                    self.refusals.clear(ref)
                    continue
                model = _loaded_as(ref, version, models.values())
                if model is None:
                    model = self.loader.load(ref, version)
                    model.warm()
            except Exception as exc:  # keep serving what was loaded
                logger.warning("Could not load %s; keeping the loaded model: %s", ref, exc)
                if version is not None:  # resolved, then refused (not a registry outage)
                    self.refusals.record(ref, version, exc)
                continue
            self.refusals.clear(ref)
            models[ref] = model
            moved.append(ref)
            logger.info("Serving %s as %s/%s", ref, model.name, model.version)
        return models, moved


def _loaded_as(ref: str, version: str, models: Iterable[ScoringModel]) -> ScoringModel | None:
    """A model already loaded as the same name and version (two aliases, one version)."""
    name = ModelRef.parse(ref).name
    return next((m for m in models if m.name == name and m.version == version), None)
