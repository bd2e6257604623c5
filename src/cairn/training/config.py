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

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cairn.core.errors import ConfigError

MODEL_KINDS = ("lightgbm", "sklearn")
REFERENCE_ROWS = ("validation", "train", "all")
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")
_TOP = (
    "model_name",
    "description",
    "entities",
    "label",
    "features",
    "validation_fraction",
    "threshold",
    "seed",
    "register",
    "tags",
    "model",
    "reference",
    "importance_sample",
)
_MODEL = ("type", "params", "num_boost_round", "early_stopping_rounds", "estimator", "threads")
_REFERENCE = ("bins", "sample", "rows")


@dataclass(frozen=True)
class ModelSpec:
    """Which estimator to fit.

    ``kind`` ``lightgbm`` (default) trains a native booster with ``params`` for
    ``num_boost_round`` rounds. ``sklearn`` builds ``estimator`` (a dotted path to a class or a
    factory returning an object with ``fit`` and ``predict_proba``) with ``params`` as
    keyword arguments.

    ``threads`` caps the threads used while fitting and scoring (LightGBM's ``num_threads``;
    OpenMP/BLAS pools for scikit-learn). On a busy machine OpenMP's spinning threads can make
    a fit 50x slower than one thread; one thread also makes results exactly reproducible.
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
    source: str = field(default="train config", compare=False)
    """Where the configuration came from (a file path), for error messages."""

    @classmethod
    def from_yaml(cls, path: str | Path) -> TrainConfig:
        """Read a ``train.yaml``; a missing or malformed file is a ConfigError."""
        p = Path(path)
        if not p.is_file():
            raise ConfigError(
                f"No training config at {p.resolve()}: expected a YAML file such as train.yaml "
                f"(the example project has one: cairn init DIR)."
            )
        try:
            data = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p} is not valid YAML: {exc}") from None
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
        _known(data, _TOP, where)
        for key in ("model_name", "entities", "label", "features"):
            if key not in data:
                raise ConfigError(f"{where}: the key {key!r} is required ({_HINTS[key]}).")
        name = _text(data["model_name"], f"{where}: model_name")
        if not _MODEL_NAME.match(name):
            raise ConfigError(
                f"{where}: model_name must be letters, digits, '_', '-' or '.' (at most 128); "
                f"got {name!r}."
            )
        features = data["features"]
        if (
            not isinstance(features, list)
            or not features
            or not all(isinstance(f, str) and f.strip() for f in features)
        ):
            raise ConfigError(
                f"{where}: features must be a non-empty list of 'view:feature' references; "
                f"got {features!r}."
            )
        fraction = _number(data.get("validation_fraction", 0.2), f"{where}: validation_fraction")
        if not 0 < fraction < 1:
            raise ConfigError(
                f"{where}: validation_fraction must be between 0 and 1 (exclusive), the share "
                f"of the latest entity rows held out; got {fraction!r}."
            )
        threshold = _number(data.get("threshold", 0.5), f"{where}: threshold")
        if not 0 < threshold < 1:
            raise ConfigError(
                f"{where}: threshold must be between 0 and 1 (exclusive), the score at or "
                f"above which an applicant is predicted to default; got {threshold!r}."
            )
        tags = data.get("tags") or {}
        if not isinstance(tags, Mapping):
            raise ConfigError(f"{where}: tags must be a mapping of names to text; got {tags!r}.")
        return cls(
            model_name=name,
            entities=_text(data["entities"], f"{where}: entities"),
            label=_text(data["label"], f"{where}: label"),
            features=[f.strip() for f in features],
            model=_model(data.get("model"), f"{where}: model"),
            validation_fraction=fraction,
            threshold=threshold,
            seed=_int(data.get("seed", 7), f"{where}: seed"),
            register=_bool(data.get("register", True), f"{where}: register"),
            description=str(data.get("description") or ""),
            tags={str(k): str(v) for k, v in tags.items()},
            reference=_reference(data.get("reference"), f"{where}: reference"),
            importance_sample=_int(
                data.get("importance_sample", 2000), f"{where}: importance_sample", low=1
            ),
            source=where,
        )

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain data (``from_mapping`` reads it back)."""
        return {
            "model_name": self.model_name,
            "description": self.description,
            "entities": self.entities,
            "label": self.label,
            "features": list(self.features),
            "validation_fraction": self.validation_fraction,
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


_HINTS = {
    "model_name": "the registered model's name, e.g. 'credit-default'",
    "entities": "the entity rows with the label: SQL over the applied sources or a file path",
    "label": "the 0/1 label column of the entity rows, e.g. 'defaulted'",
    "features": "a list of 'view:feature' references",
}


def _model(value: Any, where: str) -> ModelSpec:
    if value is None:
        return ModelSpec()
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a mapping (type, params, ...); got {value!r}.")
    _known(value, _MODEL, where)
    kind = str(value.get("type", "lightgbm"))
    if kind not in MODEL_KINDS:
        raise ConfigError(f"{where}.type must be one of {', '.join(MODEL_KINDS)}; got {kind!r}.")
    params = value.get("params") or {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"{where}.params must be a mapping; got {params!r}.")
    estimator = value.get("estimator")
    if kind == "sklearn" and not (isinstance(estimator, str) and "." in estimator):
        raise ConfigError(
            f"{where}.estimator must name a scikit-learn-compatible class or factory by its "
            f"dotted path (e.g. sklearn.ensemble.HistGradientBoostingClassifier) when type is "
            f"sklearn; got {estimator!r}."
        )
    if kind == "lightgbm" and estimator is not None:
        raise ConfigError(
            f"{where}.estimator is only for type sklearn; type lightgbm trains a native "
            f"booster (got estimator {estimator!r})."
        )
    stop = value.get("early_stopping_rounds")
    threads = value.get("threads")
    return ModelSpec(
        kind=kind,
        params={str(k): v for k, v in params.items()},
        num_boost_round=_int(value.get("num_boost_round", 200), f"{where}.num_boost_round", low=1),
        early_stopping_rounds=None
        if stop is None
        else _int(stop, f"{where}.early_stopping_rounds", low=1),
        estimator=None if estimator is None else str(estimator),
        threads=None if threads is None else _int(threads, f"{where}.threads", low=1),
    )


def _reference(value: Any, where: str) -> ReferenceSpec:
    if value is None:
        return ReferenceSpec()
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a mapping (bins, sample, rows); got {value!r}.")
    _known(value, _REFERENCE, where)
    rows = str(value.get("rows", "validation"))
    if rows not in REFERENCE_ROWS:
        raise ConfigError(f"{where}.rows must be one of {', '.join(REFERENCE_ROWS)}; got {rows!r}.")
    return ReferenceSpec(
        bins=_int(value.get("bins", 10), f"{where}.bins", low=2),
        sample=_int(value.get("sample", 1000), f"{where}.sample", low=0),
        rows=rows,
    )


def _known(data: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; allowed keys are {', '.join(allowed)}."
        )


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} must be non-empty text; got {value!r}.")
    return value.strip()


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where} must be a number; got {value!r}.")
    return float(value)


def _int(value: Any, where: str, *, low: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where} must be an integer; got {value!r}.")
    if low is not None and value < low:
        raise ConfigError(f"{where} must be at least {low}; got {value!r}.")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false; got {value!r}.")
    return value
