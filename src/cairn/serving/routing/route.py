"""The routing decision for one unit, and the protocol every strategy implements.

A router is built once per rollout spec (see :func:`~cairn.serving.routing.router_for`) and
answers :meth:`Router.choose` on the request path: a hash of a short string and a lookup, with
the :class:`Route` values made once up front.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cairn.rollouts.spec import RolloutSpec


@dataclass(frozen=True, slots=True)
class Route:
    """Where one unit goes.

    Parameters
    ----------
    arm:
        The arm's name (logged as ``arm``).
    model:
        The model reference that arm serves.
    strategy:
        The rollout strategy (logged as ``strategy``).
    exposed:
        False for A/B units outside the experiment's coverage (served by the first arm,
        left out of the analysis).

    Example
    -------
    >>> Route("canary", "credit-default@challenger", "canary").exposed
    True
    """

    arm: str
    model: str
    strategy: str
    exposed: bool = True


class Router(Protocol):
    """Chooses an arm per unit for one deployment (one ``choose`` per strategy file)."""

    spec: RolloutSpec
    """The rollout this router serves."""

    @property
    def control(self) -> Route:
        """The route an arm falls back to when its model fails (exposed: False)."""
        ...

    def choose(self, unit_id: str) -> Route:
        """The route of ``unit_id`` (deterministic: the same unit, the same answer)."""
        ...


def routes(spec: RolloutSpec) -> dict[str, Route]:
    """One :class:`Route` per arm of ``spec``, by arm name (made once per router).

    Example
    -------
    >>> routes(RolloutSpec.single("credit", "m@champion"))["main"].model
    'm@champion'
    """
    return {a.name: Route(a.name, a.model, spec.strategy) for a in spec.arms}


def control_route(spec: RolloutSpec) -> Route:
    """The fallback route of ``spec``: its control arm, not exposed."""
    arm = spec.control
    return Route(arm.name, arm.model, spec.strategy, exposed=False)
