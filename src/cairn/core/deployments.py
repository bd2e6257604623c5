"""Deployments: a name bound to a model reference, a decision threshold, an explanation
policy and a fallback, read from the project's ``deployments.yaml``.

.. code-block:: yaml

    deployments:
      credit:
        model: credit-default@champion
        threshold: 0.5            # score >= threshold -> decline
        explain: declines         # declines | always | never
        reason_codes: reason_codes.yaml
        top_k: 4
        feature_budget_ms: 50     # online read slower than this -> fallback
        fallback:                 # store down or slow; omit to answer 503 instead
          model: credit-default@champion   # default: the deployment's model
          defaults: {income: 0}            # features not given are missing
        # or: fallback: {score: 0.9}      (a rules model: a fixed score)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from cairn.core.errors import CairnError, ConfigError
from cairn.core.predictions import ModelRef

ExplainPolicy = Literal["declines", "always", "never"]
DEPLOYMENTS_FILE = "deployments.yaml"
_KEYS = frozenset(
    {"model", "threshold", "explain", "reason_codes", "top_k", "feature_budget_ms", "fallback"}
)


class UnknownDeploymentError(CairnError, LookupError):
    """No deployment of that name in ``deployments.yaml`` (the HTTP API answers 404)."""


@dataclass(frozen=True)
class Fallback:
    """What to score when online features cannot be read in time.

    Either a model (``model`` ref, or None for the deployment's own) over ``defaults``, or a
    fixed ``score`` (a rules model).
    """

    model: str | None = None
    defaults: dict[str, Any] = field(default_factory=dict)
    score: float | None = None

    @property
    def kind(self) -> str:
        """``rules`` for a fixed score, else ``defaults``."""
        return "rules" if self.score is not None else "defaults"


@dataclass(frozen=True)
class Deployment:
    """One deployment.

    Example
    -------
    >>> d = Deployment.from_dict("credit", {"model": "credit-default@champion"})
    >>> d.threshold, d.explain, d.fallback
    (0.5, 'declines', None)
    """

    name: str
    model: str
    threshold: float = 0.5
    explain: ExplainPolicy = "declines"
    reason_codes: str | None = None
    top_k: int = 4
    feature_budget_ms: float = 50.0
    fallback: Fallback | None = None

    @classmethod
    def from_dict(cls, name: str, data: Any) -> Deployment:
        """Check and build one deployment; a :class:`ConfigError` names the bad key."""
        where = f"deployments.{name}"
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where} must be a mapping with at least 'model'; got {data!r}.")
        unknown = sorted(set(data) - _KEYS)
        if unknown:
            raise ConfigError(
                f"{where}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(_KEYS))}."
            )
        if "model" not in data:
            raise ConfigError(f"{where}: 'model' is required (e.g. credit-default@champion).")
        ModelRef.parse(str(data["model"]))
        threshold = _number(data.get("threshold", 0.5), f"{where}.threshold")
        if not 0.0 <= threshold <= 1.0:
            raise ConfigError(f"{where}.threshold must be between 0 and 1; got {threshold}.")
        explain = data.get("explain", "declines")
        if explain not in ("declines", "always", "never"):
            raise ConfigError(
                f"{where}.explain must be declines, always or never; got {explain!r}."
            )
        top_k = data.get("top_k", 4)
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            raise ConfigError(f"{where}.top_k must be a positive integer; got {top_k!r}.")
        budget = _number(data.get("feature_budget_ms", 50.0), f"{where}.feature_budget_ms")
        return cls(
            name=name,
            model=str(data["model"]),
            threshold=threshold,
            explain=explain,
            reason_codes=data.get("reason_codes"),
            top_k=top_k,
            feature_budget_ms=budget,
            fallback=_fallback(data.get("fallback"), where),
        )


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where} must be a number; got {value!r}.")
    return float(value)


def _fallback(data: Any, where: str) -> Fallback | None:
    if data is None:
        return None
    if not isinstance(data, Mapping) or not set(data) <= {"model", "defaults", "score"}:
        raise ConfigError(
            f"{where}.fallback must be a mapping of model/defaults or score; got {data!r}."
        )
    if "score" in data:
        return Fallback(score=_number(data["score"], f"{where}.fallback.score"))
    if data.get("model") is not None:
        ModelRef.parse(str(data["model"]))
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise ConfigError(f"{where}.fallback.defaults must map features to values.")
    return Fallback(model=data.get("model"), defaults=dict(defaults))


def load_deployments(path: str | Path) -> dict[str, Deployment]:
    """The deployments of a ``deployments.yaml`` file (none when it does not exist).

    Example
    -------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "deployments.yaml"
    >>> _ = p.write_text("deployments:\\n  credit: {model: credit-default@champion}\\n")
    >>> list(load_deployments(p))
    ['credit']
    """
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    section = data.get("deployments") if isinstance(data, Mapping) else None
    if not isinstance(section, Mapping):
        raise ConfigError(f"{path} must have a 'deployments' mapping of name -> settings.")
    return {str(name): Deployment.from_dict(str(name), spec) for name, spec in section.items()}


def find_deployment(deployments: Mapping[str, Deployment], name: str) -> Deployment:
    """The deployment called ``name``, or one :class:`UnknownDeploymentError` naming the
    deployments there are (the one error every command and route raises for it).

    Example
    -------
    >>> try:
    ...     find_deployment({}, "credit")
    ... except UnknownDeploymentError as exc:
    ...     print(exc)
    No deployment 'credit'; deployments: none (add them to deployments.yaml).
    """
    found = deployments.get(name)
    if found is None:
        known = ", ".join(sorted(deployments)) or f"none (add them to {DEPLOYMENTS_FILE})"
        raise UnknownDeploymentError(f"No deployment {name!r}; deployments: {known}.")
    return found
