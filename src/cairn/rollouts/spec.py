"""A deployment's rollout: which models serve it, how traffic splits between them, and how a
canary moves — one frozen, validated, serialisable value.

A :class:`RolloutSpec` is what the :class:`~cairn.rollouts.RolloutStore` keeps per
deployment and what the server turns into a router. Every problem is one
:class:`~cairn.core.errors.ConfigError` line naming the deployment, the field, what is
allowed and what was given.

Example
-------
>>> spec = RolloutSpec.canary("credit", "credit-default@champion", "credit-default@challenger",
...                           seed="canary-1")
>>> spec.weights()
{'control': 0.95, 'canary': 0.05}
>>> RolloutSpec.from_dict(spec.to_dict()) == spec
True
"""

from __future__ import annotations

import itertools
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal, cast, get_args

from cairn.core.errors import ConfigError
from cairn.core.gate_policy import GatePolicy
from cairn.core.predictions import ModelRef

Strategy = Literal["single", "blue-green", "canary", "ab"]
State = Literal["active", "promoted", "rolled_back", "held"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)
STATES: tuple[str, ...] = get_args(State)
DEFAULT_STAGES = (5.0, 25.0, 50.0, 100.0)
WEIGHT_TOLERANCE = 1e-9
_NAME = re.compile(r"^[A-Za-z0-9][\w.\-]{0,63}$")


@dataclass(frozen=True)
class Arm:
    """One arm of a rollout: a name, the model it serves, its weight (A/B only).

    Example
    -------
    >>> Arm("treatment", "credit-default/7", 0.5).model
    'credit-default/7'
    """

    name: str
    model: str
    weight: float = 1.0


CanaryGate = GatePolicy
"""Deprecated alias of :class:`~cairn.core.gate_policy.GatePolicy` (the one gate policy);
removed in 0.3."""


