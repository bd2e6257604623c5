"""Blue-green: two slots, the live one takes every unit.

Switching (and rolling back) is one store write that flips ``live``; the server loads both
slots' models before it swaps routers, so no request meets a half-loaded model.
"""

from __future__ import annotations

from cairn.rollouts.spec import RolloutSpec
from cairn.serving.routing.route import Route, control_route, routes


class BlueGreenRouter:
    """Every unit to the live slot.

    Example
    -------
    >>> spec = RolloutSpec.blue_green("credit", "m/1", "m/2", live="green")
    >>> BlueGreenRouter(spec).choose("u1").model
    'm/2'
    """

    def __init__(self, spec: RolloutSpec) -> None:
        self.spec = spec
        self._live = routes(spec)[str(spec.live)]
        self._control = control_route(spec)

    @property
    def control(self) -> Route:
        """The live slot (an erroring live model has nothing safer to fall back to)."""
        return self._control

    def choose(self, unit_id: str) -> Route:
        """The live slot."""
        return self._live
