"""The training configuration (``train.yaml``): what to train on, how, and under which name.

Example
-------
>>> cfg = TrainConfig.from_mapping({
...     "model_name": "credit-default",
...     "entities": "SELECT customer_id, event_timestamp, defaulted FROM applications",
...     "label": "defaulted",
...     "features": ["customer_profile:income", "txn_stats:amount_sum_24h"],
...     "model": {"type": "lightgbm", "num_boost_round": 50, "params": {"num_leaves": 7}},
... })
>>> cfg.model.kind, cfg.validation_fraction, cfg.threshold
('lightgbm', 0.2, 0.5)
>>> TrainConfig.from_mapping({**cfg.to_dict(), "source": "x"}) == cfg
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from cairn.core.errors import ConfigError
from cairn.core.file_model import (
    Bool,
    Duration,
    FileModel,
    Int,
    Name,
    Number,
    Text,
    invalid,
    json_schema,
    key,
    parse,
    wrong,
)

CONFIG_FILE = "train.yaml"
"""The training config ``cairn init`` writes (``cairn train --config train.yaml``)."""
MODEL_KINDS = ("lightgbm", "sklearn", "scorecard", "xgboost")
REFERENCE_ROWS = ("validation", "train", "test", "all")
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


@dataclass(frozen=True)
class ModelSpec:
    """Which estimator to fit.

    ``kind`` ``lightgbm`` (default) trains a native booster with ``params`` for
    ``num_boost_round`` rounds. ``sklearn`` builds ``estimator`` (a dotted path to a class or a
    factory returning an object with ``fit`` and ``predict_proba``) with ``params`` as
    keyword arguments. ``xgboost`` trains a native XGBoost booster with ``params`` (XGBoost's
    own) for ``num_boost_round`` rounds (:mod:`cairn.training.fit_xgboost`).

    ``threads`` caps the threads used while fitting and scoring (LightGBM's ``num_threads``,
    XGBoost's ``nthread``; OpenMP/BLAS pools for scikit-learn). On a busy machine OpenMP's
    spinning threads can make a fit 50x slower than one thread; one thread also makes results
    exactly reproducible.
    """

    kind: str = "lightgbm"
    params: dict[str, Any] = field(default_factory=dict)
    num_boost_round: int = 200
    early_stopping_rounds: int | None = None
    estimator: str | None = None
    threads: int | None = None


@dataclass(frozen=True)
class ReferenceSpec:
    """The reference profile for monitoring: quantile ``bins`` per feature, a ``sample`` of at
    most this many values, computed over the ``rows`` (validation, train or all)."""

    bins: int = 10
    sample: int = 1000
    rows: str = "validation"


@dataclass(frozen=True)
class SplitSpec:
    """The time-ordered parts: the latest ``test`` share of rows is the test part (reported
    metrics), the ``validation`` share before it validates (early stopping), the rest trains.
    ``validation_from`` / ``test_from`` (ISO times) cut at explicit times instead."""

    validation: float = 0.15
    test: float = 0.15
    validation_from: str | None = None
    test_from: str | None = None


@dataclass(frozen=True)
class SplitWarnings:
    """When the parts differ enough to warn: the label rate of one part is ``label_rate_ratio``
    times another's (or more) and a two-proportion z-test gives p below ``label_rate_p``; or a
    feature's PSI (train as reference) reaches ``feature_psi``."""

    label_rate_ratio: float = 1.5
    label_rate_p: float = 0.001
    feature_psi: float = 0.25


@dataclass(frozen=True)
class TrainConfig:
    """A training job. See the module docstring for an example and ``train.yaml`` keys."""

    model_name: str
    entities: str
    label: str
    features: list[str]
    model: ModelSpec = field(default_factory=ModelSpec)
    validation_fraction: float = 0.2
    threshold: float = 0.5
    seed: int = 7
    register: bool = True
    description: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    reference: ReferenceSpec = field(default_factory=ReferenceSpec)
    importance_sample: int = 2000
    split: SplitSpec | None = None
    """The parts; None: the old two-way split (``validation_fraction``, no test part)."""
    label_available_at: str | None = None
    """An entity column: when each row's label became known (missing: not known yet)."""
    label_maturity: int | None = None
    """Microseconds after ``event_timestamp`` at which a label is known."""
    split_warnings: SplitWarnings = field(default_factory=SplitWarnings)
    source: str = field(default="train config", compare=False)
    """Where the configuration came from (a file path), for error messages."""

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        """Read a ``train.yaml``; a missing or malformed file is a ConfigError."""
        p = Path(path)
        if not p.is_file():
            raise ConfigError(
                f"No training config at {p.resolve()}: expected a YAML file such as "
                f"{CONFIG_FILE} (`cairn init DIR` writes a commented one; "
                f"`cairn config schema train` lists its keys)."
            )
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            detail = " ".join(str(exc).split())
            raise ConfigError(f"{p} is not valid YAML: {detail}") from None
        return cls.from_mapping(data, source=str(p))

    @classmethod
    def from_mapping(cls, data: Any, *, source: str | None = None) -> TrainConfig:
        """Validate a parsed mapping; every error names the key, the expectation and the value."""
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{source or 'train config'} must be a mapping with model_name, entities, label "
                f"and features; got {type(data).__name__}."
            )
        data = dict(data)
        where = str(source or data.pop("source", None) or "train config")
        data.pop("source", None)
        return parse(TrainFile, data, source=where).value(where)

    @property
    def parts(self) -> SplitSpec:
        """The split in effect: ``split``, or ``validation_fraction`` with no test part."""
        return self.split or SplitSpec(validation=self.validation_fraction, test=0.0)

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain data (``from_mapping`` reads it back)."""
        held: dict[str, Any] = (
            {"validation_fraction": self.validation_fraction}
            if self.split is None
            else {"split": {k: v for k, v in vars(self.split).items() if v is not None}}
        )
        timing: dict[str, Any] = {}
        if self.label_available_at is not None:
            timing["label_available_at"] = self.label_available_at
        if self.label_maturity is not None:
            timing["label_maturity"] = _duration_text(self.label_maturity)
        return {
            "model_name": self.model_name,
            "description": self.description,
            "entities": self.entities,
            "label": self.label,
            "features": list(self.features),
            **held,
            **timing,
            "split_warnings": dict(vars(self.split_warnings)),
            "threshold": self.threshold,
            "seed": self.seed,
            "register": self.register,
            "tags": dict(self.tags),
            "model": {
                "type": self.model.kind,
                "params": dict(self.model.params),
                "num_boost_round": self.model.num_boost_round,
                "early_stopping_rounds": self.model.early_stopping_rounds,
                "estimator": self.model.estimator,
                "threads": self.model.threads,
            },
            "reference": {
                "bins": self.reference.bins,
                "sample": self.reference.sample,
                "rows": self.reference.rows,
            },
            "importance_sample": self.importance_sample,
        }

    def to_yaml(self) -> str:
        """The configuration as YAML text."""
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


def _duration_text(micros: int) -> str:
    seconds, rest = divmod(micros, 1_000_000)
    return f"{seconds}s" if rest == 0 else f"{micros / 1_000_000}s"


# The file's model: what train.yaml accepts, and its JSON Schema (cairn config schema train).


def _iso(value: Any) -> Any:
    """YAML reads an unquoted ``2026-01-01`` as a date: keep it as ISO text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _instant(value: str) -> str:
    import pandas as pd

    try:
        pd.Timestamp(value)
    except (ValueError, TypeError):
        raise invalid("", "an ISO date or time such as 2026-01-01", value) from None
    return value


