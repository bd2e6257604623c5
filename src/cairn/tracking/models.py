"""Logging a fitted model into the active run: explicit signature, explicit requirements.

MLflow's slow defaults are avoided: the signature is built once from the known feature columns
(no inference from data), there is no input example, and pip requirements are given (no
dependency inference, which imports the model in a subprocess). LightGBM models are logged as
the native booster (``model.lgb``), which serving loads directly, never through a pyfunc
wrapper (DESIGN §5).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cairn.tracking import _mlflow

ColumnKind = Literal["double", "long", "string", "boolean"]
SCORE_COLUMN = "score"


@dataclass(frozen=True)
class Column:
    """One input column of a model: its name and MLflow type."""

    name: str
    kind: ColumnKind


@dataclass(frozen=True)
class LoggedModel:
    """Where a logged model lives: its ``models:/`` URI, MLflow model id, and flavor."""

    uri: str
    model_id: str | None
    flavor: str
    artifact_location: str | None = None


def schema_of(columns: Sequence[Column]) -> Any:
    """An ``mlflow.types.Schema`` of the columns (missing values allowed)."""
    _mlflow.load()
    from mlflow.types import ColSpec, Schema

    return Schema([ColSpec(c.kind, c.name, required=False) for c in columns])


def signature_of(columns: Sequence[Column]) -> Any:
    """The model signature: the feature columns in, one ``double`` score out."""
    _mlflow.load()
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    return ModelSignature(
        inputs=schema_of(columns), outputs=Schema([ColSpec("double", SCORE_COLUMN)])
    )


def log_lightgbm(
    booster: Any, columns: Sequence[Column], pip_requirements: Sequence[str], name: str
) -> LoggedModel:
    """Log a ``lightgbm.Booster`` with MLflow's lightgbm flavor into the active run."""
    mlflow = _mlflow.load()
    info = mlflow.lightgbm.log_model(
        booster,
        name=name,
        signature=signature_of(columns),
        pip_requirements=list(pip_requirements),
    )
    return _logged(info, "lightgbm")


def log_sklearn(
    estimator: Any,
    columns: Sequence[Column],
    pip_requirements: Sequence[str],
    name: str,
    trusted_types: Sequence[str] = (),
    extra_files: Mapping[str, str] | None = None,
) -> LoggedModel:
    """Log a scikit-learn-compatible estimator in the skops format (no code runs on load,
    ``trusted_types`` declared) into the active run, ``extra_files`` (name -> text) beside
    ``model.skops`` in the model folder."""
    mlflow = _mlflow.load()
    info = mlflow.sklearn.log_model(
        estimator,
        name=name,
        signature=signature_of(columns),
        pip_requirements=list(pip_requirements),
        serialization_format="skops",
        skops_trusted_types=list(trusted_types),
    )
    if extra_files:
        with tempfile.TemporaryDirectory() as tmp:
            for file, text in extra_files.items():
                (Path(tmp) / file).write_text(text)
            mlflow.MlflowClient().log_model_artifacts(info.model_id, tmp)
    return _logged(info, "sklearn")


def log_xgboost(
    booster: Any, columns: Sequence[Column], pip_requirements: Sequence[str], name: str
) -> LoggedModel:
    """Log an ``xgboost.Booster`` with MLflow's xgboost flavor (native ``model.ubj``, no
    pickle) into the active run."""
    mlflow = _mlflow.load()
    info = mlflow.xgboost.log_model(
        booster,
        name=name,
        signature=signature_of(columns),
        pip_requirements=list(pip_requirements),
        model_format="ubj",
    )
    return _logged(info, "xgboost")


def _logged(info: Any, flavor: str) -> LoggedModel:
    return LoggedModel(
        uri=str(info.model_uri),
        model_id=getattr(info, "model_id", None),
        flavor=flavor,
        artifact_location=getattr(info, "artifact_path", None),
    )
