"""Logging into one active run: params, metrics, tags, JSON artifacts, the dataset, the model."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from cairn.core.manifest import TrainingSetManifest
from cairn.tracking import _mlflow
from cairn.tracking.datasets import manifest_dataset
from cairn.tracking.models import Column, LoggedModel, log_lightgbm, log_sklearn, log_xgboost
from cairn.tracking.store import MlflowStore

_MAX_PARAM_CHARS = 6000
_BATCH = 100


class RunLogger:
    """What a training run records; obtained from :meth:`Tracker.start_run`."""

    def __init__(self, tracker: MlflowStore, run_id: str) -> None:
        self.tracker = tracker
        self.run_id = run_id

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Parameters as text (long values are cut to MLflow's limit with a marker)."""
        entities = _mlflow.load().entities
        items = [entities.Param(str(k), _param_text(v)) for k, v in params.items() if v is not None]
        for i in range(0, len(items), _BATCH):
            self.tracker.call(
                "log params",
                self.tracker.client.log_batch,
                self.run_id,
                params=items[i : i + _BATCH],
            )

    def log_metrics(self, metrics: Mapping[str, float], step: int = 0) -> None:
        """Finite metrics (NaN and infinities are skipped: MLflow stores them badly)."""
        entities = _mlflow.load().entities
        now = int(time.time() * 1000)
        items = [
            entities.Metric(str(k), float(v), now, step)
            for k, v in metrics.items()
            if v is not None and math.isfinite(float(v))
        ]
        for i in range(0, len(items), _BATCH * 10):
            self.tracker.call(
                "log metrics",
                self.tracker.client.log_batch,
                self.run_id,
                metrics=items[i : i + _BATCH * 10],
            )

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        """Tags as text."""
        entities = _mlflow.load().entities
        items = [entities.RunTag(str(k), _param_text(v)) for k, v in tags.items() if v is not None]
        for i in range(0, len(items), _BATCH):
            self.tracker.call(
                "set tags", self.tracker.client.log_batch, self.run_id, tags=items[i : i + _BATCH]
            )

    def log_json(self, obj: Any, path: str) -> None:
        """One JSON artifact (``path`` like ``training_set/manifest.json``)."""
        text = json.dumps(obj, indent=2, sort_keys=True, default=str, allow_nan=False)
        self.log_text(text, path)

    def log_text(self, text: str, path: str) -> None:
        """One text artifact."""
        self.tracker.call("log an artifact", self.tracker.client.log_text, self.run_id, text, path)

    def log_dataset(
        self,
        manifest: TrainingSetManifest,
        *,
        columns: Sequence[Column] = (),
        context: str = "training",
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """The training set as the run's dataset input, versioned by Cairn's full-content
        manifest digest (see :func:`cairn.tracking.datasets.manifest_dataset`)."""
        dataset, tags = manifest_dataset(manifest, columns=columns, context=context, extra=extra)
        entities = _mlflow.load().entities
        item = entities.DatasetInput(
            dataset._to_mlflow_entity(),
            tags=[entities.InputTag(k, v) for k, v in tags.items()],
        )
        self.tracker.call(
            "log the training set", self.tracker.client.log_inputs, self.run_id, datasets=[item]
        )

    def log_lightgbm(
        self,
        booster: Any,
        *,
        columns: Sequence[Column],
        pip_requirements: Sequence[str],
        name: str = "model",
    ) -> LoggedModel:
        """The native LightGBM booster (MLflow's ``lightgbm`` flavor, ``model.lgb`` inside)."""
        return self._log(
            "log the LightGBM model", log_lightgbm, booster, columns, pip_requirements, name
        )

    def log_sklearn(
        self,
        estimator: Any,
        *,
        columns: Sequence[Column],
        pip_requirements: Sequence[str],
        name: str = "model",
        trusted_types: Sequence[str] = (),
        extra_files: Mapping[str, str] | None = None,
    ) -> LoggedModel:
        """A scikit-learn-compatible estimator (MLflow's ``sklearn`` flavor, skops format with
        declared ``trusted_types``; ``extra_files`` beside it)."""
        return self._log(
            "log the scikit-learn model",
            log_sklearn,
            estimator,
            columns,
            pip_requirements,
            name,
            trusted_types,
            extra_files,
        )

    def log_xgboost(
        self,
        booster: Any,
        *,
        columns: Sequence[Column],
        pip_requirements: Sequence[str],
        name: str = "model",
    ) -> LoggedModel:
        """The native XGBoost booster (MLflow's ``xgboost`` flavor, ``model.ubj`` inside)."""
        return self._log(
            "log the XGBoost model", log_xgboost, booster, columns, pip_requirements, name
        )

    def _log(self, what: str, fn: Any, model: Any, *args: Any) -> LoggedModel:
        logged: LoggedModel = self.tracker.call(what, fn, model, *args)
        return logged


def _param_text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if len(text) > _MAX_PARAM_CHARS:
        return text[: _MAX_PARAM_CHARS - 20] + "...[truncated]"
    return text
