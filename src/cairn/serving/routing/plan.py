"""What one deployment scores with right now: its router and the loaded models behind it.

The predictor keeps one :class:`Serving` value (every deployment's :class:`Plan`) and
replaces it whole — one reference assignment — after every model a new rollout needs is
loaded and warmed: a request reads it once and sees either the old rollout or the new one,
never a router pointing at a model that is still loading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cairn.serving.models import ScoringModel
from cairn.serving.routing.route import Router


@dataclass(frozen=True)
class Plan:
    """One deployment's router with its arms' models.

    Parameters
    ----------
    router:
        Chooses an arm per unit.
    arms:
        Arm name -> its loaded model (an arm whose model is not loaded is absent).
    control:
        The model an erroring arm falls back to (None until it is loaded).
    allowed:
        Request-time features any arm's model accepts.
    online_refs:
        The online features every arm's model reads (read once per request).
    shadows:
        Loaded shadow models, by reference.
    """

    router: Router
    arms: Mapping[str, ScoringModel]
    control: ScoringModel | None
    allowed: frozenset[str]
    online_refs: list[str]
    shadows: Mapping[str, ScoringModel] = field(default_factory=dict)

    @classmethod
    def build(cls, router: Router, models: Mapping[str, ScoringModel]) -> Plan:
        """The plan of ``router`` over the loaded ``models`` (reference -> model).

        Example
        -------
        >>> from cairn.serving.routing import RolloutSpec, router_for
        >>> plan = Plan.build(router_for(RolloutSpec.single("credit", "m@champion")), {})
        >>> plan.control is None, plan.online_refs
        (True, [])
        """
        spec = router.spec
        arms = {a.name: models[a.model] for a in spec.arms if a.model in models}
        loaded = list({id(m): m for m in arms.values()}.values())  # shared models once
        allowed = frozenset(f for m in loaded for f in m.features)
        refs = list(dict.fromkeys(r for m in loaded for r in m.online_refs))
        shadows = {ref: models[ref] for ref in spec.shadows if ref in models}
        return cls(router, arms, models.get(router.control.model), allowed, refs, shadows)

    def to_json(self) -> dict[str, Any]:
        """The rollout as ``GET /v1/deployments`` shows it: strategy, state, arms with their
        models, loaded versions and traffic shares, shadows.

        Example
        -------
        >>> from cairn.serving.routing import RolloutSpec, router_for
        >>> Plan.build(router_for(RolloutSpec.single("credit", "m@champion")), {}).to_json()["arms"]
        [{'name': 'main', 'model': 'm@champion', 'version': None, 'share': 1.0}]
        """
        spec = self.router.spec
        weights = spec.weights()
        canary = spec.strategy == "canary"
        return {
            "strategy": spec.strategy,
            "version": spec.version,
            "state": spec.state,
            "live": spec.live,
            "stage": spec.stage if canary else None,
            "stages": list(spec.stages) if canary else None,
            "seed": spec.seed if spec.strategy in ("canary", "ab") else None,
            "arms": [
                {
                    "name": a.name,
                    "model": a.model,
                    "version": _version(self.arms.get(a.name)),
                    "share": weights[a.name],
                }
                for a in spec.arms
            ],
            "shadows": [
                {"model": ref, "version": _version(self.shadows.get(ref))} for ref in spec.shadows
            ],
        }


def _version(model: ScoringModel | None) -> str | None:
    return None if model is None else model.version


@dataclass(frozen=True)
class Serving:
    """Every deployment's plan and the models they share (replaced whole, never mutated)."""

    plans: Mapping[str, Plan]
    models: Mapping[str, ScoringModel]

    @classmethod
    def build(cls, routers: Mapping[str, Router], models: Mapping[str, ScoringModel]) -> Serving:
        """Plans for ``routers`` over ``models``."""
        plans = {name: Plan.build(router, models) for name, router in routers.items()}
        return cls(plans, dict(models))