_Instant = Annotated[Text, BeforeValidator(_iso), AfterValidator(_instant)]


def _strip(value: str) -> str:
    return value.strip()


_Text = Annotated[Text, AfterValidator(_strip)]


class ModelSection(FileModel):
    """model: which estimator to fit, and how."""

    type: Literal["lightgbm", "sklearn", "scorecard", "xgboost"] = key(
        "lightgbm",
        "lightgbm trains a native booster; sklearn builds `estimator` with `params` as keyword "
        "arguments; xgboost trains a native XGBoost booster (params are XGBoost's own).",
    )
    params: dict[str, Any] | None = key(
        None,
        "The estimator's own parameters (LightGBM's, XGBoost's, or the sklearn class's arguments).",
    )
    num_boost_round: Annotated[Int, Field(ge=1)] = key(200, "Boosting rounds (LightGBM, XGBoost).")
    early_stopping_rounds: Annotated[Int, Field(ge=1)] | None = key(
        None,
        "Stop when the validation AUC has not improved for this many rounds (LightGBM, XGBoost).",
    )
    estimator: Name | None = key(
        None,
        "type sklearn: the dotted path of a class or factory with fit and predict_proba "
        "(e.g. sklearn.ensemble.HistGradientBoostingClassifier).",
        examples=["sklearn.ensemble.HistGradientBoostingClassifier"],
    )
    threads: Annotated[Int, Field(ge=1)] | None = key(
        None,
        "Threads while fitting and scoring (default: all cores); 1 is exactly reproducible, "
        "and fast on a busy machine.",
    )

    @model_validator(mode="after")
    def _estimator(self) -> Self:
        if self.type == "sklearn" and not (self.estimator and "." in self.estimator):
            raise wrong(
                "estimator",
                "must name a scikit-learn-compatible class or factory by its dotted path (e.g. "
                "sklearn.ensemble.HistGradientBoostingClassifier) when type is sklearn; got "
                f"{self.estimator!r}.",
            )
        if self.type != "sklearn" and self.estimator is not None:
            raise wrong(
                "estimator",
                f"is only for type sklearn; type {self.type} trains a native booster (got "
                f"estimator {self.estimator!r}).",
            )
        return self


