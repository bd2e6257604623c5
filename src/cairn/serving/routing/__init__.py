"""Routing: which model answers each unit of a deployment, and how a new model rolls out.

A deployment's :class:`RolloutSpec` (kept, versioned, in the metadata database by
:class:`RolloutStore`) names its arms and strategy: **single** (one model), **blue-green** (two
slots, one store write switches), **canary** (staged percentages moved by gates) or **A/B**
(weighted, sticky arms); any of them can add **shadow** models that score off the request path
(:class:`ShadowQueue`). :func:`router_for` turns a spec into a :class:`Router` whose ``choose``
maps a unit id to a :class:`Route`. Units are assigned with GrowthBook's hash v2
(:mod:`~cairn.serving.routing.assignment`), so the assignment is the same in every process,
after every restart, and in GrowthBook's SDKs.

Example
-------
>>> spec = RolloutSpec.canary("credit", "m@champion", "m@challenger", seed="s", stages=(100,))
>>> router_for(spec).choose("customer-1").arm
'canary'
"""

from __future__ import annotations

from collections.abc import Callable

from cairn.rollouts.spec import Arm, CanaryGate, RolloutSpec
from cairn.rollouts.store import ConflictError, RolloutChange, RolloutStore
from cairn.serving.routing.ab import ABRouter
from cairn.serving.routing.assignment import (
    bucket_ranges,
    bucket_v2,
    choose_variation,
    equal_weights,
    fnv1a32,
    hash_v1,
    hash_v2,
    hash_value,
    in_namespace,
)
from cairn.serving.routing.blue_green import BlueGreenRouter
from cairn.serving.routing.canary import CanaryRouter
from cairn.serving.routing.route import Route, Router
from cairn.serving.routing.shadow import ShadowJob, ShadowQueue
from cairn.serving.routing.single import SingleRouter

ROUTERS: dict[str, Callable[[RolloutSpec], Router]] = {
    "single": SingleRouter,
    "blue-green": BlueGreenRouter,
    "canary": CanaryRouter,
    "ab": ABRouter,
}
"""Strategy name -> router class."""


def router_for(spec: RolloutSpec) -> Router:
    """The router of ``spec``'s strategy.

    Example
    -------
    >>> router_for(RolloutSpec.single("credit", "m@champion")).choose("u").model
    'm@champion'
    """
    return ROUTERS[spec.strategy](spec)


__all__ = [
    "ROUTERS",
    "ABRouter",
    "Arm",
    "BlueGreenRouter",
    "CanaryGate",
    "CanaryRouter",
    "ConflictError",
    "RolloutChange",
    "RolloutSpec",
    "RolloutStore",
    "Route",
    "Router",
    "ShadowJob",
    "ShadowQueue",
    "SingleRouter",
    "bucket_ranges",
    "bucket_v2",
    "choose_variation",
    "equal_weights",
    "fnv1a32",
    "hash_v1",
    "hash_v2",
    "hash_value",
    "in_namespace",
    "router_for",
]
