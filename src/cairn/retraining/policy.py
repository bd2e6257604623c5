"""Retraining policies: the project's ``retraining.yaml``.

A policy says, for one deployment, *when* to retrain (a cron schedule, monitoring triggers, a
person asking), *how often at most* (a cooldown after each run, a budget of runs per period),
*on what* (the training config, the data window) and *what a candidate must show* before anyone
is asked to promote it (gates, then shadow, canary stages and a four-eyes approval). Retraining
proposes; it never promotes on its own: ``approval`` has one value, ``four_eyes``.

Every key is declared once, on the models below: the model that parses the file is also its
JSON Schema (``cairn config schema retraining``), and a bad key is one line naming the key
path, what is allowed and what was given (``policies.credit.cooldown must be a duration such
as 30s, 5m, 24h or 90d (or a number of seconds); got 'soon'.``). Durations are read as
microseconds, like every duration of Cairn.

.. code-block:: yaml

    policies:
      credit-monthly:
        deployment: credit
        training: train.yaml            # the config `cairn train --config` reads
        schedule: {cron: "0 6 1 * *", timezone: Europe/Paris}
        triggers:
          drift: {kinds: [drift], band: drift, min_features: 2, persistence: 3}
          performance: {metric: auc, max_drop: 0.03, min_labeled: 500}
          volume: {new_labeled: 50000}
        cooldown: 7d
        budget: {max_runs: 4, period: 30d}
        data_window: {lookback: 365d, label_maturity: 90d}
        gates:
          quality: [applications]
          metric_floors: {auc: 0.70}
          max_loss: {auc: 0.005}
          max_ece: 0.05
          min_adverse_impact_ratio: 0.8
          fairness_attribute: marital
        promotion:
          shadow: {min_predictions: 5000, min_days: 7}
          canary: [0.05, 0.25, 0.5]
          approval: four_eyes
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from cairn.core.errors import ConfigError, DataError
from cairn.core.file_model import (
    Bool,
    Duration,
    FileModel,
    Int,
    Name,
    Number,
    invalid,
    json_schema,
    key,
    parse,
    read_yaml_file,
    wrong,
)
from cairn.retraining.schedule import CRON_TEXT, Schedule, check_cron, check_timezone

__all__ = [
    "GATE_METRICS",
    "LOWER_IS_BETTER",
    "RETRAINING_FILE",
    "BudgetSpec",
    "DataWindowSpec",
    "DriftTrigger",
    "GatesSpec",
    "PerformanceTrigger",
    "Policy",
    "PromotionSpec",
    "RetrainingFile",
    "ScheduleSpec",
    "ShadowSpec",
    "TriggersSpec",
    "VolumeTrigger",
    "choose",
    "load_policies",
    "parse_policies",
    "retraining_schema",
]

RETRAINING_FILE = "retraining.yaml"
GATE_METRICS = ("auc", "gini", "ks", "precision", "recall", "brier")
"""The metrics a gate may name (those training reports)."""
LOWER_IS_BETTER = frozenset({"brier"})
"""Gate metrics where less is better."""
_NAME = r"^[A-Za-z][\w\-]{0,127}$"
_NAME_TEXT = "a name of letters, digits, '_' or '-' (starting with a letter)"
_METRIC = r"^[a-z][a-z0-9_]{0,63}$"
_METRIC_TEXT = "a metric name in lower case (auc, ks, precision, recall...)"
PolicyName = Annotated[Name, Field(pattern=_NAME, json_schema_extra={"expected": _NAME_TEXT})]
Metric = Annotated[Name, Field(pattern=_METRIC, json_schema_extra={"expected": _METRIC_TEXT})]
Share = Annotated[Number, Field(ge=0, le=1)]


def _cron(value: str) -> str:
    try:
        return check_cron(value)
    except ConfigError:
        raise invalid("", CRON_TEXT, value) from None


def _zone(value: str) -> str:
    try:
        return check_timezone(value)
    except ConfigError as exc:
        raise wrong("", str(exc).removeprefix("timezone ")) from None


class ScheduleSpec(FileModel):
    """schedule: retrain at the slots of a cron expression, read in a time zone."""

    cron: Annotated[Name, AfterValidator(_cron)] = key(
        description="Five cron fields (minute hour day-of-month month day-of-week) or an alias "
        "(@daily, @weekly...). Day of week: 0 and 7 are Sunday, 1 is Monday; names such as "
        "MON-FRI are accepted.",
        expected=CRON_TEXT,
        examples=["0 6 * * MON"],
    )
    timezone: Annotated[Name, AfterValidator(_zone)] = key(
        "UTC", "The IANA time zone the fields are read in (slots follow its daylight-saving "
        "time: each wall-clock slot fires once).",
        examples=["Europe/Paris"],
    )  # fmt: skip

    def value(self) -> Schedule:
        """The :class:`~cairn.retraining.schedule.Schedule` this section declares."""
        return Schedule(self.cron, self.timezone)


class DriftTrigger(FileModel):
    """triggers.drift: retrain when inputs stay drifted over several monitoring runs."""

    kinds: Annotated[list[Literal["drift", "score_drift"]], Field(min_length=1)] = key(
        default_factory=lambda: ["drift"],
        description="Which signals count: drift (a model input) and/or score_drift (the score).",
    )
    band: Literal["monitor", "drift"] = key(
        "drift", "The least severe band that counts: drift, or monitor (monitor or drift)."
    )
    min_features: Annotated[Int, Field(ge=1)] = key(
        1, "How many features (the score counts as one) must be in the band in every one of "
        "the last `persistence` monitoring runs."
    )  # fmt: skip
    persistence: Annotated[Int, Field(ge=1)] = key(
        2, "How many consecutive monitoring runs of the deployment they must stay in the band."
    )
    segments: Bool = key(
        False, "Count signals of single segments too (default: the whole traffic only)."
    )


class PerformanceTrigger(FileModel):
    """triggers.performance: retrain when a realized metric fell too far below its baseline."""

    metric: Metric = key(
        "auc", "The metric monitoring judges (auc, ks, precision, recall...).", examples=["auc"]
    )
    max_drop: Annotated[Number, Field(gt=0)] = key(
        0.05, "Retrain when baseline minus realized exceeds this (absolute, e.g. 0.03 AUC)."
    )
    min_labeled: Annotated[Int, Field(ge=1)] = key(
        200, "The least labeled predictions the judged window must hold to be believed."
    )


class VolumeTrigger(FileModel):
    """triggers.volume: retrain once enough new labeled rows arrived since the last run."""

    new_labeled: Annotated[Int, Field(ge=1)] = key(
        description="Labeled predictions in the monitoring windows since the last run.",
        examples=[50000],
    )


class TriggersSpec(FileModel):
    """triggers: the monitoring evidence that starts a retraining (any one suffices)."""

    drift: DriftTrigger | None = key(None, "Persistent input or score drift.")
    performance: PerformanceTrigger | None = key(None, "A realized metric dropped.")
    volume: VolumeTrigger | None = key(None, "Enough new labeled rows.")


class BudgetSpec(FileModel):
    """budget: at most this many runs in any period of this length (manual runs included)."""

    max_runs: Annotated[Int, Field(ge=1)] = key(4, "Runs allowed in any one period.")
    period: Duration = key(30 * 86_400_000_000, "The rolling period (e.g. 30d; default 30d).")

    @model_validator(mode="after")
    def _positive(self) -> Self:
        if self.period <= 0:
            raise wrong("period", "must be a positive duration; got 0.")
        return self


class DataWindowSpec(FileModel):
    """data_window: which labeled rows train a candidate."""

    lookback: Duration = key(
        365 * 86_400_000_000, "How far back training rows reach from the run (default 365d)."
    )
    label_maturity: Duration = key(
        0, "Rows younger than this are left out: their labels are not final (e.g. 90d)."
    )

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.lookback <= self.label_maturity:
            raise wrong("", ": lookback must be longer than label_maturity (no row would train).")
        return self


class GatesSpec(FileModel):
    """gates: what a candidate must pass, on the same out-of-time test window as the champion,
    before it may become a challenger."""

    quality: list[Name] = key(
        default_factory=list,
        description="Quality suites (quality/NAME.yaml) the training rows must pass.",
    )
    metric_floors: dict[Metric, Number] = key(
        default_factory=dict,
        description="Metric -> the least value the candidate must reach (e.g. auc: 0.7).",
    )
    max_loss: dict[Metric, Annotated[Number, Field(ge=0)]] = key(
        default_factory=lambda: {"auc": 0.0},
        description="Metric -> how much worse than the champion the candidate may be "
        "(default auc: 0, never worse).",
    )
    max_ece: Annotated[Number, Field(gt=0, le=1)] | None = key(
        None, "The largest expected calibration error allowed (none: not checked)."
    )
    min_adverse_impact_ratio: Annotated[Number, Field(gt=0, le=1)] | None = key(
        None, "The least adverse-impact ratio of the favorable decision across the groups of "
        "fairness_attribute (e.g. 0.8, the four-fifths rule; none: not checked).",
    )  # fmt: skip
    fairness_attribute: Name | None = key(
        None, "A categorical column of the training entity rows or a feature (home, marital, "
        "an age band...) whose groups the adverse-impact ratio compares; needed with "
        "min_adverse_impact_ratio.",
        examples=["marital"],
    )  # fmt: skip
    test_share: Annotated[Number, Field(gt=0, lt=1)] = key(
        0.15, "The latest share of the data window's rows, held out of training: the common "
        "out-of-time test window both the candidate and the champion are judged on.",
    )  # fmt: skip

    @model_validator(mode="after")
    def _known(self) -> Self:
        for part, names in (("metric_floors", self.metric_floors), ("max_loss", self.max_loss)):
            for name in names:
                if name not in GATE_METRICS:
                    raise wrong(
                        f"{part}.{name}",
                        f"is not a gate metric; expected one of {', '.join(GATE_METRICS)}.",
                    )
        if self.min_adverse_impact_ratio is not None and self.fairness_attribute is None:
            raise wrong(
                "min_adverse_impact_ratio",
                "needs fairness_attribute: the column whose groups are compared.",
            )
        return self


class ShadowSpec(FileModel):
    """promotion.shadow: how long a challenger is scored beside the champion first."""

    min_predictions: Annotated[Int, Field(ge=0)] = key(
        1000, "Shadow predictions the challenger must have made."
    )
    min_days: Annotated[Number, Field(ge=0)] = key(7.0, "Days it must have been in shadow.")


def _stages(value: list[float]) -> list[float]:
    if any(b <= a for a, b in itertools.pairwise(value)) or not all(0 < w < 1 for w in value):
        raise invalid("", "increasing weights between 0 and 1 (exclusive)", value)
    return value


class PromotionSpec(FileModel):
    """promotion: the path of a challenger that passed its gates."""

    shadow: ShadowSpec = key(default_factory=ShadowSpec, description="The shadow phase.")
    canary: Annotated[list[Number], AfterValidator(_stages)] = key(
        default_factory=lambda: [0.05, 0.25, 0.5],
        description="Canary stages as traffic weights, increasing, each in (0, 1).",
        expected="increasing weights between 0 and 1 (exclusive)",
    )
    approval: Literal["four_eyes"] = key(
        "four_eyes", "Who approves the promotion: always four eyes (the proposer and another "
        "approver); retraining never promotes on its own.",
        expected="four_eyes (the only value: a promotion always needs a second person)",
    )  # fmt: skip


class Policy(FileModel):
    """One retraining policy (its name is its key under ``policies``)."""

    deployment: PolicyName = key(
        description="The deployment (deployments.yaml) whose model it retrains.",
        expected=_NAME_TEXT,
        examples=["credit"],
    )
    training: Annotated[Name, Field(pattern=r"\S")] = key(
        "train.yaml",
        "The training config `cairn train --config` reads, relative to the project folder.",
    )
    schedule: ScheduleSpec | None = key(None, "Retrain on a cron schedule (optional).")
    triggers: TriggersSpec = key(
        default_factory=TriggersSpec, description="Retrain on monitoring evidence (optional)."
    )
    cooldown: Duration = key(
        7 * 86_400_000_000, "The least time between two runs (manual runs excepted; default 7d)."
    )
    budget: BudgetSpec = key(default_factory=BudgetSpec, description="At most N runs per period.")
    data_window: DataWindowSpec = key(
        default_factory=DataWindowSpec, description="Which rows train a candidate."
    )
    gates: GatesSpec = key(default_factory=GatesSpec, description="What a candidate must pass.")
    promotion: PromotionSpec = key(
        default_factory=PromotionSpec, description="Shadow, canary stages, four-eyes approval."
    )

    @property
    def when(self) -> Schedule | None:
        """The schedule as a :class:`~cairn.retraining.schedule.Schedule` (None: none)."""
        return None if self.schedule is None else self.schedule.value()


class RetrainingFile(FileModel):
    """retraining.yaml: every retraining policy of the project by name."""

    policies: dict[PolicyName, Policy] = key(
        description="Policy name -> its settings; `cairn retrain run --policy NAME` runs it."
    )


def parse_policies(data: Any, *, source: str | None = None) -> dict[str, Policy]:
    """The policies of a parsed ``retraining.yaml`` mapping; a :class:`ConfigError` names
    ``source`` and the key path.

    Example
    -------
    >>> p = parse_policies({"policies": {"credit": {"deployment": "credit", "cooldown": "3d"}}})
    >>> p["credit"].cooldown // 86_400_000_000, p["credit"].promotion.approval
    (3, 'four_eyes')
    >>> parse_policies({"policies": {"credit": {"deployment": "credit", "cooldown": "soon"}}},
    ...                source="retraining.yaml")
    Traceback (most recent call last):
    ...
    cairn.core.errors.ConfigError: retraining.yaml: policies.credit.cooldown must be a duration such as 30s, 5m, 24h or 90d (or a number of seconds); got 'soon'.
    """  # noqa: E501
    return dict(parse(RetrainingFile, data, source=source).policies)


def retraining_schema() -> dict[str, Any]:
    """The JSON Schema of ``retraining.yaml``."""
    return json_schema(
        RetrainingFile,
        title=RETRAINING_FILE,
        description="Retraining policies: per deployment, the training config, a cron schedule "
        "and monitoring triggers (drift, performance, volume), a cooldown and a budget, the "
        "data window, the gates a candidate must pass and its promotion path (shadow, canary "
        "stages, four-eyes approval).",
    )


def choose(policies: dict[str, Policy], policy: str | None) -> dict[str, Policy]:
    """``policies``, or only ``policy`` (a :class:`DataError` names the known ones).

    Example
    -------
    >>> choose({}, "x")
    Traceback (most recent call last):
    ...
    cairn.core.errors.DataError: --policy 'x' is not in retraining.yaml; policies: none.
    """
    if policy is None:
        return policies
    if policy not in policies:
        known = ", ".join(policies) or "none"
        raise DataError(f"--policy {policy!r} is not in {RETRAINING_FILE}; policies: {known}.")
    return {policy: policies[policy]}


def load_policies(path: str | Path) -> dict[str, Policy]:
    """The policies of a ``retraining.yaml`` file (none when it does not exist).

    Example
    -------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "retraining.yaml"
    >>> _ = p.write_text("policies:\\n  credit: {deployment: credit}\\n")
    >>> list(load_policies(p))
    ['credit']
    """
    path = Path(path)
    if not path.is_file():
        return {}
    return parse_policies(read_yaml_file(path), source=str(path))