class ReferenceSection(FileModel):
    """reference: the profile monitoring compares live traffic with."""

    bins: Annotated[Int, Field(ge=2)] = key(10, "Quantile bins per feature.")
    sample: Annotated[Int, Field(ge=0)] = key(1000, "At most this many values kept per feature.")
    rows: Literal["validation", "train", "test", "all"] = key(
        "validation", "The rows it is computed over: validation, train, test or all."
    )


class SplitSection(FileModel):
    """split: the time-ordered train / validation / test parts."""

    validation: Annotated[Number, Field(gt=0, lt=1)] = key(
        0.15,
        "The share of rows before the test part that validates (early stopping; the "
        "reference profile's rows by default).",
    )
    test: Annotated[Number, Field(ge=0, lt=1)] = key(
        0.15, "The share of the latest rows (by event time) whose metrics are reported (0: none)."
    )
    validation_from: _Instant | None = key(
        None, "Cut at this time instead: rows from it validate (ISO date or time).",
        examples=["2025-07-01"],
    )  # fmt: skip
    test_from: _Instant | None = key(
        None, "Rows from this time are the test part (with validation_from).",
        examples=["2025-10-01"],
    )  # fmt: skip

    @model_validator(mode="after")
    def _parts(self) -> Self:
        if self.validation_from is None and self.test_from is not None:
            raise wrong("test_from", "needs validation_from (cut-off times go together).")
        if self.validation + self.test >= 1:
            raise wrong(
                "test",
                f"must leave rows to train with split.validation (their sum < 1); got "
                f"{self.validation:g} + {self.test:g}.",
            )
        return self


class SplitWarningsSection(FileModel):
    """split_warnings: when the parts differ enough to warn."""

    label_rate_ratio: Annotated[Number, Field(gt=1)] = key(
        1.5,
        "Warn when one part's label rate is at least this many times another's (and the "
        "z-test agrees).",
    )
    label_rate_p: Annotated[Number, Field(gt=0, lt=1)] = key(
        0.001, "The two-proportion z-test's p-value below which a label-rate ratio warns."
    )
    feature_psi: Annotated[Number, Field(gt=0)] = key(
        0.25, "Warn when a feature's PSI between the training rows and a later part reaches this."
    )


