"""Single: every unit goes to the one arm."""

from __future__ import annotations

from cairn.rollouts.spec import RolloutSpec
from cairn.serving.routing.route import Route, control_route, routes


class SingleRouter:
    """All traffic to one model.

    Example
    -------
    >>> SingleRouter(RolloutSpec.single("credit", "m@champion")).choose("u1")
    Route(arm='main', model='m@champion', strategy='single', exposed=True)
    """

    def __init__(self, spec: RolloutSpec) -> None:
        self.spec = spec
        self._route = routes(spec)[spec.arms[0].name]
        self._control = control_route(spec)

    @property
    def control(self) -> Route:
        """The route an erroring model falls back to (the same model: there is no other)."""
        return self._control

    def choose(self, unit_id: str) -> Route:
        """The only arm."""
        return self._route
