"""Rollout requests as specs: the body of a create (``cairn deploy create``, ``POST .../rollout``
with ``strategy``) and of a change (``cairn deploy set``, ``POST .../rollout`` without it).

Pure functions over :class:`~cairn.serving.routing.RolloutSpec`: no store, no registry
(:class:`cairn.rollouts.service.RolloutService` checks the models and writes the result).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cairn.core.errors import ConfigError
from cairn.core.predictions import ModelRef
from cairn.rollouts.spec import RolloutSpec

if TYPE_CHECKING:
    from cairn.registry.audit import AuditEntry

CREATE_KEYS = {
    "single": {"model"},
    "blue-green": {"blue", "green", "live"},
    "canary": {"candidate", "control", "stages", "gate"},
    "ab": {"arms", "coverage"},
}
COMMON_KEYS = {"strategy", "shadows", "seed"}
SET_KEYS = ("weights", "stages", "stage", "gate", "shadows", "coverage", "state")


def build_spec(deployment: str, request: Mapping[str, Any], *, base: str) -> RolloutSpec:
    """A rollout spec from a create request; ``base`` is the model a missing ``model``,
    ``control`` or ``blue`` defaults to (the deployment's current model).

    Example
    -------
    >>> spec = build_spec("credit", {"strategy": "canary", "candidate": "m/2", "stages": [10, 100]},
    ...                   base="m@champion")
    >>> [(a.name, a.model) for a in spec.arms], spec.stages
    ([('control', 'm@champion'), ('canary', 'm/2')], (10.0, 100.0))
    """
    strategy = request.get("strategy")
    if not isinstance(strategy, str) or strategy not in CREATE_KEYS:
        raise ConfigError(
            f"Rollout of {deployment!r}: strategy must be one of {', '.join(CREATE_KEYS)}; "
            f"got {_shown(strategy)}."
        )
    allowed = CREATE_KEYS[strategy] | COMMON_KEYS
    unknown = sorted(set(request) - allowed)
    if unknown:
        raise ConfigError(
            f"Rollout of {deployment!r}: {unknown[0]!r} does not apply to a {strategy} rollout; "
            f"it takes {', '.join(sorted(allowed))}."
        )
    data: dict[str, Any] = {
        "deployment": deployment,
        "strategy": strategy,
        "shadows": _list(request, "shadows", deployment),
        "seed": request.get("seed") or f"{deployment}-{strategy}-{uuid.uuid4().hex[:8]}",
    }
    if strategy == "single":
        data["arms"] = [{"name": "main", "model": request.get("model") or base}]
    elif strategy == "blue-green":
        data["arms"] = [
            {"name": "blue", "model": request.get("blue") or base},
            {"name": "green", "model": _required(request, "green", deployment)},
        ]
        data["live"] = request.get("live") or "blue"
    elif strategy == "canary":
        data["arms"] = [
            {"name": "control", "model": request.get("control") or base},
            {"name": "canary", "model": _required(request, "candidate", deployment)},
        ]
        for key in ("stages", "gate"):
            if request.get(key) is not None:
                data[key] = request[key]
    else:
        data["arms"] = _required(request, "arms", deployment)
        if request.get("coverage") is not None:
            data["coverage"] = request["coverage"]
    return RolloutSpec.from_dict(data)


def _list(request: Mapping[str, Any], key: str, deployment: str) -> list[Any]:
    value = request.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(
            f"Rollout of {deployment!r}: {key} must be a list of model references; "
            f"got {_shown(value)}."
        )
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _required(request: Mapping[str, Any], key: str, deployment: str) -> Any:
    value = request.get(key)
    if value is None or value == "" or value == []:
        raise ConfigError(
            f"Rollout of {deployment!r}: a {request['strategy']} rollout needs {key!r}."
        )
    if key in ("green", "candidate"):
        ModelRef.parse(value)
    return value


def apply_changes(spec: RolloutSpec, changes: Mapping[str, Any]) -> RolloutSpec:
    """``spec`` with the fields of a ``set`` request changed (validated as a whole).

    Example
    -------
    >>> from cairn.rollouts.spec import Arm
    >>> ab = RolloutSpec.ab("credit", [Arm("a", "m/1", 0.5), Arm("b", "m/2", 0.5)], "s")
    >>> apply_changes(ab, {"weights": {"a": 0.2, "b": 0.8}}).weights()
    {'a': 0.2, 'b': 0.8}
    """
    where = f"Rollout of {spec.deployment!r}"
    unknown = sorted(set(changes) - set(SET_KEYS))
    if unknown:
        raise ConfigError(f"{where}: cannot set {unknown[0]!r}; settable: {', '.join(SET_KEYS)}.")
    if not changes:
        raise ConfigError(f"{where}: nothing to change; give one of {', '.join(SET_KEYS)}.")
    data = spec.to_dict()
    if "weights" in changes:
        weights = changes["weights"]
        if spec.strategy != "ab" or not isinstance(weights, Mapping):
            raise ConfigError(
                f"{where}: weights apply to A/B tests as {{arm: weight}}; this is a "
                f"{spec.strategy} rollout and got {weights!r}."
            )
        names = [a.name for a in spec.arms]
        for name in weights:
            if name not in names:
                raise ConfigError(f"{where}: no arm {name!r} to weigh; arms: {', '.join(names)}.")
        data["arms"] = [{**a, "weight": weights.get(a["name"], a["weight"])} for a in data["arms"]]
    if "gate" in changes:
        gate = changes["gate"]
        if not isinstance(gate, Mapping):
            raise ConfigError(f"{where}: gate must map gate fields to values; got {gate!r}.")
        data["gate"] = {**data["gate"], **gate}
    for key in ("stages", "stage", "shadows", "coverage"):
        if key in changes:
            data[key] = changes[key]
    if "state" in changes:
        if changes["state"] not in ("active", "held"):
            raise ConfigError(
                f"{where}: state can be set to active (resume) or held (pause); got "
                f"{changes['state']!r} (use rollback or promote to end a rollout)."
            )
        data["state"] = changes["state"]
    if {"stage", "stages", "state"} & set(changes):
        data["since"] = 0  # a new stage or a resumed rollout judges fresh data
    return RolloutSpec.from_dict(data)


@dataclass(frozen=True)
class RolloutUpdate:
    """What an admin action did: the stored spec, the one it replaced, notes to show, and the
    audit entry it appended (``rollout.*``; None when made by something that writes none).
    The entry is not part of the JSON body nor of equality: two updates that stored the same
    change are equal."""

    spec: RolloutSpec
    previous: RolloutSpec | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    entry: AuditEntry | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The response body of an admin action."""
        return {
            "rollout": self.spec.to_dict(),
            "weights": self.spec.weights(),
            "previous_version": None if self.previous is None else self.previous.version,
            "notes": list(self.notes),
        }
