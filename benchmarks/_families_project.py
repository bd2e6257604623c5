"""The project the model-families benchmark measures: the example credit project with one
registered version per family, served side by side.

Built untimed, the way the quickstart builds its project (``cairn.quickstart.example``):
write the example project, apply its definitions, materialize the online store to now, then
train each family with :func:`cairn.training.train` on the example's ``train.yaml`` (the model
section replaced), registering ``bench-FAMILY`` with the artifact's SHA-256 in the audit chain
(what the loader verifies). The fitted models are kept (the fitters are wrapped for the run):
they are the peers, each family scoring with its own ``predict``/``predict_proba``.

The logistic regression pipeline (``SimpleImputer`` -> ``StandardScaler`` ->
``LogisticRegression``) is trained on the example's numeric features only: those transformers
cannot read a text category, and Cairn's exact linear SHAP covers exactly that pipeline.
``deployments.yaml`` names one deployment per family (``bench-FAMILY``, threshold 0.5, reason
codes for declines), every row scored whatever its coverage, counterfactuals of declines never
changing ``age`` or ``marital`` (:data:`IMMUTABLE`, where the model has them).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FAMILIES = ("lightgbm", "xgboost", "sklearn-hgb", "sklearn-logistic", "scorecard")
DEPLOYMENT = """\
  bench-{family}:
    model: bench-{family}/{version}
    threshold: 0.5
    decision: {{positive: decline, negative: approve, favorable: negative}}
    explain: positive
    top_k: 4
    coverage: {{min_share: 0.0, unknown_entity: score}}
    counterfactual: {{immutable: [{immutable}]}}
"""
IMMUTABLE = ("age", "marital")
"""Features a counterfactual never changes (those the family's model has)."""


def logistic_pipeline(C: float = 1.0, max_iter: int = 500) -> Any:
    """``SimpleImputer`` (mean) -> ``StandardScaler`` -> ``LogisticRegression``."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        SimpleImputer(), StandardScaler(), LogisticRegression(C=C, max_iter=max_iter)
    )


def model_spec(family: str, lightgbm: Any) -> Any:
    """The ``model:`` section of ``family`` (LightGBM: the example's own)."""
    from cairn.quickstart.training_demo import CHALLENGER
    from cairn.training import ModelSpec

    specs = {
        "lightgbm": lightgbm,
        "xgboost": ModelSpec(
            kind="xgboost",
            params={"max_depth": 4, "eta": 0.05, "min_child_weight": 5},
            num_boost_round=200,
            threads=1,
        ),
        "sklearn-hgb": CHALLENGER,
        "sklearn-logistic": ModelSpec(
            kind="sklearn", estimator="_families_project.logistic_pipeline", threads=1
        ),
        "scorecard": ModelSpec(kind="scorecard"),
    }
    return specs[family]


@dataclass
class Family:
    """One trained family: its registered version and the fitted model (the peer)."""

    family: str
    model: str
    version: str
    fitted: Any
    train_s: float
    features: list[str]


def build(project: Path, mlflow_db: Path | None = None) -> tuple[Any, dict[str, Family]]:
    """The opened project and every family trained, registered and deployed."""
    import time

    from cairn.app.project import Project
    from cairn.quickstart.example import create_example_project
    from cairn.quickstart.training_demo import write_example_config
    from cairn.training import TrainConfig, build_training_set, estimators, train

    root = create_example_project(project).path
    if mlflow_db is not None:
        (root / ".cairn").mkdir(exist_ok=True)
        shutil.copy(mlflow_db, root / ".cairn" / "mlflow.db")
    opened = Project.open(root)
    store = opened.features
    store.apply(opened.definitions())
    store.materialize_incremental(datetime.now(UTC))
    base = TrainConfig.from_yaml(write_example_config(root))
    data = build_training_set(base, store)
    numeric = [
        ref
        for ref in base.features
        if ref.partition(":")[2] in data.frame
        and data.frame[ref.partition(":")[2]].dtype.kind in "fiub"
    ]
    fitted: list[Any] = []
    out: dict[str, Family] = {}
    for family in FAMILIES:
        spec = model_spec(family, base.model)
        config = replace(base, model=spec, model_name=f"bench-{family}")
        if family == "sklearn-logistic":
            config = replace(config, features=numeric)
        fit = estimators.FITTERS[spec.kind]

        def keep(*a: Any, _fit: Any = fit, **k: Any) -> Any:
            fitted.append(_fit(*a, **k))
            return fitted[-1]

        estimators.FITTERS[spec.kind] = keep
        t0 = time.perf_counter()
        try:
            result = train(
                config,
                store,
                opened.tracker,
                author="bench",
                audit=opened.registry.audit,
                training_set=data if config.features == base.features else None,
            )
        finally:
            estimators.FITTERS[spec.kind] = fit
        if result.version is None:
            raise RuntimeError(f"{family}: training registered no version")
        short = [ref.partition(":")[2] for ref in config.features]
        out[family] = Family(
            family,
            config.model_name,
            result.version,
            fitted[-1],
            time.perf_counter() - t0,
            short,
        )
    body = "".join(
        DEPLOYMENT.format(
            family=f,
            version=m.version,
            immutable=", ".join(n for n in IMMUTABLE if n in m.features),
        )
        for f, m in out.items()
    )
    (root / "deployments.yaml").write_text("deployments:\n" + body)
    return Project.open(root), out


def latest_customers(project: Path, n: int) -> list[int]:
    """The customers of the ``n`` latest applications (distinct)."""
    import duckdb

    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT customer_id FROM (SELECT customer_id, max(event_timestamp) AS t "
            "FROM read_parquet(?) GROUP BY customer_id) ORDER BY t DESC, customer_id LIMIT ?",
            [str(project / "data" / "applications.parquet"), n],
        ).fetchall()
    return [int(r[0]) for r in rows]
