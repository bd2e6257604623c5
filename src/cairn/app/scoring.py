"""As-of scoring for replays and backtests: historical rows through the serving path.

:func:`score_history` scores entity rows as a deployment would have at each row's time: the
model its alias points at now (or a chosen version), loaded as serving loads it; features read
point-in-time from the OFFLINE store at each row's time (the training-set join, for the
references the served model reads); feature columns the rows carry themselves override the
store's values, as a request's features do; then the same decision, explanation policy and
reason codes as a live prediction (:func:`cairn.serving.replay.score_rows`). Nothing is
written to the prediction log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.core.deployments import Deployment
from cairn.core.errors import ConfigError, EntityDataFrameError
from cairn.explain import REASON_CODES_FILE, ReasonCodeBook

if TYPE_CHECKING:
    import pandas as pd

    from cairn.app.feature_store import FeatureStore
    from cairn.app.project import Project
    from cairn.serving.models import ModelLoader, ScoringModel

__all__ = [
    "COUNTERFACTUAL_COLUMN",
    "OUTPUT_COLUMNS",
    "read_entities",
    "reason_book",
    "reason_books",
    "score_history",
]

OUTPUT_COLUMNS = (
    "score",
    "decision",
    "reason_codes",
    "summary",
    "explained",
    "model_name",
    "model_version",
    "features_missing",
    "features",
)
"""The columns :func:`score_history` adds after the entity rows' own."""
COUNTERFACTUAL_COLUMN = "counterfactual"
"""The column ``counterfactuals=True`` (``cairn score --counterfactuals``) adds."""


def reason_book(root: Path, dep: Deployment) -> ReasonCodeBook | None:
    """The reason-code book of deployment ``dep`` (its ``reason_codes`` file, else the
    project's ``reason_codes.yaml`` when there is one; None: features named generically)."""
    path = root / (dep.reason_codes or REASON_CODES_FILE)
    if dep.reason_codes is not None or path.is_file():
        return ReasonCodeBook.from_yaml(path)
    return None


def reason_books(root: Path, deployments: Mapping[str, Deployment]) -> dict[str, ReasonCodeBook]:
    """Deployment name -> its reason-code book, for the deployments that have one."""
    books = {name: reason_book(root, dep) for name, dep in deployments.items()}
    return {name: book for name, book in books.items() if book is not None}


