"""Deployments: a name bound to a model reference, a decision threshold and the decision it
makes, what its label means and when labels are mature, an explanation policy and a fallback,
read from the project's ``deployments.yaml``.

Any scored decision, not only credit: ``score >= threshold`` makes the **positive** decision
(``decline`` for credit, ``follow_up`` for marketing, ``block`` for fraud), otherwise the
**negative** one; ``favorable`` names the decision that is good for the person decided on (what
adverse-impact ratios compare). Without a ``decision`` block a deployment keeps the credit
vocabulary of 0.1 (``decline``/``approve``, favorable ``approve``).

.. code-block:: yaml

    deployments:
      credit:
        model: credit-default@champion
        threshold: 0.5            # score >= threshold -> the positive decision
        decision:                 # the decisions this deployment makes
          positive: decline
          negative: approve
          favorable: negative     # which of the two is favorable to the applicant
        label:                    # what a label of 1 means, and when labels are mature
          name: defaulted
          maturity: 90d           # outcome metrics judge predictions at least this old
        explain: positive         # positive | negative | always | never (0.1: declines)
        reason_codes: reason_codes.yaml
        top_k: 4
        feature_budget_ms: 50     # online read slower than this -> fallback
        fallback:                 # store down or slow; omit to answer 503 instead
          model: credit-default@champion   # default: the deployment's model
          defaults: {income: 0}            # features not given are missing
        # or: fallback: {score: 0.9}      (a rules model: a fixed score)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from cairn.core.errors import CairnError, ConfigError
from cairn.core.predictions import ModelRef
from cairn.core.timeutil import parse_duration

ExplainPolicy = Literal["positive", "negative", "always", "never"]
"""Which decisions get reason codes on the request path (0.1's ``declines`` is ``positive``)."""
EXPLAIN_POLICIES: tuple[str, ...] = ("positive", "negative", "always", "never")
DEPLOYMENTS_FILE = "deployments.yaml"
_KEYS = frozenset(
    {
        "model", "threshold", "decision", "label", "explain", "reason_codes", "top_k",
        "feature_budget_ms", "fallback",
    }
)  # fmt: skip
_DECISION = re.compile(r"^[A-Za-z][\w\-]{0,63}$")


@dataclass(frozen=True)
class Decisions:
    """The two decisions a deployment makes and which one favors the person decided on.

    Example
    -------
    >>> d = Decisions("follow_up", "skip", favorable="positive")
    >>> d.of(0.7, 0.5), d.of(0.2, 0.5), d.favorable_decision
    ('follow_up', 'skip', 'follow_up')
    """

    positive: str = "decline"
    negative: str = "approve"
    favorable: Literal["positive", "negative"] = "negative"

    def of(self, score: float, threshold: float) -> str:
        """The decision for ``score`` at ``threshold`` (``score >= threshold``: positive)."""
        return self.positive if score >= threshold else self.negative

    @property
    def favorable_decision(self) -> str:
        """The favorable decision's name (``approve`` for credit)."""
        return self.positive if self.favorable == "positive" else self.negative


@dataclass(frozen=True)
class Label:
    """What a label of 1 means for a deployment, and how old a prediction must be before its
    label counts (µs; outcome metrics and comparisons judge only mature predictions)."""

    name: str = "label"
    maturity: int = 0


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
    >>> d.threshold, d.explain, d.decision.positive, d.fallback
    (0.5, 'positive', 'decline', None)
    """

    name: str
    model: str
    threshold: float = 0.5
    decision: Decisions = field(default_factory=Decisions)
    label: Label = field(default_factory=Label)
    explain: ExplainPolicy = "positive"
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
        explain = data.get("explain", "positive")
        if explain == "declines":  # 0.1's name for the positive decision of credit
            explain = "positive"
        if explain not in EXPLAIN_POLICIES:
            raise ConfigError(
                f"{where}.explain must be one of {', '.join(EXPLAIN_POLICIES)}; got {explain!r}."
            )
        top_k = data.get("top_k", 4)
        if not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1:
            raise ConfigError(f"{where}.top_k must be a positive integer; got {top_k!r}.")
        budget = _number(data.get("feature_budget_ms", 50.0), f"{where}.feature_budget_ms")
        return cls(
            name=name,
            model=str(data["model"]),
            threshold=threshold,
            decision=_decisions(data.get("decision"), where),
            label=_label(data.get("label"), where),
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


def _decisions(data: Any, where: str) -> Decisions:
    if data is None:
        return Decisions()
    keys = {"positive", "negative", "favorable"}
    if (
        not isinstance(data, Mapping)
        or not set(data) <= keys
        or not {"positive", "negative"} <= set(data)
    ):
        raise ConfigError(
            f"{where}.decision must be a mapping of positive, negative (decision names) and "
            f"optionally favorable (positive or negative); got {data!r}."
        )
    names = [data["positive"], data["negative"]]
    for key, value in zip(("positive", "negative"), names, strict=True):
        if not isinstance(value, str) or not _DECISION.match(value):
            raise ConfigError(
                f"{where}.decision.{key} must be a name of letters, digits, '_' or '-'; "
                f"got {value!r}."
            )
    if names[0] == names[1]:
        raise ConfigError(
            f"{where}.decision: positive and negative must differ; both are {names[0]!r}."
        )
    favorable = data.get("favorable", "negative")
    if favorable not in ("positive", "negative"):
        raise ConfigError(
            f"{where}.decision.favorable must be positive or negative; got {favorable!r}."
        )
    return Decisions(names[0], names[1], favorable)


def _label(data: Any, where: str) -> Label:
    if data is None:
        return Label()
    if not isinstance(data, Mapping) or not set(data) <= {"name", "maturity"}:
        raise ConfigError(
            f"{where}.label must be a mapping of name and maturity (e.g. 90d); got {data!r}."
        )
    name = data.get("name", "label")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}.label.name must be a non-empty string; got {name!r}.")
    maturity = parse_duration(str(data.get("maturity", "0s")), owner=f"{where}.label.maturity")
    return Label(name, maturity)


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
