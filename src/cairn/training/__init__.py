"""Training: fit a credit model on a point-in-time training set and log everything about it.

``train(config, store, tracker, author=...)`` builds the training set from the offline store,
splits it by time into train, validation (early stopping) and test (reported metrics) parts,
drops labels not known in time, gates it with checks, warns when the parts differ, fits
LightGBM (or any scikit-learn-compatible estimator), measures AUC, KS, Gini, precision and
recall at the decision threshold and the Brier score, computes mean |SHAP| importance and a
reference profile for monitoring, and logs it all to MLflow through :mod:`cairn.tracking`, then
registers the version. ``reproduce(run_id, ...)`` rebuilds a run's training set, proves it
hashes to the same manifest digest, and trains again.
"""

from __future__ import annotations

from cairn.training.config import ModelSpec, ReferenceSpec, SplitSpec, SplitWarnings, TrainConfig
from cairn.training.estimators import FITTERS, FittedModel, fit_model
from cairn.training.frame import FeatureFrame
from cairn.training.importance import Importance
from cairn.training.label_timing import LabelTiming, known_labels
from cairn.training.metrics import METRICS, evaluate
from cairn.training.profile import reference_profile
from cairn.training.quality import QualityCheck, QualityReport, check_training_set
from cairn.training.reproduce import DataVersionMismatchError, Reproduction, reproduce
from cairn.training.split import TimeSplit, cutoff_split, split_rows, time_split
from cairn.training.split_checks import SplitWarning, split_warnings
from cairn.training.trainer import (
    ARTIFACTS,
    METRICS_SPLIT_TAG,
    AuditSink,
    TrainingResult,
    train,
)
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
    "METRICS_SPLIT_TAG",
    "AuditSink",
    "DataVersionMismatchError",
    "FeatureFrame",
    "FittedModel",
    "Importance",
    "LabelTiming",
    "ModelSpec",
    "OfflineFeatures",
    "QualityCheck",
    "QualityReport",
    "ReferenceSpec",
    "Reproduction",
    "SplitSpec",
    "SplitWarning",
    "SplitWarnings",
    "TimeSplit",
    "TrainConfig",
    "TrainingResult",
    "TrainingSet",
    "TrainingSetJob",
    "build_training_set",
    "check_training_set",
    "cutoff_split",
    "evaluate",
    "fit_model",
    "known_labels",
    "reference_profile",
    "reproduce",
    "split_rows",
    "split_warnings",
    "time_split",
    "train",
]