def read_entities(store: FeatureStore, entities: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Entity rows as a DataFrame: given as one, a Parquet/CSV file, or SQL over the applied
    sources (each visible as a table named after it)."""
    import pandas as pd

    from cairn.offline.entities import is_sql

    if isinstance(entities, pd.DataFrame):
        return entities.reset_index(drop=True)
    text = str(entities)
    if isinstance(entities, str) and is_sql(text):
        frame: pd.DataFrame = store.offline.query(text, store.list_sources()).to_pandas()
        return frame
    path = Path(text).expanduser()
    if not path.is_absolute() and not path.exists():
        path = store.root / path
    if not path.exists():
        raise EntityDataFrameError(
            f"--entities {text!r} is neither an existing Parquet/CSV file nor a SQL query "
            f"(SELECT ... FROM <source name>)."
        )
    if path.suffix.lower() in (".csv", ".tsv"):
        from cairn.offline.csv_reader import read_csv  # empty fields are null, as everywhere

        read: pd.DataFrame = read_csv(path).to_pandas()
        return read
    return pd.read_parquet(path)


def score_history(
    project: Project,
    deployment: str,
    entities: str | Path | pd.DataFrame,
    *,
    at_column: str = "event_timestamp",
    model: str | None = None,
    loader: ModelLoader | None = None,
    counterfactuals: bool = False,
) -> pd.DataFrame:
    """Score historical rows as deployment ``deployment`` would have answered at their times.

    Parameters
    ----------
    project:
        The project (its deployments, registry, feature store).
    deployment:
        The deployment to replay (``deployments.yaml``).
    entities:
        The rows: a DataFrame, a Parquet/CSV file, or SQL over the applied sources. They hold
        the join keys of the model's feature views and ``at_column``; a column named like a
        model input overrides the store's value for every row, as a request's feature does.
    at_column:
        The timezone-aware time of each row: features are read as they were known then.
    model:
        ``NAME/VERSION``, ``NAME@ALIAS`` or a bare version of the deployment's model (default:
        the deployment's model as its alias resolves now).
    loader:
        Loads the model (default: from the project's registry, as ``cairn serve`` does).
    counterfactuals:
        Add a :data:`COUNTERFACTUAL_COLUMN` column: per unfavorable decision, the JSON of its
        counterfactual (as ``GET /v1/explanations/{id}/counterfactual`` answers it), empty for
        favorable decisions and referrals.

    Returns
    -------
    pandas.DataFrame
        The entity rows as given (same order, same columns) plus :data:`OUTPUT_COLUMNS`;
        ``reason_codes`` is the JSON list of the row's codes (empty unless explained),
        ``features`` the JSON object of the values scored (model input -> value, as the
        prediction log keeps them).
    """
    from cairn.serving.replay import score_rows

    dep = project.deployment(deployment)
    store = project.features
    frame = read_entities(store, entities)
    outputs = (*OUTPUT_COLUMNS, COUNTERFACTUAL_COLUMN) if counterfactuals else OUTPUT_COLUMNS
    clash = [c for c in outputs if c in frame.columns]
    if clash:
        raise EntityDataFrameError(
            f"The entity rows have a column named {clash[0]!r}, which the scores are written "
            f"as; rename it (output columns: {', '.join(outputs)})."
        )
    at = _at_times(frame, at_column)
    scoring = _load_model(project, dep, model, loader)
    supplied = [f for f in scoring.features if f in frame.columns]
    refs = [
        r
        for f, r in zip(scoring.features, scoring.refs, strict=True)
        if r is not None and f not in supplied
    ]
    values = _point_in_time(store, frame, at, refs)
    known = _known(store, refs, values, len(frame))
    for f in supplied:
        values[f] = _python(frame[f])
    names = list(values)
    rows = [{f: values[f][i] for f in names} for i in range(len(frame))]
    replayed = score_rows(dep, scoring, rows, reason_book(project.root, dep), known=known)
    out = frame.copy()
    out["score"] = [r.score for r in replayed]
    out["decision"] = [r.decision for r in replayed]
    out["reason_codes"] = [
        json.dumps([c.to_dict() for c in r.reason_codes], default=str) for r in replayed
    ]
    out["summary"] = [r.summary for r in replayed]
    out["explained"] = [r.explained for r in replayed]
    out["model_name"] = scoring.name
    out["model_version"] = scoring.version
    out["features_missing"] = [r.features_missing for r in replayed]
    out["features"] = [
        json.dumps({f: row.get(f) for f in scoring.features}, default=str) for row in rows
    ]
    if counterfactuals:
        out[COUNTERFACTUAL_COLUMN] = _counterfactuals(dep, scoring, rows, out["decision"])
    return out


def _counterfactuals(
    dep: Deployment, model: ScoringModel, rows: list[dict[str, Any]], decisions: Any
) -> list[str]:
    """Per row, the JSON of its counterfactual (empty unless the decision is unfavorable)."""
    from cairn.serving.counterfactuals import counterfactual_of, unfavorable

    names = (dep.decision.positive, dep.decision.negative)
    out = []
    for row, decision in zip(rows, decisions, strict=True):
        if not unfavorable(dep, str(decision)):
            out.append("")
            continue
        cf = counterfactual_of(dep, model, row)
        out.append("" if cf is None else json.dumps(cf.to_dict(*names), default=str))
    return out


def _load_model(
    project: Project, dep: Deployment, ref: str | None, loader: ModelLoader | None
) -> ScoringModel:
    from cairn.app.model_loader import RegistryModelLoader

    name = dep.model.split("@")[0].split("/")[0]
    chosen = ref or dep.model
    if "@" not in chosen and "/" not in chosen:
        chosen = f"{name}/{chosen}"  # a bare version of the deployment's model
    models = loader or RegistryModelLoader(project.tracker, project.registry)
    return models.load(chosen, models.resolve(chosen))


def _at_times(frame: pd.DataFrame, at_column: str) -> pd.Series[Any]:
    """The rows' times as a timezone-aware (UTC) column; bad input is one ConfigError."""
    import pandas as pd

    if at_column not in frame.columns:
        raise ConfigError(
            f"--at-column {at_column!r} is not a column of the entity rows; their columns: "
            f"{', '.join(map(str, frame.columns))}."
        )
    column = frame[at_column]
    if not isinstance(column.dtype, pd.DatetimeTZDtype):
        if pd.api.types.is_datetime64_dtype(column.dtype):
            raise ConfigError(
                f"--at-column {at_column!r} holds naive times ({column.dtype}); expected "
                f"timezone-aware times such as 2026-03-01T00:00:00Z."
            )
        try:
            column = pd.to_datetime(column, format="ISO8601")
        except (ValueError, TypeError):
            raise ConfigError(
                f"--at-column {at_column!r} must hold timezone-aware times; got values like "
                f"{frame[at_column].iloc[0]!r} ({frame[at_column].dtype})."
            ) from None
        if not isinstance(column.dtype, pd.DatetimeTZDtype):
            raise ConfigError(
                f"--at-column {at_column!r} holds naive times (e.g. "
                f"{frame[at_column].iloc[0]!r}); expected times with a zone such as "
                f"2026-03-01T00:00:00Z."
            )
    if column.isna().any():
        raise ConfigError(
            f"--at-column {at_column!r} has {int(column.isna().sum())} empty time(s); every "
            f"row needs the time it is scored at."
        )
    utc: pd.Series[Any] = column.dt.tz_convert("UTC")
    return utc


def _point_in_time(
    store: FeatureStore, frame: pd.DataFrame, at: pd.Series[Any], refs: list[str]
) -> dict[str, list[Any]]:
    """Feature name -> value per row, as the offline store knew it at each row's time."""
    import pandas as pd

    from cairn.offline.entities import TIME_COLUMN

    if not refs or frame.empty:
        return {r.split(":", 1)[1]: [None] * len(frame) for r in refs}
    views = store.applied_views()
    keys: list[str] = []
    for ref in refs:
        view = ref.split(":", 1)[0]
        if view not in views:
            raise ConfigError(
                f"The model reads {ref!r}, but no feature view {view!r} is applied; run "
                f"`cairn apply` first."
            )
        keys += [k for k in views[view].view.join_keys if k not in keys]
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise EntityDataFrameError(
            f"The entity rows lack the join key(s) {', '.join(map(repr, missing))} of the "
            f"model's feature views; their columns: {', '.join(map(str, frame.columns))}."
        )
    rows = pd.DataFrame({k: frame[k] for k in keys})
    rows[TIME_COLUMN] = at.reset_index(drop=True)
    joined = store.get_historical_features(rows, refs).to_df()
    return {r.split(":", 1)[1]: _python(joined[r.split(":", 1)[1]]) for r in refs}


def _known(
    store: FeatureStore, refs: list[str], values: dict[str, list[Any]], n: int
) -> list[bool]:
    """Whether the offline store knew each row's entity at its time, as an online read's
    ``found`` says: a snapshot view had a row with a value, or a windowed view saw an event
    (a non-zero aggregate). With no feature read from the store every entity counts as known.
    """
    if not refs:
        return [True] * n
    views = store.applied_views()
    known = [False] * n
    for ref in refs:
        view, name = ref.split(":", 1)
        windowed = bool(views[view].view.aggregations)
        for i, v in enumerate(values[name]):
            if v is not None and not (windowed and v == 0):
                known[i] = True
    return known


def _python(column: pd.Series[Any]) -> list[Any]:
    """A column's values as plain Python (numbers, strings), missing values as None."""
    import pandas as pd

    return [None if _absent(v, pd) else v for v in column.astype(object).tolist()]


def _absent(value: Any, pd: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or array value is never "missing"
        return False
