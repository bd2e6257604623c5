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
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from cairn.core.errors import ConfigError

if TYPE_CHECKING:
    import duckdb

Direction = Literal["high", "low", "missing", "category"]
"""How a feature's value pushed the score up, toward the deployment's positive decision (decline
for credit): above or below its reference, absent, or a category level."""

LEGACY_POSITIVE = "decline"
"""The positive decision of every row logged before the log had a ``positive`` column: Cairn
0.1 made credit decisions only (``decline`` when ``score >= threshold``, else ``approve``)."""

REFER = "refer"
"""The decision of a row the deployment would not score on too little data (an unknown entity,
or fewer of the model's features present than its ``coverage.min_share``): a person must
decide. A referral is neither positive nor negative: its ``positive`` is null, and
:func:`positive_sql` reads it as null too, so rates over decided rows leave it out."""

_REF = re.compile(r"^(?P<name>[A-Za-z0-9][\w.\-]*)(?:@(?P<alias>[\w\-]+)|/(?P<version>\d+))$")
MODEL_REF_PATTERN = re.sub(r"\(\?P<\w+>", "(", _REF.pattern)
"""``NAME@ALIAS`` or ``NAME/VERSION`` as a plain pattern (no named groups: JSON Schema's
dialect), for the ``model`` keys of project files."""


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
    """One factor that pushed a score up, toward the positive decision (decline for credit),
    with its reason text (for credit: an adverse-action reason).

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
    ``positive`` says the decision is the deployment's positive one (``score >= threshold``), so
    readers need not know each deployment's decision names (None: not known, as in logs written
    before it existed; read those with :func:`positive_sql`) and None for a referral
    (``decision`` :data:`REFER`).

    ``latency_ms`` is this row's own share of the request's feature read and model time (a
    batch of n rows divides the batch's times by n): ``feature_ms + model_ms``.
    ``request_ms`` is the whole request's wall time and ``rows_in_request`` its row count (all
    None in logs written before they existed). ``features_missing`` counts the model's
    features that had no value for the row, ``features_missing_names`` names them.
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
    positive: bool | None = None
    request_ms: float | None = None
    rows_in_request: int | None = None
    model_ms: float | None = None
    feature_ms: float | None = None
    features_missing: int | None = None
    features_missing_names: list[str] | None = None

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


def positive_sql(columns: Collection[str] | None = None, alias: str = "") -> str:
    """SQL that is true for a prediction-log row with the positive decision, old rows included.

    Rows logged before the ``positive`` column existed have it null (or the relation lacks it:
    pass its ``columns``); their decision is 0.1's credit vocabulary, whose positive decision is
    :data:`LEGACY_POSITIVE`. A referral (decision :data:`REFER`) is null: neither positive nor
    negative, so ``avg`` and ``WHERE`` over it count decided rows only. ``alias`` qualifies the
    columns (``p`` for ``p.positive``).

    Example
    -------
    >>> positive_sql()
    "coalesce(positive, nullif(decision, 'refer') = 'decline')"
    >>> positive_sql(["prediction_id", "decision"], alias="p")
    "(nullif(p.decision, 'refer') = 'decline')"
    """
    prefix = f"{alias}." if alias else ""
    legacy = f"nullif({prefix}decision, '{REFER}') = '{LEGACY_POSITIVE}'"
    if columns is not None and "decision" not in columns:
        legacy = "CAST(NULL AS BOOLEAN)"
    if columns is not None and "positive" not in columns:
        return f"({legacy})"
    return f"coalesce({prefix}positive, {legacy})"


class LogReader(Protocol):
    """Where the prediction log is read from: a DuckDB connection with a ``predictions`` and an
    ``outcomes`` view (``cairn.serving.log_reader.PredictionLog`` is the project's)."""

    def connect(self) -> duckdb.DuckDBPyConnection:
        """A new connection; the caller closes it."""
        ...
