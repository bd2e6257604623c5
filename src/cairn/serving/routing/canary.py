"""Canary: a unit is in the canary iff its hash-v2 bucket is below the stage's percentage.

Buckets are ``0..9999`` under the rollout's seed, so a stage of 5 % takes buckets ``0..499``:
the assignment is sticky (same unit, same arm, in every process) and monotone across stages
(a unit in the canary at 5 % stays in it at 25 %). ``rolled_back`` sends every unit to the
control, ``promoted`` every unit to the canary.
"""

from __future__ import annotations

from cairn.rollouts.spec import RolloutSpec
from cairn.serving.routing.assignment import fnv1a32
from cairn.serving.routing.route import Route, control_route, routes


class CanaryRouter:
    """Control or canary by hash bucket.

    Example
    -------
    >>> spec = RolloutSpec.canary("credit", "m@champion", "m@challenger", seed="s")
    >>> router = CanaryRouter(spec)
    >>> sum(router.choose(f"u{i}").arm == "canary" for i in range(2000))
    117
    """

    def __init__(self, spec: RolloutSpec) -> None:
        self.spec = spec
        arms = routes(spec)
        self._control_arm = arms["control"]
        self._canary_arm = arms["canary"]
        self._control = control_route(spec)
        self._cut = round(spec.canary_percent() * 100)  # buckets below this: canary
        self._seed_state = fnv1a32(spec.seed)  # the seed's prefix of fnv(seed + unit), once

    @property
    def control(self) -> Route:
        """The control arm."""
        return self._control

    def bucket(self, unit_id: str) -> int:
        """The unit's hash-v2 bucket in ``[0, 10000)`` (equal to ``bucket_v2(seed, unit)``)."""
        return fnv1a32(str(fnv1a32(unit_id, self._seed_state))) % 10_000

    def choose(self, unit_id: str) -> Route:
        """The canary when the unit's bucket is below the stage's cut, else the control."""
        if self._cut >= 10_000:
            return self._canary_arm
        if self._cut <= 0:
            return self._control_arm
        return self._canary_arm if self.bucket(unit_id) < self._cut else self._control_arm
