"""A scorecard logged as an MLflow model whose only content is its JSON points table.

The flavor ``cairn_scorecard`` stores ``scorecard.json`` next to ``MLmodel``: nothing in the
artifact executes when it is loaded (the trust model of the scorecard family).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cairn.tracking import _mlflow
from cairn.tracking.models import Column, LoggedModel, signature_of
from cairn.tracking.run import RunLogger

FLAVOR = "cairn_scorecard"
TABLE_FILE = "scorecard.json"


def save_model(
    path: str,
    mlflow_model: Any,
    *,
    table: dict[str, Any],
    signature: Any,
    pip_requirements: Sequence[str],
) -> None:
    """Write ``table`` as ``scorecard.json`` and the ``MLmodel`` file into ``path``
    (the ``flavor.save_model`` MLflow's ``Model.log`` calls)."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TABLE_FILE).write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    (folder / "requirements.txt").write_text("".join(f"{r}\n" for r in pip_requirements))
    mlflow_model.signature = signature
    mlflow_model.add_flavor(FLAVOR, data=TABLE_FILE, format=table.get("format"))
    mlflow_model.save(str(folder / "MLmodel"))


def log_scorecard(
    run: RunLogger,
    table: dict[str, Any],
    columns: Sequence[Column],
    pip_requirements: Sequence[str],
) -> LoggedModel:
    """Log ``table`` as the run's model (``model/scorecard.json``)."""

    def log() -> LoggedModel:
        mlflow = _mlflow.load()
        info = mlflow.models.Model.log(
            None,
            name="model",
            flavor=sys.modules[__name__],
            table=table,
            signature=signature_of(columns),
            pip_requirements=list(pip_requirements),
        )
        return LoggedModel(
            uri=str(info.model_uri),
            model_id=getattr(info, "model_id", None),
            flavor="scorecard",
            artifact_location=getattr(info, "artifact_path", None),
        )

    logged: LoggedModel = run.tracker.call("log the scorecard", log)
    return logged
