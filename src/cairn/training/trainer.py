"""``train``: training set → time split → label timing → checks → fit → evaluate → log →
register.

The split is time-ordered: the model is fitted on the training rows, early stopping sees only
the validation rows, and the reported metrics are the test rows' (``test_*``; the run tag
``cairn.metrics_split`` names the part, ``validation`` for configs without a test part). Labels
not known in time are dropped (:mod:`cairn.training.label_timing`), and differences between
the parts are warnings (:mod:`cairn.training.split_checks`) logged with the run.

Everything a reviewer needs is logged with the run: params, metrics (train, validation, test),
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

from cairn.core.errors import ConfigError
from cairn.core.manifest import TrainingSetManifest
from cairn.explain.global_explanation import ARTIFACT as EXPLANATION_ARTIFACT
from cairn.tracking import Tracker
from cairn.tracking.artifact_digest import ARTIFACT_SHA256_TAG, version_sha256
from cairn.tracking.datasets import DIGEST_TAG
from cairn.tracking.models import LoggedModel
from cairn.tracking.provenance import CodeCommit, code_commit, package_versions
from cairn.training.config import TrainConfig
from cairn.training.estimators import fit_model
from cairn.training.explanation import explain_training
from cairn.training.frame import FeatureFrame
from cairn.training.importance import Importance
from cairn.training.label_timing import LabelTiming, config_split
from cairn.training.metrics import evaluate
from cairn.training.profile import reference_profile
from cairn.training.quality import QualityReport, check_training_set
from cairn.training.split import TimeSplit
from cairn.training.split_checks import SplitWarning, split_warnings
from cairn.training.training_set import OfflineFeatures, TrainingSet, build_training_set

ARTIFACTS = {
    "manifest": "training_set/manifest.json",
    "config": "train_config.json",
    "quality": "quality.json",
    "importance": "importance.json",
    "profile": "reference_profile.json",
    "environment": "environment.json",
    "features": "feature_frame.json",
    "split": "split.json",
    "explanation": EXPLANATION_ARTIFACT,
}
"""Artifact paths every Cairn training run logs."""

Progress = Callable[[str], None]

METRICS_SPLIT_TAG = "cairn.metrics_split"
"""Run tag: the part whose metrics are reported (``test``, or ``validation`` without a test
part); ``cairn runs compare`` flags runs that differ in it."""
WARNINGS_TAG = "cairn.split_warnings"
"""Run tag: how many split warnings the run has (each is also a ``cairn.split_warning.N`` tag)."""
METRIC_PREFIX = {"train": "train_", "validation": "valid_", "test": "test_"}
"""Each part's metric-name prefix (``valid_auc`` is the validation rows' AUC)."""


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
    warnings: list[SplitWarning] = field(default_factory=list)
    """Differences between the parts (label rates, feature PSI), also logged with the run."""
    label_timing: LabelTiming | None = None
    """How label availability was decided and the rows dropped for it."""

    @property
    def reported(self) -> dict[str, float]:
        """The reported metrics (the test part's, or validation's without one), unprefixed."""
        prefix = METRIC_PREFIX[self.split.reported]
        return {k.removeprefix(prefix): v for k, v in self.metrics.items() if k.startswith(prefix)}

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
    split, timing = config_split(config, frame)
    report = check_training_set(
        frame,
        config.label,
        features,
        train_rows=split.train,
        validation_rows=split.validation,
        test_rows=split.test,
        suites=quality_suites,
    )
    report.raise_for_failures(config.source)
    warned = split_warnings(frame, config.label, features, split, config.split_warnings)
    if config.model.early_stopping_rounds and split.reported == "validation":
        warned.append(_optimistic(config))

    t = time.perf_counter()
    say(f"fitting {config.model.kind}")
    parts = {name: frame.iloc[rows] for name, rows in split.parts().items()}
    ff = FeatureFrame.fit(parts["train"], features)
    Xs = {name: ff.transform(part) for name, part in parts.items()}
    ys = {name: part[config.label].to_numpy(dtype=np.int64) for name, part in parts.items()}
    model = fit_model(
        config.model,
        Xs["train"],
        ys["train"],
        Xs["validation"],
        ys["validation"],
        seed=config.seed,
        where=config.source,
    )
    lap("fit", t)

    t = time.perf_counter()
    say("evaluating")
    scores = {name: model.predict(X) for name, X in Xs.items()}
    metrics: dict[str, float] = {}
    for name in ("validation", "train", "test"):
        if name in Xs:
            measured = evaluate(ys[name], scores[name], config.threshold)
            metrics |= {f"{METRIC_PREFIX[name]}{k}": v for k, v in measured.items()}
    metrics |= model.extra_metrics
    reported = split.reported
    importance = model.importance(
        Xs[reported], ys[reported], sample=config.importance_sample, seed=config.seed
    )
    profile = training_reference(config, ff, Xs, scores, ys)
    lap("evaluate", t)
    t = time.perf_counter()
    explanation = explain_training(config, ff, parts, model)
    lap("explain", t)

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
        {**(tags or {}), **authorship, **_warning_tags(split, warned)},
    )
    with tracker.start_run(name=f"{config.model_name}-{config.model.kind}", tags=run_tags) as run:
        run.log_params(_params(config, model.params, split, features, timing))
        run.log_metrics(metrics)
        run.log_dataset(data.manifest, columns=ff.columns, context="training")
        run.log_json(data.manifest.to_dict(), ARTIFACTS["manifest"])
        run.log_json({**config.to_dict(), "source": config.source}, ARTIFACTS["config"])
        run.log_json(report.to_dict(), ARTIFACTS["quality"])
        run.log_json(importance.to_dict(), ARTIFACTS["importance"])
        run.log_json(profile, ARTIFACTS["profile"])
        run.log_json(explanation.to_dict(), ARTIFACTS["explanation"])
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
        run.log_json(
            {
                "split": split.to_dict(),
                "label_timing": timing.to_dict(),
                "warnings": [w.to_dict() for w in warned],
            },
            ARTIFACTS["split"],
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
        warnings=warned,
        label_timing=timing,
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
    artifact_sha256 = version_sha256(tracker, mv.name, mv.version)
    tracker.registry().set_version_tag(mv.name, mv.version, ARTIFACT_SHA256_TAG, artifact_sha256)
    if audit is not None:
        audit.append(
            author,
            "model.registered",
            f"{mv.name}/{mv.version}",
            {
                "run_id": run_id,
                "manifest_digest": manifest.digest,
                "model_uri": logged.uri,
                "artifact_sha256": artifact_sha256,
                "author_authenticated": authorship[AUTHOR_AUTHENTICATED_TAG] == "true",
                **(
                    {"author_via": authorship[AUTHOR_VIA_TAG]}
                    if AUTHOR_VIA_TAG in authorship
                    else {}
                ),
            },
        )
    return mv.version


def training_reference(
    config: TrainConfig,
    ff: FeatureFrame,
    Xs: Mapping[str, pd.DataFrame],
    scores: Mapping[str, np.ndarray],
    ys: Mapping[str, np.ndarray],
) -> dict[str, Any]:
    """The reference profile training logs with a version: the ``reference.rows`` parts of
    the features ``Xs``, their scores and labels (monitoring compares traffic with it)."""
    which = config.reference.rows
    if which == "test" and "test" not in Xs:
        raise ConfigError(
            f"{config.source}: reference.rows is test but the split has no test part; "
            f"expected split.test > 0 or reference.rows validation, train or all."
        )
    names = list(Xs) if which == "all" else [which]
    return reference_profile(
        pd.concat([Xs[n] for n in names]),
        np.concatenate([scores[n] for n in names]),
        categorical=set(ff.categories),
        bins=config.reference.bins,
        sample=config.reference.sample,
        seed=config.seed,
        rows=which,
        labels=np.concatenate([ys[n] for n in names]),
    )


def _optimistic(config: TrainConfig) -> SplitWarning:
    return SplitWarning(
        "optimistic",
        ("validation", "validation"),
        "early_stopping",
        float(config.model.early_stopping_rounds or 0),
        "early stopping picked the number of trees on the validation rows whose metrics are "
        "reported (no test part): the reported metrics are optimistic; set split.test",
    )


def _warning_tags(split: TimeSplit, warned: Sequence[SplitWarning]) -> dict[str, str]:
    tags = {METRICS_SPLIT_TAG: split.reported, WARNINGS_TAG: str(len(warned))}
    tags |= {f"cairn.split_warning.{i + 1}": w.message[:5000] for i, w in enumerate(warned)}
    return tags


def _params(
    config: TrainConfig,
    model_params: Mapping[str, Any],
    split: TimeSplit,
    features: list[str],
    timing: LabelTiming,
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
            "metrics_split": split.reported,
            "label_timing": timing.rule,
            "label_unknown_rows": timing.total,
        }
    )
    if config.split is not None:
        out.update({f"split.{k}": v for k, v in vars(config.split).items() if v is not None})
    if split.test_cutoff is not None:
        out |= {"test_cutoff": split.test_cutoff.isoformat(), "test_rows": len(split.test)}
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
