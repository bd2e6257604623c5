"""Rollouts: how a deployment moves from one model to another, safely and on the record.

A deployment's :class:`RolloutSpec` (single, blue-green, canary or A/B, plus shadows) is kept,
versioned and append-only, by the :class:`RolloutStore` in the metadata database; servers poll
it and route by it. The :class:`RolloutService` is the one place rollouts change — the CLI
(``cairn deploy ...``) and the HTTP admin routes both call it — and it applies the registry's
governance (a model taking all traffic must be approved by someone other than its author) and
writes every change to the audit log. The :class:`CanaryController` judges active canaries from
the prediction log with the gate statistics of :mod:`cairn.experiments.gates` under the one
:class:`GatePolicy`, and advances, holds, rolls back or promotes them.

Example
-------
>>> from cairn.rollouts import GatePolicy, RolloutSpec
>>> spec = RolloutSpec.canary("credit", "m@champion", "m@challenger", seed="c1",
...                           gate=GatePolicy(min_samples=100))
>>> spec.weights(), spec.gate.min_samples
({'control': 0.95, 'canary': 0.05}, 100)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cairn.core.lazy import lazy_exports

if TYPE_CHECKING:
    from cairn.core.deployments import UnknownDeploymentError
    from cairn.core.gate_policy import GatePolicy
    from cairn.rollouts.controller import CanaryController, ControllerStep, arm_stats
    from cairn.rollouts.requests import RolloutUpdate
    from cairn.rollouts.service import RolloutService, subject
    from cairn.rollouts.spec import Arm, CanaryGate, RolloutSpec
    from cairn.rollouts.splits import experiment_weights
    from cairn.rollouts.store import ConflictError, InvalidRolloutError, RolloutChange, RolloutStore

_HOME = {
    "Arm": "cairn.rollouts.spec",
    "CanaryController": "cairn.rollouts.controller",
    "CanaryGate": "cairn.rollouts.spec",
    "ConflictError": "cairn.rollouts.store",
    "ControllerStep": "cairn.rollouts.controller",
    "GatePolicy": "cairn.core.gate_policy",
    "InvalidRolloutError": "cairn.rollouts.store",
    "RolloutChange": "cairn.rollouts.store",
    "RolloutService": "cairn.rollouts.service",
    "RolloutSpec": "cairn.rollouts.spec",
    "RolloutStore": "cairn.rollouts.store",
    "RolloutUpdate": "cairn.rollouts.requests",
    "UnknownDeploymentError": "cairn.core.deployments",
    "arm_stats": "cairn.rollouts.controller",
    "experiment_weights": "cairn.rollouts.splits",
    "subject": "cairn.rollouts.service",
}


# Loaded on first use: serving's routers need the spec, not the controller's statistics.
__getattr__ = lazy_exports(__name__, _HOME)


__all__ = [
    "Arm",
    "CanaryController",
    "CanaryGate",
    "ConflictError",
    "ControllerStep",
    "GatePolicy",
    "InvalidRolloutError",
    "RolloutChange",
    "RolloutService",
    "RolloutSpec",
    "RolloutStore",
    "RolloutUpdate",
    "UnknownDeploymentError",
    "arm_stats",
    "experiment_weights",
    "subject",
]
