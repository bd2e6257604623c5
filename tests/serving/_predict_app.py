"""An app with the predict path over the serving test project and the tiny model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from cairn.core.deployments import Deployment
from cairn.explain import ReasonCodeBook, write_example_reason_codes
from cairn.serving import ServingLimits, create_app
from cairn.serving.log_records import OUTCOME_SCHEMA, PREDICTION_SCHEMA
from cairn.serving.prediction_log import SegmentLog
from cairn.serving.predictor import Predictor
from cairn.serving.protocols import FeatureReader
from tests.serving._models import FakeLoader

REF = "credit-default@champion"


def predict_app(
    state: Path,
    reader: FeatureReader,
    loader: FakeLoader,
    *,
    deployments: dict[str, Any] | None = None,
    admin_token: str | None = None,
    offload: bool = False,
    limits: ServingLimits | None = None,
) -> tuple[FastAPI, Predictor]:
    """The app and its predictor; logs under ``state``."""
    specs = deployments or {"credit": {"model": REF, "threshold": 0.5}}
    deps = {name: Deployment.from_dict(name, spec) for name, spec in specs.items()}
    book = ReasonCodeBook.from_yaml(write_example_reason_codes(state))
    predictor = Predictor(
        deps,
        loader,
        reader,
        SegmentLog(state / "predictions", PREDICTION_SCHEMA, flush_ms=50),
        books=dict.fromkeys(deps, book),
        offload=offload,
    )
    predictor.refresh()
    outcomes = SegmentLog(state / "outcomes", OUTCOME_SCHEMA, flush_ms=50)
    app = create_app(
        reader, predictor=predictor, outcomes=outcomes, admin_token=admin_token, limits=limits
    )
    return app, predictor


def store_reader(
    store: Any,
) -> Callable[[list[str], list[dict[str, Any]], bool], dict[str, list[Any]]]:
    """The reader ``cairn serve`` wires over a FeatureStore."""

    def read(features: list[str], rows: list[dict[str, Any]], full: bool) -> dict[str, list[Any]]:
        result: dict[str, list[Any]] = store.get_online_features(features, rows, full).to_dict()
        return result

    return read
