"""Deployments: a name bound to a model reference, a decision threshold and the decision it
makes, what its label means and when labels are mature, an explanation policy and a fallback,
read from the project's ``deployments.yaml``.

Any scored decision, not only credit: ``score >= threshold`` makes the **positive** decision
(``decline`` for credit, ``follow_up`` for marketing, ``block`` for fraud), otherwise the
**negative** one; ``favorable`` names the decision that is good for the person decided on (what
adverse-impact ratios compare). Without a ``decision`` block a deployment keeps the credit
vocabulary of 0.1 (``decline``/``approve``, favorable ``approve``).

Every key is declared once, on :class:`DeploymentsFile` and the sections below it: the model
that parses the file is also its JSON Schema (``cairn config schema deployments``), and a bad key
is one line naming the key path (``deployments.credit.threshold must be between 0 and 1; got
2.0.``).

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
        sampling:                 # a model without exact contributions (sampled Shapley values)
          on_request: false       # true: reason codes on the request path; false: on demand only
          permutations: 16        # the budget: random feature orders per explained row (2-256)
          seed: 0                 # the same seed and budget give the same values
        coverage:                 # too little data -> a person decides (the defaults)
          min_share: 0.5          # share of the model's features present to score
          below: refer            # refer | reject | fallback
          unknown_entity: refer   # refer | reject | fallback | score
        counterfactual:           # GET /v1/explanations/{id}/counterfactual (optional)
          immutable: [age, marital]           # never changed
          directions: {income: increase}      # may only move that way
          ranges: {debt: [0, 20000]}          # feasible values (default: the profile's range)
          max_changes: 3
          budget_ms: 200          # search time budget (scorecards are exact, no search)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BeforeValidator, Field, model_validator

from cairn.core.errors import CairnError
from cairn.core.file_model import (
    Duration,
    FileModel,
    Int,
    Name,
    Number,
    json_schema,
    key,
    parse,
    read_yaml_file,
    wrong,
)
from cairn.core.predictions import MODEL_REF_PATTERN, REFER

ExplainPolicy = Literal["positive", "negative", "always", "never"]
"""Which decisions get reason codes on the request path (0.1's ``declines`` is ``positive``)."""
EXPLAIN_POLICIES: tuple[str, ...] = ("positive", "negative", "always", "never")
DEPLOYMENTS_FILE = "deployments.yaml"
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


CoverageAction = Literal["refer", "reject", "fallback", "score"]
"""What a deployment does with a row it has too little data for: ``refer`` (decision
``refer``: a person decides; no reason codes), ``reject`` (HTTP 422), ``fallback`` (its
declared fallback scores the row) or, for an unknown entity only, ``score`` (as 0.1 did)."""


@dataclass(frozen=True)
class Coverage:
    """The least data a deployment scores on: the share of the model's features that must be
    present (non-null, online or in the request), and what to do below it or for an entity the
    online store does not know.

    Example
    -------
    >>> c = Coverage()
    >>> c.min_share, c.below, c.unknown_entity
    (0.5, 'refer', 'refer')
    >>> c.action(present=1, total=4, known=True), c.action(present=4, total=4, known=False)
    ('refer', 'refer')
    >>> c.action(present=2, total=4, known=True) is None
    True
    """

    min_share: float = 0.5
    below: CoverageAction = "refer"
    unknown_entity: CoverageAction = "refer"

    def action(self, *, present: int, total: int, known: bool) -> CoverageAction | None:
        """What to do with a row (None or ``score``: score it)."""
        if not known and self.unknown_entity != "score":
            return self.unknown_entity
        if total and present < self.min_share * total:
            return self.below
        return None


CounterfactualDirection = Literal["increase", "decrease"]
"""The one way a feature may move in a counterfactual."""


@dataclass(frozen=True)
class CounterfactualPolicy:
    """What a counterfactual of a deployment's unfavorable decision may change.

    ``immutable`` features never change; a feature in ``directions`` only moves that way (the
    others may move either way); ``ranges`` bound a numeric feature's new value (else the
    reference profile's observed min and max); at most ``max_changes`` features change; a
    search stops after ``budget_ms``. Features are checked against the served model when a
    counterfactual is computed (a name the model does not have is one ConfigError).

    Example
    -------
    >>> p = CounterfactualPolicy(immutable=("age",), directions={"income": "increase"})
    >>> p.max_changes, p.budget_ms, p.mentioned()
    (3, 200.0, ['age', 'income'])
    """

    immutable: tuple[str, ...] = ()
    directions: Mapping[str, CounterfactualDirection] = field(default_factory=dict)
    ranges: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    max_changes: int = 3
    budget_ms: float = 200.0

    def mentioned(self) -> list[str]:
        """Every feature the policy names, in declaration order (immutables first)."""
        names = [*self.immutable, *self.directions, *self.ranges]
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Sampling:
    """How a deployment explains a model whose contributions are sampled, not exact.

    With ``on_request`` False (the default) such a model's predictions are logged unexplained
    (as for ``explain: never``) and ``GET /v1/explanations/{id}`` samples them on demand;
    ``permutations`` and ``seed`` fix the budget and the random orders either way.

    Example
    -------
    >>> Sampling()
    Sampling(on_request=False, permutations=16, seed=0)
    """

    on_request: bool = False
    permutations: int = 16
    seed: int = 0


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
    coverage: Coverage = field(default_factory=Coverage)
    counterfactual: CounterfactualPolicy | None = None
    """What counterfactuals of its unfavorable decisions may change (None: the defaults)."""
    sampling: Sampling = field(default_factory=Sampling)

    @classmethod
    def from_dict(cls, name: str, data: Any) -> Deployment:
        """Check and build one deployment; a :class:`ConfigError` names the bad key
        (``deployments.NAME.threshold must be between 0 and 1; got 2.0.``)."""
        return parse(DeploymentSpec, data, prefix=("deployments", name)).value(name)


# The file's model: what deployments.yaml accepts, and its JSON Schema (cairn config schema).

_NAME_TEXT = "a name of letters, digits, '_' or '-' (starting with a letter)"
_REF_TEXT = "a model reference MODEL@ALIAS or MODEL/VERSION (e.g. credit-default@champion)"
_DecisionName = Annotated[Name, Field(pattern=_DECISION.pattern)]
_ModelRef = Annotated[str, Field(pattern=MODEL_REF_PATTERN)]


def _explain(value: Any) -> Any:
    return "positive" if value == "declines" else value  # 0.1's name for credit's positive


class DecisionSpec(FileModel):
    """decision: the two decisions a deployment makes, and which one is favorable."""

    positive: _DecisionName = key(
        description="The decision when score >= threshold (credit: decline; outreach: "
        "follow_up; fraud: block).",
        expected=_NAME_TEXT,
        examples=["decline"],
    )
    negative: _DecisionName = key(
        description="The decision when score < threshold (credit: approve; outreach: skip; "
        "fraud: allow).",
        expected=_NAME_TEXT,
        examples=["approve"],
    )
    favorable: Literal["positive", "negative"] = key(
        "negative",
        "Which of the two is favorable to the person decided on (what adverse-impact ratios "
        "compare): negative for credit (approve), positive for an offer.",
    )

    @model_validator(mode="after")
    def _differ(self) -> Self:
        if self.positive == self.negative:
            raise wrong("", f": positive and negative must differ; both are {self.positive!r}.")
        if REFER in (self.positive, self.negative):
            raise wrong("", f": {REFER!r} is the decision of a referral; name the two otherwise.")
        return self


class LabelSpec(FileModel):
    """label: what a label of 1 means, and when labels are mature."""

    name: Annotated[Name, Field(min_length=1)] = key(
        "label", "What a label of 1 means (credit: defaulted; outreach: subscribed).",
        examples=["defaulted"],
    )  # fmt: skip
    maturity: Duration = key(
        0,
        "How old a prediction must be before its label counts: outcome metrics and "
        "comparisons judge only predictions at least this old (e.g. 90d; default 0s).",
        examples=["90d"],
    )


class FallbackSpec(FileModel):
    """fallback: what to score when online features cannot be read in time."""

    model: _ModelRef | None = key(
        None, "The model scored on defaults (default: the deployment's model).",
        expected=_REF_TEXT,
    )  # fmt: skip
    defaults: dict[str, Any] | None = key(
        None, "Feature values used when the store cannot answer (features not given are missing)."
    )
    score: Number | None = key(
        None, "A fixed score instead (a rules model); model and defaults are then not used."
    )

    def value(self) -> Fallback:
        """The :class:`Fallback` this section declares."""
        if self.score is not None:
            return Fallback(score=self.score)
        return Fallback(model=self.model, defaults=dict(self.defaults or {}))


class CoverageSpec(FileModel):
    """coverage: the least data a deployment scores on, and what it does below it."""

    min_share: Annotated[Number, Field(ge=0, le=1)] = key(
        0.5,
        "Share of the model's features that must be present (non-null, from the online store "
        "or the request) to score a row; 0 scores every row of a known entity.",
    )
    below: Literal["refer", "reject", "fallback"] = key(
        "refer",
        "Below min_share: refer (decision refer: a person decides, no reason codes), reject "
        "(HTTP 422 naming the missing features) or fallback (the deployment's fallback scores).",
    )
    unknown_entity: Literal["refer", "reject", "fallback", "score"] = key(
        "refer",
        "An entity the online store does not know: refer, reject, fallback, or score (on "
        "request features and missing values).",
    )

    def value(self) -> Coverage:
        """The :class:`Coverage` this section declares."""
        return Coverage(self.min_share, self.below, self.unknown_entity)


class CounterfactualSpec(FileModel):
    """counterfactual: what the counterfactuals of unfavorable decisions may change."""

    immutable: list[Name] = key(
        default_factory=list,
        description="Features never changed (age, protected attributes).",
        examples=[["age", "marital"]],
    )
    directions: dict[str, CounterfactualDirection] = key(
        default_factory=dict,
        description="Feature -> increase or decrease: the only way it may move (features not "
        "named may move either way).",
        examples=[{"income": "increase", "debt": "decrease"}],
    )
    ranges: dict[str, list[Number]] = key(
        default_factory=dict,
        description="Numeric feature -> [lo, hi]: its feasible new values (default: the "
        "reference profile's observed min and max).",
        expected="a mapping of feature -> [lo, hi]",
        examples=[{"income": [0, 20000]}],
    )
    max_changes: Annotated[Int, Field(ge=1, le=10)] = key(
        3, "The most features a counterfactual changes."
    )
    budget_ms: Annotated[Number, Field(gt=0, le=60_000)] = key(
        200.0, "How long a search (every family but scorecards) may run, in milliseconds."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name, bounds in self.ranges.items():
            if len(bounds) != 2 or bounds[0] > bounds[1]:
                got = ", ".join(f"{b:g}" for b in bounds)
                raise wrong(f"ranges.{name}", f"must be [lo, hi] with lo <= hi; got [{got}].")
        for section in ("directions", "ranges"):
            both = [f for f in getattr(self, section) if f in self.immutable]
            if both:
                raise wrong(
                    f"{section}.{both[0]}",
                    f"names a feature that immutable also lists; {both[0]!r} cannot change.",
                )
        return self

    def value(self) -> CounterfactualPolicy:
        """The :class:`CounterfactualPolicy` this section declares."""
        return CounterfactualPolicy(
            immutable=tuple(dict.fromkeys(self.immutable)),
            directions=dict(self.directions),
            ranges={k: (float(v[0]), float(v[1])) for k, v in self.ranges.items()},
            max_changes=self.max_changes,
            budget_ms=float(self.budget_ms),
        )


class SamplingSpec(FileModel):
    """A deployment's sampling section: explaining a model without exact contributions."""

    on_request: bool = key(
        False,
        "Compute sampled reason codes on the request path (true), or only on demand by "
        "GET /v1/explanations/ID (false: such predictions are logged unexplained).",
    )
    permutations: Annotated[Int, Field(ge=2, le=256)] = key(
        16, "The budget: random feature orders per explained row (2 to 256; the standard "
        "error shrinks as 1/sqrt(permutations), the cost grows with it)."
    )  # fmt: skip
    seed: Annotated[Int, Field(ge=0)] = key(
        0, "The seed of the feature orders: the same seed and budget give the same values."
    )

    def value(self) -> Sampling:
        """The :class:`Sampling` this section declares."""
        return Sampling(self.on_request, self.permutations, self.seed)


class DeploymentSpec(FileModel):
    """One deployment of deployments.yaml."""

    model: _ModelRef = key(
        description="The model it scores: MODEL@ALIAS (follows the alias as it moves) or "
        "MODEL/VERSION.",
        expected=_REF_TEXT,
        examples=["credit-default@champion"],
    )
    threshold: Annotated[Number, Field(ge=0, le=1)] = key(
        0.5, "score >= threshold makes the positive decision, a lower score the negative one."
    )
    decision: DecisionSpec | None = key(
        None, "The decisions it makes (default: 0.1's credit vocabulary, decline / approve, "
        "favorable approve)."
    )  # fmt: skip
    label: LabelSpec | None = key(
        None, "What a label of 1 means, and when labels are mature (default: label, 0s)."
    )
    explain: Annotated[ExplainPolicy, BeforeValidator(_explain)] = key(
        "positive",
        "Which decisions get reason codes on the request path: positive, negative, always or "
        "never (0.1's declines is positive).",
    )
    reason_codes: Name | None = key(
        None, "Its reason-code file (default: the project's reason_codes.yaml, if any).",
        examples=["reason_codes.yaml"],
    )  # fmt: skip
    top_k: Annotated[Int, Field(ge=1)] = key(4, "Reason codes per explained decision.")
    feature_budget_ms: Number = key(
        50.0, "An online feature read slower than this (milliseconds) scores the fallback."
    )
    fallback: FallbackSpec | None = key(
        None, "What to score when online features cannot be read in time (omit: answer 503)."
    )
    coverage: CoverageSpec | None = key(
        None, "The least data it scores on (default: half the model's features; an unknown "
        "entity or a row below it is referred)."
    )  # fmt: skip
    counterfactual: CounterfactualSpec | None = key(
        None, "What counterfactuals of its unfavorable decisions may change (default: any "
        "feature, either way, within the reference profile's range, at most 3 at a time)."
    )  # fmt: skip
    sampling: SamplingSpec | None = key(
        None, "How to explain a model without exact contributions (sampled Shapley values): "
        "on_request, permutations, seed (default: on demand only, 16 orders, seed 0)."
    )  # fmt: skip

    @model_validator(mode="after")
    def _coverage_fallback(self) -> Self:
        c = self.coverage
        if c is None or self.fallback is not None:
            return self
        for name, value, others in (
            ("below", c.below, "refer or reject"),
            ("unknown_entity", c.unknown_entity, "refer, reject or score"),
        ):
            if value == "fallback":
                raise wrong(
                    f"coverage.{name}",
                    f"says fallback, but the deployment declares no fallback; add a fallback "
                    f"section or choose {others}.",
                )
        return self

    def value(self, name: str) -> Deployment:
        """The :class:`Deployment` called ``name`` this section declares."""
        decision = self.decision
        label = self.label
        return Deployment(
            name=name,
            model=self.model,
            threshold=self.threshold,
            decision=Decisions()
            if decision is None
            else Decisions(decision.positive, decision.negative, decision.favorable),
            label=Label() if label is None else Label(label.name, label.maturity),
            explain=self.explain,
            reason_codes=self.reason_codes,
            top_k=self.top_k,
            feature_budget_ms=self.feature_budget_ms,
            fallback=None if self.fallback is None else self.fallback.value(),
            coverage=Coverage() if self.coverage is None else self.coverage.value(),
            counterfactual=None if self.counterfactual is None else self.counterfactual.value(),
            sampling=Sampling() if self.sampling is None else self.sampling.value(),
        )


class DeploymentsFile(FileModel):
    """deployments.yaml: every deployment of the project by name."""

    deployments: dict[str, DeploymentSpec] = key(
        description="Deployment name -> its settings; `cairn serve` answers "
        "POST /v1/predict/NAME with it."
    )


def parse_deployments(data: Any, *, source: str | None = None) -> dict[str, Deployment]:
    """The deployments of a parsed ``deployments.yaml`` mapping; a :class:`ConfigError` names
    ``source`` and the key path.

    Example
    -------
    >>> parse_deployments({"deployments": {"credit": {"model": "credit-default@champion",
    ...     "threshold": 2.0}}}, source="deployments.yaml")
    Traceback (most recent call last):
    ...
    cairn.core.errors.ConfigError: deployments.yaml: deployments.credit.threshold must be between 0 and 1; got 2.0.
    """  # noqa: E501
    spec = parse(DeploymentsFile, data, source=source)
    return {name: one.value(name) for name, one in spec.deployments.items()}


def deployments_schema() -> dict[str, Any]:
    """The JSON Schema of ``deployments.yaml``."""
    return json_schema(
        DeploymentsFile,
        title=DEPLOYMENTS_FILE,
        description="Deployments: a name bound to a model, a threshold and the decisions it "
        "makes, what its label means and when labels are mature, which decisions are "
        "explained, and a fallback. `cairn serve` answers POST /v1/predict/NAME.",
    )


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
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return {}
    key = str(path.resolve())
    seen = _PARSED.get(key)
    if seen is not None and seen[0] == raw:  # unchanged since the last read: no parse
        return dict(seen[1])
    parsed = parse_deployments(read_yaml_file(path), source=str(path))
    _PARSED[key] = (raw, parsed)  # only a valid file's
    return dict(parsed)


_PARSED: dict[str, tuple[bytes, dict[str, Deployment]]] = {}
"""The last valid content of each ``deployments.yaml`` read and its deployments (frozen): the
dashboard and servers read the file on every page and poll, and parsing it (validation
included) costs milliseconds per deployment set, comparing its bytes microseconds."""


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