class TrainFile(FileModel):
    """train.yaml: a training job (cairn train --config train.yaml)."""

    model_name: Annotated[Name, Field(pattern=_MODEL_NAME.pattern)] = key(
        description="The registered model's name.",
        expected="letters, digits, '_', '-' or '.' (at most 128 characters)",
        examples=["credit-default"],
    )
    description: str | None = key("", "What the model predicts, for people.")
    entities: _Text = key(
        description="The entity rows with their label: SQL over the applied sources (each a "
        "table named after it) or a Parquet/CSV path.",
        examples=["SELECT customer_id, event_timestamp, label FROM customers"],
    )
    label: _Text = key(
        description="The 0/1 label column of the entity rows.", examples=["defaulted"]
    )
    features: Annotated[list[_Text], Field(min_length=1)] = key(
        description="The features, as 'view:feature' references.",
        expected="a non-empty list of 'view:feature' references",
        examples=[["customer_profile:income"]],
    )
    validation_fraction: Annotated[Number, Field(gt=0, lt=1)] = key(
        0.2,
        "Old two-way split: the share of the latest entity rows (by event time) held out to "
        "validate and report on, with no test part; use split instead.",
    )
    split: SplitSection | None = key(
        None,
        "Time-ordered train / validation (early stopping) / test (reported metrics) parts, "
        "instead of validation_fraction.",
    )
    label_available_at: _Text | None = key(
        None,
        "An entity column holding when each row's label became known (missing: not yet); "
        "labels not known by the end of a part's fitting period are not used.",
        examples=["label_known_at"],
    )
    label_maturity: Duration | None = key(
        None,
        "Instead of label_available_at: a label is known this long after the row's "
        "event_timestamp (e.g. 90d).",
        examples=["90d"],
    )
    split_warnings: SplitWarningsSection | None = key(
        None, "When label rates or feature distributions differ enough between parts to warn."
    )
    threshold: Annotated[Number, Field(gt=0, lt=1)] = key(
        0.5,
        "The score at or above which a row is predicted positive (label 1), for precision and "
        "recall.",
    )
    seed: Int = key(7, "Seed of the estimator and of every sample.")
    register_: Bool = key(  # ``register`` would shadow ABCMeta.register
        True, "Register the trained model version in the model registry.", alias="register"
    )
    tags: dict[str, Any] | None = key(None, "Tags of the run and the version (name -> text).")
    model: ModelSection | None = key(None, "Which estimator to fit (default: LightGBM).")
    reference: ReferenceSection | None = key(
        None, "The reference profile for monitoring (default: 10 bins, 1000 values, validation)."
    )
    importance_sample: Annotated[Int, Field(ge=1)] = key(
        2000, "Validation rows whose SHAP values give the feature importances."
    )

    @model_validator(mode="after")
    def _one_split(self) -> Self:
        if self.split is not None and "validation_fraction" in self.model_fields_set:
            raise wrong(
                "split",
                "replaces validation_fraction; give one of them (split.validation is the "
                f"validation share); got both (validation_fraction {self.validation_fraction}).",
            )
        if self.label_available_at is not None and self.label_maturity is not None:
            raise wrong(
                "label_maturity",
                "cannot be combined with label_available_at: give the column or the duration.",
            )
        return self

    def value(self, source: str) -> TrainConfig:
        """The :class:`TrainConfig` this file declares (``source`` names it in errors)."""
        model, reference = self.model or ModelSection(), self.reference or ReferenceSection()
        split, warn = self.split, self.split_warnings or SplitWarningsSection()
        return TrainConfig(
            model_name=self.model_name,
            entities=self.entities,
            label=self.label,
            features=list(self.features),
            model=ModelSpec(
                kind=model.type,
                params=dict(model.params or {}),
                num_boost_round=model.num_boost_round,
                early_stopping_rounds=model.early_stopping_rounds,
                estimator=model.estimator,
                threads=model.threads,
            ),
            validation_fraction=self.validation_fraction if split is None else split.validation,
            split=None
            if split is None
            else SplitSpec(split.validation, split.test, split.validation_from, split.test_from),
            label_available_at=self.label_available_at,
            label_maturity=self.label_maturity,
            split_warnings=SplitWarnings(
                warn.label_rate_ratio, warn.label_rate_p, warn.feature_psi
            ),
            threshold=self.threshold,
            seed=self.seed,
            register=self.register_,
            description=self.description or "",
            tags={k: str(v) for k, v in (self.tags or {}).items()},
            reference=ReferenceSpec(reference.bins, reference.sample, reference.rows),
            importance_sample=self.importance_sample,
            source=source,
        )


def train_schema() -> dict[str, Any]:
    """The JSON Schema of a training config (``train.yaml``)."""
    return json_schema(
        TrainFile,
        title=CONFIG_FILE,
        description="A training job: the entity rows and their label, the features, the "
        "estimator, and the monitoring reference (cairn train --config train.yaml).",
    )
