"""A/B: n arms by weight, sticky by unit id, as a GrowthBook experiment with the spec's seed.

The unit's hash v2 under the seed picks an arm through GrowthBook's bucket ranges (weights and
coverage); a unit outside coverage gets the first arm and is logged as not exposed, so the
analysis leaves it out. ``rolled_back`` sends every unit to the first arm, not exposed.
"""

from __future__ import annotations

from cairn.rollouts.spec import RolloutSpec
from cairn.serving.routing.assignment import bucket_ranges, fnv1a32
from cairn.serving.routing.route import Route, control_route, routes


class ABRouter:
    """Weighted, sticky arms.

    Example
    -------
    >>> from cairn.rollouts.spec import Arm
    >>> spec = RolloutSpec.ab("credit", [Arm("a", "m/1", 0.5), Arm("b", "m/2", 0.5)], "exp-1")
    >>> ABRouter(spec).choose("customer-42").arm
    'a'
    """

    def __init__(self, spec: RolloutSpec) -> None:
        self.spec = spec
        by_name = routes(spec)
        self._arms = [by_name[a.name] for a in spec.arms]
        self._control = control_route(spec)
        self._off = spec.state == "rolled_back"
        ranges = bucket_ranges(len(spec.arms), spec.coverage, [a.weight for a in spec.arms])
        # In buckets of 1/10000: a range [start, end) holds bucket b iff start <= b/10000 < end.
        self._ranges = ranges
        self._seed_state = fnv1a32(spec.seed)

    @property
    def control(self) -> Route:
        """The first arm, not exposed."""
        return self._control

    def choose(self, unit_id: str) -> Route:
        """The arm whose bucket range holds the unit's hash; outside coverage the first arm."""
        if self._off:
            return self._control
        n = (fnv1a32(str(fnv1a32(unit_id, self._seed_state))) % 10_000) / 10_000
        for route, (start, end) in zip(self._arms, self._ranges, strict=True):
            if start <= n < end:
                return route
        return self._control
