"""``train``: training set → checks → time split → fit → evaluate → log → register.

Everything a reviewer needs is logged with the run: params, metrics (validation and train),
the training-set manifest as a dataset input versioned by its full-content digest (and as the
artifact ``training_set/manifest.json``), the code commit with a dirty flag, package versions,
the quality results, importance, the reference profile for monitoring, the training config
and the native model with an explicit signature.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from cairn.core.manifest import TrainingSetManifest
from cairn.tracking import Tracker
from cairn.tracking.datasets import DIGEST_TAG
from cairn.tracking.models import LoggedModel
from cairn.tracking.provenance import CodeCommit, code_commit, package_versions
from cairn.training.config import TrainConfig
from cairn.training.estimators import fit_model
from cairn.training.frame import FeatureFrame
from cairn.training.importance import Importance
from cairn.training.metrics import evaluate
from cairn.training.profile import reference_profile
from cairn.training.quality import QualityReport, check_training_set
from cairn.training.split import TimeSplit, time_split
from cairn.training.training_set import OfflineFeatures, TrainingSet, build_training_set

ARTIFACTS = {
    "manifest": "training_set/manifest.json",
    "config": "train_config.json",
    "quality": "quality.json",
    "importance": "importance.json",
    "profile": "reference_profile.json",
    "environment": "environment.json",
    "features": "feature_frame.json",
}
"""Artifact paths every Cairn training run logs."""

Progress = Callable[[str], None]


class AuditSink(Protocol):
    """Where registry actions are recorded (:class:`cairn.registry.AuditLog` is one)."""

    def append(
        self, actor: str, action: str, subject: str, details: Mapping[str, Any] | None = None
    ) -> object:
        """Append one entry."""
        ...


@dataclass(frozen=True)
class TrainingResult:
    """What one training run produced."""

    run_id: str
    model_name: str
    version: str | None
    """The registered version (None when registration was off)."""
    model_uri: str
    flavor: str
    metrics: dict[str, float]
    manifest: TrainingSetManifest
    split: TimeSplit
    importance: Importance
    quality: QualityReport
    commit: CodeCommit | None
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        """``name/version`` of the registered version (or the run's model URI)."""
        return f"{self.model_name}/{self.version}" if self.version else self.model_uri


def train(
    config: TrainConfig,
    store: OfflineFeatures,
    tracker: Tracker,
    *,
    author: str,
    author_via: str | None = None,
    audit: AuditSink | None = None,
    quality_suites: Sequence[Mapping[str, Any]] = (),
    tags: Mapping[str, str] | None = None,
    training_set: TrainingSet | None = None,
    progress: Progress | None = None,
) -> TrainingResult:
    """Train, log and (unless ``config.register`` is false) register one model version.

    Parameters
    ----------
    config:
        The training job (:class:`TrainConfig`, e.g. from ``train.yaml``).
    store:
        The offline store (a :class:`cairn.FeatureStore`).
    tracker:
        Where the run is logged and the version registered.
    author:
        Who trains: recorded on the run and as the version's author (four eyes).
    author_via:
        How ``author`` was authenticated (``token:<id>``, ``jwt:<issuer>``), when it was: the
        run and the version are tagged ``cairn.author_authenticated`` true (and
        ``cairn.author_via``); None tags them ``false`` (a name from CAIRN_USER or the OS).
    audit:
        The project's audit log: registration appends ``model.registered``.
    quality_suites:
        Results of data quality suites to log with the run (a failed one stops training).
    tags:
        Extra run tags.
    training_set:
        A training set already built for ``config`` (``reproduce`` passes the one it checked).

    Example
    -------
    ``train(TrainConfig.from_yaml("train.yaml"), FeatureStore("."),
    Tracker.for_project(...), author="ana")``; see ``cairn train --help``.
    """
    say = progress or (lambda _step: None)
    timings: dict[str, float] = {}
    began = time.perf_counter()

    def lap(name: str, start: float) -> None:
        timings[name] = time.perf_counter() - start

    t = time.perf_counter()
    say("building the training set")
    data = training_set or build_training_set(config, store)
    lap("training_set", t)
    frame, features = data.frame, data.feature_columns
    split = time_split(frame["event_timestamp"], config.validation_fraction)
    report = check_training_set(
        frame,
        config.label,
        features,
        train_rows=split.train,
        validation_rows=split.validation,
        suites=quality_suites,
    )
    report.raise_for_failures(config.source)

    t = time.perf_counter()
    say(f"fitting {config.model.kind}")
    train_part, valid_part = frame.iloc[split.train], frame.iloc[split.validation]
    ff = FeatureFrame.fit(train_part, features)
    X, X_valid = ff.transform(train_part), ff.transform(valid_part)
    y = train_part[config.label].to_numpy(dtype=np.int64)
    y_valid = valid_part[config.label].to_numpy(dtype=np.int64)
    model = fit_model(config.model, X, y, X_valid, y_valid, seed=config.seed, where=config.source)
    lap("fit", t)

    t = time.perf_counter()
    say("evaluating")
    valid_scores, train_scores = model.predict(X_valid), model.predict(X)
    metrics = {
        f"valid_{k}": v for k, v in evaluate(y_valid, valid_scores, config.threshold).items()
    }
    metrics |= {f"train_{k}": v for k, v in evaluate(y, train_scores, config.threshold).items()}
    metrics |= model.extra_metrics
    importance = model.importance(
        X_valid, y_valid, sample=config.importance_sample, seed=config.seed
    )
    profile = _profile(config, ff, X, X_valid, train_scores, valid_scores, y, y_valid)
    lap("evaluate", t)

    commit = code_commit(store.root)
    packages = package_versions()
    t = time.perf_counter()
    say("logging to MLflow")
    authorship = author_tags(author_via)
    run_tags = _run_tags(
        config,
        data.manifest,
        author,
        commit,
        packages,
        model.flavor,
        {**(tags or {}), **authorship},
    )
    with tracker.start_run(name=f"{config.model_name}-{config.model.kind}", tags=run_tags) as run:
        run.log_params(_params(config, model.params, split, features))
        run.log_metrics(metrics)
        run.log_dataset(data.manifest, columns=ff.columns, context="training")
        run.log_json(data.manifest.to_dict(), ARTIFACTS["manifest"])
        run.log_json({**config.to_dict(), "source": config.source}, ARTIFACTS["config"])
        run.log_json(report.to_dict(), ARTIFACTS["quality"])
        run.log_json(importance.to_dict(), ARTIFACTS["importance"])
        run.log_json(profile, ARTIFACTS["profile"])
        run.log_json(
            {
                "packages": packages,
                "code": None if commit is None else commit.to_dict(),
                "split": split.to_dict(),
                "timings": timings,
            },
            ARTIFACTS["environment"],
        )
        run.log_json(
            {"features": ff.features, "categories": ff.categories, "label": config.label},
            ARTIFACTS["features"],
        )
        logged = model.log(run, ff.columns)
        run_id = run.run_id
    lap("log", t)

    version = None
    if config.register:
        t = time.perf_counter()
        say("registering")
        version = _register(
            config, tracker, run_id, logged, author, data.manifest, audit, authorship
        )
        lap("register", t)
    return TrainingResult(
        run_id=run_id,
        model_name=config.model_name,
        version=version,
        model_uri=logged.uri,
        flavor=model.flavor,
        metrics=metrics,
        manifest=data.manifest,
        split=split,
        importance=importance,
        quality=report,
        commit=commit,
        seconds=time.perf_counter() - began,
        timings=timings,
    )


AUTHOR_AUTHENTICATED_TAG = "cairn.author_authenticated"
"""Version and run tag: ``true`` when the author was an authenticated principal."""
AUTHOR_VIA_TAG = "cairn.author_via"
"""Version and run tag: how the author was authenticated (``token:<id>``, ``jwt:<issuer>``)."""


def author_tags(via: str | None) -> dict[str, str]:
    """The authorship tags of a run and its version.

    Example
    -------
    >>> author_tags(None)
    {'cairn.author_authenticated': 'false'}
    >>> author_tags("token:tk_1a2b")["cairn.author_via"]
    'token:tk_1a2b'
    """
    if via is None:
        return {AUTHOR_AUTHENTICATED_TAG: "false"}
    return {AUTHOR_AUTHENTICATED_TAG: "true", AUTHOR_VIA_TAG: via}


def _register(
    config: TrainConfig,
    tracker: Tracker,
    run_id: str,
    logged: LoggedModel,
    author: str,
    manifest: TrainingSetManifest,
    audit: AuditSink | None,
    authorship: Mapping[str, str],
) -> str:
    tags = {
        "cairn.author": author,
        DIGEST_TAG: manifest.digest,
        "cairn.run_id": run_id,
        "cairn.flavor": config.model.kind,
        **authorship,
    }
    mv = tracker.registry().register(
        config.model_name,
        logged.uri,
        run_id=run_id,
        tags=tags,
        description=config.description,
        model_id=logged.model_id,
    )
    if audit is not None:
        audit.append(
            author,
            "model.registered",
            f"{mv.name}/{mv.version}",
            {
                "run_id": run_id,
                "manifest_digest": manifest.digest,
                "model_uri": logged.uri,
                "author_authenticated": authorship[AUTHOR_AUTHENTICATED_TAG] == "true",
                **(
                    {"author_via": authorship[AUTHOR_VIA_TAG]}
                    if AUTHOR_VIA_TAG in authorship
                    else {}
                ),
            },
        )
    return mv.version


def _profile(
    config: TrainConfig,
    ff: FeatureFrame,
    X: pd.DataFrame,
    X_valid: pd.DataFrame,
    train_scores: np.ndarray,
    valid_scores: np.ndarray,
    y: np.ndarray,
    y_valid: np.ndarray,
) -> dict[str, Any]:
    which = config.reference.rows
    if which == "train":
        rows, scores, labels = X, train_scores, y
    elif which == "all":
        rows = pd.concat([X, X_valid])
        scores = np.concatenate([train_scores, valid_scores])
        labels = np.concatenate([y, y_valid])
    else:
        rows, scores, labels = X_valid, valid_scores, y_valid
    return reference_profile(
        rows,
        scores,
        categorical=set(ff.categories),
        bins=config.reference.bins,
        sample=config.reference.sample,
        seed=config.seed,
        rows=which,
        labels=labels,
    )


def _params(
    config: TrainConfig, model_params: Mapping[str, Any], split: TimeSplit, features: list[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {f"model.{k}": v for k, v in model_params.items()}
    out.update(
        {
            "model_type": config.model.kind,
            "label": config.label,
            "features": ",".join(config.features),
            "n_features": len(features),
            "entities": config.entities,
            "validation_fraction": config.validation_fraction,
            "threshold": config.threshold,
            "seed": config.seed,
            "split_cutoff": split.cutoff.isoformat(),
            "train_rows": len(split.train),
            "validation_rows": len(split.validation),
        }
    )
    return out


def _run_tags(
    config: TrainConfig,
    manifest: TrainingSetManifest,
    author: str,
    commit: CodeCommit | None,
    packages: Mapping[str, str],
    flavor: str,
    extra: Mapping[str, str] | None,
) -> dict[str, str]:
    tags = {
        "cairn.project": manifest.project,
        "cairn.model_name": config.model_name,
        "cairn.author": author,
        "cairn.flavor": flavor,
        DIGEST_TAG: manifest.digest,
        "cairn.code.commit": commit.sha if commit else "none",
        "cairn.code.dirty": str(commit.dirty).lower() if commit else "unknown",
        "mlflow.user": author,
        "mlflow.source.type": "LOCAL",
        "mlflow.source.name": "cairn train",
        **{f"cairn.package.{name}": v for name, v in packages.items()},
        **config.tags,
        **dict(extra or {}),
    }
    if commit:
        tags["mlflow.source.git.commit"] = commit.sha
    return tags
