"""Value types handed from serving to monitoring and experiments: a model reference, a reason
code, one prediction record and one outcome (label).

They are the hand-off of DESIGN §1: serving writes :class:`PredictionRecord` values to the
prediction log; monitoring and experiment analysis read them back with outcomes joined by
prediction id or by entity + time. Nothing here imports any other part of Cairn.

Example
-------
>>> ModelRef.parse("credit-default@champion")
ModelRef(name='credit-default', alias='champion', version=None)
>>> ReasonCode("utilization", "high", 0.42, 0.93, "U01", "Credit utilization too high").text
'Credit utilization too high'
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from cairn.core.errors import ConfigError

if TYPE_CHECKING:
    import duckdb

Direction = Literal["high", "low", "missing", "category"]
"""How a feature's value pushed the score toward decline: above or below its reference, absent,
or a category level."""

_REF = re.compile(r"^(?P<name>[A-Za-z0-9][\w.\-]*)(?:@(?P<alias>[\w\-]+)|/(?P<version>\d+))$")


@dataclass(frozen=True)
class ModelRef:
    """A ``NAME@ALIAS`` or ``NAME/VERSION`` reference to a registered model.

    Example
    -------
    >>> str(ModelRef.parse("credit-default/3"))
    'credit-default/3'
    """

    name: str
    alias: str | None = None
    version: str | None = None

    @classmethod
    def parse(cls, text: str) -> ModelRef:
        """Parse a reference; anything else is a :class:`ConfigError` showing both forms."""
        match = _REF.match(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise ConfigError(
                f"A model reference must be MODEL@ALIAS (e.g. credit-default@champion) or "
                f"MODEL/VERSION (e.g. credit-default/3); got {text!r}."
            )
        return cls(match["name"], match["alias"], match["version"])

    def __str__(self) -> str:
        return f"{self.name}@{self.alias}" if self.alias else f"{self.name}/{self.version}"


@dataclass(frozen=True)
class ReasonCode:
    """One factor that pushed a score toward decline, with its adverse-action text.

    ``contribution`` is the feature's TreeSHAP value in raw-score (log-odds) units.
    """

    feature: str
    direction: Direction
    contribution: float
    value: Any
    code: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class PredictionRecord:
    """One prediction as the log keeps it (DESIGN §3.4).

    ``time`` is microseconds since the epoch (UTC); ``features`` is the exact vector scored
    (model column -> value); ``reason_codes`` is empty when the deployment did not explain it.
    ``strategy`` and ``arm`` say how the rollout routed the unit (``seed``: the canary or A/B
    assignment seed; ``exposed``: False for A/B units outside coverage). ``shadow`` marks a
    challenger's score logged under the primary's ``prediction_id`` (arm
    ``shadow:<model>``); ``error`` says the arm's model failed and the control model answered.
    """

    prediction_id: str
    time: int
    deployment: str
    model_name: str
    model_version: str
    entity: dict[str, Any]
    features: dict[str, Any]
    score: float
    decision: str
    latency_ms: float
    strategy: str = "single"
    arm: str = "main"
    unit_id: str | None = None
    reason_codes: list[ReasonCode] = field(default_factory=list)
    explained: bool = False
    fallback: str | None = None
    entity_unknown: bool = False
    seed: str | None = None
    exposed: bool = True
    shadow: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (reason codes as dicts)."""
        data = asdict(self)
        data["reason_codes"] = [r.to_dict() for r in self.reason_codes]
        return data


@dataclass(frozen=True)
class Outcome:
    """A label that arrived later: by ``prediction_id``, or by ``entity`` + ``event_time``.

    Times are microseconds since the epoch (UTC); ``observed_at`` is when the label became
    known (analyses use it to mature cohorts).
    """

    label: float
    observed_at: int
    prediction_id: str | None = None
    entity: dict[str, Any] | None = None
    event_time: int | None = None
    deployment: str | None = None

    def __post_init__(self) -> None:
        if self.prediction_id is None and (self.entity is None or self.event_time is None):
            raise ValueError(
                "An outcome needs a prediction_id, or an entity with an event_time; got neither."
            )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


class LogReader(Protocol):
    """Where the prediction log is read from: a DuckDB connection with a ``predictions`` and an
    ``outcomes`` view (``cairn.serving.log_reader.PredictionLog`` is the project's)."""

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A new connection; the caller closes it."""
        ...
