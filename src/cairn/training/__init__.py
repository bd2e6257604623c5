"""Training: fit a credit model on a point-in-time training set and log everything about it.

``train(config, store, tracker, author=...)`` builds the training set from the offline store,
gates it with checks, splits it by time (the latest rows validate), fits LightGBM (or any
scikit-learn-compatible estimator), measures AUC, KS, Gini, precision and recall at the
decision threshold and the Brier score, computes mean |SHAP| importance and a reference profile
for monitoring, and logs it all to MLflow through :mod:`cairn.tracking`, then registers the
version. ``reproduce(run_id, ...)`` rebuilds a run's training set, proves it hashes to the same
manifest digest, and trains again.
"""

from __future__ import annotations

from cairn.training.config import ModelSpec, ReferenceSpec, TrainConfig
from cairn.training.estimators import FITTERS, FittedModel, fit_model
from cairn.training.frame import FeatureFrame
from cairn.training.importance import Importance
from cairn.training.metrics import METRICS, evaluate
from cairn.training.profile import reference_profile
from cairn.training.quality import QualityCheck, QualityReport, check_training_set
from cairn.training.reproduce import DataVersionMismatchError, Reproduction, reproduce
from cairn.training.split import TimeSplit, time_split
from cairn.training.trainer import ARTIFACTS, AuditSink, TrainingResult, train
from cairn.training.training_set import (
    OfflineFeatures,
    TrainingSet,
    TrainingSetJob,
    build_training_set,
)

__all__ = [
    "ARTIFACTS",
    "FITTERS",
    "METRICS",
    "AuditSink",
    "DataVersionMismatchError",
    "FeatureFrame",
    "FittedModel",
    "Importance",
    "ModelSpec",
    "OfflineFeatures",
    "QualityCheck",
    "QualityReport",
    "ReferenceSpec",
    "Reproduction",
    "TimeSplit",
    "TrainConfig",
    "TrainingResult",
    "TrainingSet",
    "TrainingSetJob",
    "build_training_set",
    "check_training_set",
    "evaluate",
    "fit_model",
    "reference_profile",
    "reproduce",
    "time_split",
    "train",
]