@dataclass(frozen=True)
class RolloutSpec:
    """How one deployment routes traffic to models (see the module docstring).

    Parameters
    ----------
    deployment:
        The deployment (a name in ``deployments.yaml``).
    strategy:
        ``single``, ``blue-green``, ``canary`` or ``ab``.
    arms:
        The arms; the first is the control (what an erroring arm falls back to). Names are
        fixed for three strategies: single ``main``; blue-green ``blue`` and ``green``; canary
        ``control`` and ``canary``.
    seed:
        The assignment seed (hash v2): change it to re-randomise units.
    live:
        Blue-green: the slot that takes all traffic.
    stages, stage, state, since:
        Canary: traffic percentages (strictly increasing in (0, 100], ending at 100), the
        index of the current stage, its state and when it began (epoch µs). ``rolled_back``
        sends everything to the control, ``promoted`` everything to the canary (A/B:
        ``rolled_back`` sends everything to the first arm).
    shadows:
        Model references scored off the request path and logged under the same prediction id.
    gate:
        The canary gates' :class:`~cairn.core.gate_policy.GatePolicy`.
    coverage:
        A/B: the share of units in the experiment (the others get the first arm, not exposed).
    version:
        The store's version of this spec (0 before it is stored).
    """

    deployment: str
    strategy: Strategy
    arms: tuple[Arm, ...]
    seed: str
    live: str | None = None
    stages: tuple[float, ...] = DEFAULT_STAGES
    stage: int = 0
    state: State = "active"
    since: int = 0
    shadows: tuple[str, ...] = ()
    gate: GatePolicy = field(default_factory=GatePolicy)
    coverage: float = 1.0
    version: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "arms", tuple(self.arms))
        stages = tuple(self.stages)
        if not all(_number(s) for s in stages):
            raise ConfigError(
                f"Rollout of {self.deployment!r}: stages must be percentages in (0, 100]; "
                f"got {_shown(list(stages))}."
            )
        object.__setattr__(self, "stages", tuple(float(s) for s in stages))
        object.__setattr__(self, "shadows", tuple(self.shadows))
        _validate(self)

    # -- constructors ---------------------------------------------------------------------

    @classmethod
    def single(cls, deployment: str, model: str) -> RolloutSpec:
        """All traffic to one model (arm ``main``).

        Example
        -------
        >>> RolloutSpec.single("credit", "credit-default@champion").weights()
        {'main': 1.0}
        """
        return cls(deployment, "single", (Arm("main", model),), seed=deployment)

    @classmethod
    def blue_green(
        cls, deployment: str, blue: str, green: str, live: Literal["blue", "green"] = "blue"
    ) -> RolloutSpec:
        """Two slots; ``live`` takes all traffic (switching is one store write).

        Example
        -------
        >>> RolloutSpec.blue_green("credit", "m/1", "m/2", live="green").weights()
        {'blue': 0.0, 'green': 1.0}
        """
        arms = (Arm("blue", blue), Arm("green", green))
        return cls(deployment, "blue-green", arms, seed=deployment, live=live)

    @classmethod
    def canary(
        cls,
        deployment: str,
        control: str,
        candidate: str,
        *,
        stages: Sequence[float] = DEFAULT_STAGES,
        gate: GatePolicy | None = None,
        seed: str | None = None,
        shadows: Sequence[str] = (),
    ) -> RolloutSpec:
        """A canary of ``candidate`` against ``control``, starting at the first stage.

        Example
        -------
        >>> RolloutSpec.canary("credit", "m@champion", "m@challenger", stages=(10, 100)).stages
        (10.0, 100.0)
        """
        arms = (Arm("control", control), Arm("canary", candidate))
        return cls(
            deployment,
            "canary",
            arms,
            seed=seed or _fresh_seed(deployment, "canary"),
            stages=tuple(stages),
            gate=gate or GatePolicy(),
            shadows=tuple(shadows),
        )

    @classmethod
    def ab(
        cls,
        deployment: str,
        arms: Sequence[Arm],
        seed: str | None = None,
        *,
        coverage: float = 1.0,
        shadows: Sequence[str] = (),
    ) -> RolloutSpec:
        """An A/B test over ``arms`` (weights summing to 1), sticky by unit id.

        Example
        -------
        >>> spec = RolloutSpec.ab("credit", [Arm("a", "m/1", 0.5), Arm("b", "m/2", 0.5)], "s1")
        >>> spec.weights()
        {'a': 0.5, 'b': 0.5}
        """
        return cls(
            deployment,
            "ab",
            tuple(arms),
            seed=seed or _fresh_seed(deployment, "ab"),
            coverage=coverage,
            shadows=tuple(shadows),
        )

    # -- views ----------------------------------------------------------------------------

    @property
    def control(self) -> Arm:
        """The arm an erroring arm falls back to (the first; blue-green: the live slot)."""
        if self.strategy == "blue-green":
            return self.arm(cast(str, self.live))
        return self.arms[0]

    def arm(self, name: str) -> Arm:
        """The arm called ``name`` (a :class:`ConfigError` listing the arms otherwise)."""
        for arm in self.arms:
            if arm.name == name:
                return arm
        names = ", ".join(a.name for a in self.arms)
        raise ConfigError(f"Rollout of {self.deployment!r} has no arm {name!r}; arms: {names}.")

    def canary_percent(self) -> float:
        """The share of units (in %) the canary serves now (0 rolled back, 100 promoted)."""
        if self.state == "rolled_back":
            return 0.0
        if self.state == "promoted":
            return 100.0
        return self.stages[self.stage]

    def weights(self) -> dict[str, float]:
        """The share of traffic each arm serves now.

        A/B units outside ``coverage`` are served by the first arm and count with it.
        """
        if self.strategy == "single":
            return {self.arms[0].name: 1.0}
        if self.strategy == "blue-green":
            return {a.name: 1.0 if a.name == self.live else 0.0 for a in self.arms}
        if self.strategy == "canary":
            share = self.canary_percent() / 100
            return {"control": round(1.0 - share, 12), "canary": share}
        if self.state == "rolled_back":
            return {a.name: 1.0 if i == 0 else 0.0 for i, a in enumerate(self.arms)}
        out = {a.name: a.weight * self.coverage for a in self.arms}
        out[self.arms[0].name] += 1.0 - self.coverage
        return out

    def models(self) -> list[str]:
        """Every model reference this spec serves or shadows (arms first, no repeats)."""
        refs = [a.model for a in self.arms] + list(self.shadows)
        return list(dict.fromkeys(refs))

    def with_changes(self, **changes: Any) -> RolloutSpec:
        """A validated copy with some fields replaced.

        Example
        -------
        >>> RolloutSpec.blue_green("credit", "m/1", "m/2").with_changes(live="green").live
        'green'
        """
        return replace(self, **changes)

    # -- serialisation --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (:meth:`from_dict` reads it back)."""
        data = asdict(self)
        data["arms"] = [asdict(a) for a in self.arms]
        data["stages"] = list(self.stages)
        data["shadows"] = list(self.shadows)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> RolloutSpec:
        """Check and build a spec; a :class:`ConfigError` names the bad field.

        Example
        -------
        >>> try:
        ...     RolloutSpec.from_dict({"deployment": "credit", "strategy": "rainbow"})
        ... except ConfigError as exc:
        ...     print(exc)
        Rollout of 'credit': strategy must be one of single, blue-green, canary, ab; got 'rainbow'.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"A rollout spec must be a mapping; got {type(data).__name__}.")
        where = f"Rollout of {data.get('deployment')!r}"
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(
                f"{where}: unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}."
            )
        if data.get("strategy") not in STRATEGIES:
            raise ConfigError(
                f"{where}: strategy must be one of {', '.join(STRATEGIES)}; "
                f"got {data.get('strategy')!r}."
            )
        for key in ("deployment", "arms"):
            if key not in data:
                raise ConfigError(f"{where}: {key!r} is required.")
        values = dict(data)
        values["arms"] = tuple(
            _arm(a, f"{where}: arms[{i}]") for i, a in enumerate(_seq(data["arms"], where, "arms"))
        )
        values.setdefault("seed", str(data["deployment"]))
        if "stages" in data:
            values["stages"] = tuple(_seq(data["stages"], where, "stages"))
        if "shadows" in data:
            values["shadows"] = tuple(_seq(data["shadows"], where, "shadows"))
        if "gate" in data:
            values["gate"] = _gate(data["gate"], where)
        return cls(**values)


def _fresh_seed(deployment: str, kind: str) -> str:
    return f"{deployment}-{kind}-{uuid.uuid4().hex[:8]}"


def _seq(value: Any, where: str, key: str) -> Sequence[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ConfigError(f"{where}: {key} must be a list; got {value!r}.")
    return value


def _arm(data: Any, where: str) -> Arm:
    if isinstance(data, Arm):
        return data
    if not isinstance(data, Mapping) or not {"name", "model"} <= set(data) <= {
        "name",
        "model",
        "weight",
    }:
        raise ConfigError(f"{where} must be a mapping of name, model and weight; got {data!r}.")
    return Arm(**dict(data))


def _gate(data: Any, where: str) -> GatePolicy:
    return GatePolicy.from_dict(data, where=where)


def _shown(value: Any) -> str:
    """``repr`` of a received value, shortened (error messages quote what was received)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def _validate(spec: RolloutSpec) -> None:
    where = f"Rollout of {spec.deployment!r}"

    def fail(message: str) -> None:
        raise ConfigError(f"{where}: {message}")

    if not isinstance(spec.deployment, str) or not _NAME.match(spec.deployment):
        fail(
            f"deployment must be a name of letters, digits, '_', '.', '-'; got {spec.deployment!r}."
        )
    if spec.strategy not in STRATEGIES:
        fail(f"strategy must be one of {', '.join(STRATEGIES)}; got {spec.strategy!r}.")
    if spec.state not in STATES:
        fail(f"state must be one of {', '.join(STATES)}; got {spec.state!r}.")
    if not isinstance(spec.seed, str) or not spec.seed:
        fail(f"seed must be a non-empty string; got {spec.seed!r}.")
    names = [a.name for a in spec.arms]
    for arm in spec.arms:
        if not isinstance(arm, Arm):
            fail(f"arms must be Arm values; got {arm!r}.")
        if not isinstance(arm.name, str) or not _NAME.match(arm.name):
            fail(f"arm name must be letters, digits, '_', '.', '-' (at most 64); got {arm.name!r}.")
        _model(arm.model, f"{where}: arm {arm.name!r}")
        if not _number(arm.weight) or not 0.0 <= arm.weight <= 1.0:
            fail(f"arm {arm.name!r} weight must be a number in [0, 1]; got {arm.weight!r}.")
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        fail(f"arm names must be unique; {duplicate!r} appears {names.count(duplicate)} times.")
    expected = {"single": None, "blue-green": ["blue", "green"], "canary": ["control", "canary"]}
    if spec.strategy == "single" and len(names) != 1:
        fail(f"a single rollout has exactly one arm; got {len(names)} ({', '.join(names)}).")
    fixed = expected.get(spec.strategy)
    if fixed is not None and names != fixed:
        fail(f"a {spec.strategy} rollout has arms {' and '.join(fixed)}; got {names}.")
    if spec.strategy == "blue-green" and spec.live not in names:
        fail(f"live must name a slot ({', '.join(names)}); got {spec.live!r}.")
    if spec.strategy != "blue-green" and spec.live is not None:
        fail(f"live applies to blue-green rollouts only; got live={spec.live!r}.")
    if spec.strategy == "ab":
        if len(names) < 2:
            fail(f"an A/B test needs at least two arms; got {len(names)}.")
        total = math.fsum(a.weight for a in spec.arms)
        if abs(total - 1.0) > WEIGHT_TOLERANCE:
            weights = ", ".join(f"{a.name}={a.weight:g}" for a in spec.arms)
            fail(f"arm weights must sum to 1; got {weights} (sum {total:.12g}).")
    _stages(spec, fail)
    if not _number(spec.coverage) or not 0.0 <= spec.coverage <= 1.0:
        fail(f"coverage must be a number in [0, 1]; got {spec.coverage!r}.")
    for ref in spec.shadows:
        _model(ref, f"{where}: shadow")
    if len(set(spec.shadows)) != len(spec.shadows):
        fail(f"shadow models must be unique; got {list(spec.shadows)}.")
    if not isinstance(spec.since, int) or isinstance(spec.since, bool) or spec.since < 0:
        fail(f"since must be epoch microseconds (an integer >= 0); got {spec.since!r}.")
    if not isinstance(spec.version, int) or isinstance(spec.version, bool) or spec.version < 0:
        fail(f"version must be an integer >= 0; got {spec.version!r}.")
    _check_gate(spec.gate, fail)


def _stages(spec: RolloutSpec, fail: Any) -> None:
    stages = spec.stages
    if not stages or not all(_number(s) and 0.0 < s <= 100.0 for s in stages):
        fail(f"stages must be percentages in (0, 100]; got {list(stages)}.")
    if any(b <= a for a, b in itertools.pairwise(stages)):
        fail(f"stages must be strictly increasing; got {list(stages)}.")
    if stages[-1] != 100.0:
        fail(f"stages must end at 100 (full rollout); got {list(stages)}.")
    if not isinstance(spec.stage, int) or isinstance(spec.stage, bool):
        fail(f"stage must be an index into stages; got {spec.stage!r}.")
    if not 0 <= spec.stage < len(stages):
        fail(
            f"stage must be an index in 0..{len(stages) - 1} of stages {list(stages)}; "
            f"got {spec.stage}."
        )


def _check_gate(gate: GatePolicy, fail: Any) -> None:
    # GatePolicy validates its own fields when it is made; only its type is left to check.
    if not isinstance(gate, GatePolicy):
        fail(f"gate must be a GatePolicy; got {gate!r}.")


def _model(ref: Any, where: str) -> None:
    try:
        ModelRef.parse(ref)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
