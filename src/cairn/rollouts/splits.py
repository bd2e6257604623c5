"""The traffic split an experiment ran under, read back from a deployment's rollout history.

Experiment analysis checks the sample ratio (SRM) against the split the rollout store recorded
for the experiment's assignment seed. A canary's split changes by stage (its gates check each
stage), and an A/B test whose weights changed midway has no single split to check against:
both say why instead of giving weights.

Example
-------
>>> from cairn.rollouts.spec import Arm, RolloutSpec
>>> ab = RolloutSpec.ab("credit", [Arm("a", "m/1", 0.5), Arm("b", "m/2", 0.5)], seed="t1")
>>> experiment_weights([ab], "t1")
({'a': 0.5, 'b': 0.5}, None)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cairn.rollouts.spec import RolloutSpec

Split = tuple[dict[str, float] | None, str | None]
"""The weights per arm, or None with the reason there are none (None: nothing to say)."""


def experiment_weights(history: Sequence[RolloutSpec], seed: str | None) -> Split:
    """The A/B weights of the experiment ``seed`` (default: the latest rollout) in ``history``
    (oldest first), or why there are none."""
    specs = [x for x in history if x.state != "rolled_back"]
    specs = [x for x in specs if x.seed == seed] if seed is not None else specs[-1:]
    if not specs:
        return None, None
    if specs[-1].strategy == "canary":
        return None, "not checked: a canary's split changes by stage (its gates check each stage)"
    if specs[-1].strategy != "ab":
        return None, None
    splits = {tuple(sorted(x.weights().items())) for x in specs}
    if len(splits) > 1:
        return None, "not checked: the A/B weights changed during the experiment"
    return dict(specs[-1].weights()), None


@dataclass(frozen=True)
class Histories:
    """Several deployments' rollout histories read at once
    (:meth:`cairn.rollouts.RolloutStore.histories`): each one's specs, oldest first (empty: no
    rollout stored), or apart the error of a stored spec that does not validate. A
    :class:`~cairn.experiments.deployment.SplitHistory`, so the analyses of many experiments
    share one read.

    Example
    -------
    >>> from cairn.rollouts.spec import Arm, RolloutSpec
    >>> ab = RolloutSpec.ab("credit", [Arm("a", "m/1", 0.5), Arm("b", "m/2", 0.5)], seed="t1")
    >>> read = Histories({"credit": [ab], "idle": []}, {"fraud": ValueError("bad gate")})
    >>> read.experiment_weights("credit", "t1"), read.experiment_weights("fraud", "s")
    (({'a': 0.5, 'b': 0.5}, None), (None, 'not checked: bad gate'))
    """

    specs: Mapping[str, Sequence[RolloutSpec]]
    invalid: Mapping[str, Exception]

    def of(self, deployment: str) -> Sequence[RolloutSpec]:
        """The deployment's specs, oldest first; its error when a stored spec is invalid."""
        if deployment in self.invalid:
            raise self.invalid[deployment]
        return self.specs.get(deployment, ())

    def experiment_weights(self, deployment: str, seed: str | None) -> Split:
        """The A/B split experiment ``seed`` of ``deployment`` ran under, or why there is none
        (see :func:`experiment_weights`)."""
        if deployment in self.invalid:
            return None, f"not checked: {self.invalid[deployment]}"
        return experiment_weights(self.specs.get(deployment, ()), seed)
