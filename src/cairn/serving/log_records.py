"""The prediction and outcome logs' Parquet schemas, and records as flat rows of them.

Nested values (entity keys, the feature vector, reason codes) are JSON text, so one schema fits
every model; DuckDB reads them with ``json_extract`` (``features->>'income'``).
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

from cairn.core.predictions import Outcome, PredictionRecord

_TS = pa.timestamp("us", tz="UTC")

PREDICTION_SCHEMA = pa.schema(
    [
        ("prediction_id", pa.string()),
        ("time", _TS),
        ("deployment", pa.string()),
        ("strategy", pa.string()),
        ("arm", pa.string()),
        ("model_name", pa.string()),
        ("model_version", pa.string()),
        ("unit_id", pa.string()),
        ("entity", pa.string()),
        ("features", pa.string()),
        ("score", pa.float64()),
        ("decision", pa.string()),
        ("latency_ms", pa.float64()),
        ("reason_codes", pa.string()),
        ("explained", pa.bool_()),
        ("fallback", pa.string()),
        ("entity_unknown", pa.bool_()),
        ("seed", pa.string()),
        ("exposed", pa.bool_()),
        ("shadow", pa.bool_()),
        ("error", pa.string()),
        ("positive", pa.bool_()),
        ("request_ms", pa.float64()),
        ("rows_in_request", pa.int64()),
        ("model_ms", pa.float64()),
        ("feature_ms", pa.float64()),
        ("features_missing", pa.int64()),
        ("features_missing_names", pa.string()),
    ]
)
"""One row per prediction (DESIGN §3.4); ``fallback`` is null, ``defaults`` or ``rules``.

Shadow scores are extra rows under the primary's ``prediction_id`` with ``shadow`` true: a
reader looking up or counting predictions keeps ``NOT coalesce(shadow, false)``. ``exposed``
is false for A/B units outside coverage; ``error`` is set when the arm's model failed and the
control model answered (logs written before these columns read them as null). ``positive``
says ``decision`` is the deployment's positive one (``score >= threshold``: ``decline`` for
credit, ``follow_up`` for an outreach model), so a reader needs no decision names; rows logged
before it are null and are read with ``coalesce(positive, decision = 'decline')``
(:func:`cairn.core.predictions.positive_sql`); a referral (decision ``refer``) has it null.

``latency_ms`` is the row's own latency (its share of the request's feature read and model
time: ``feature_ms + model_ms``); ``request_ms`` is the whole request's wall time and
``rows_in_request`` its row count, so a batch's rows do not each carry the batch total.
``features_missing`` counts the model's features the row had no value for and
``features_missing_names`` (JSON text) names them. Rows logged before these columns read them
as null."""

OUTCOME_SCHEMA = pa.schema(
    [
        ("prediction_id", pa.string()),
        ("entity", pa.string()),
        ("event_time", _TS),
        ("deployment", pa.string()),
        ("label", pa.float64()),
        ("observed_at", _TS),
    ]
)
"""One row per label: by prediction id, or by entity + event time."""

_JSON = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_SORT_KEYS


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, option=_JSON).decode()


def prediction_row(record: PredictionRecord) -> dict[str, Any]:
    """A prediction as a row of :data:`PREDICTION_SCHEMA`."""
    return {
        "prediction_id": record.prediction_id,
        "time": record.time,
        "deployment": record.deployment,
        "strategy": record.strategy,
        "arm": record.arm,
        "model_name": record.model_name,
        "model_version": record.model_version,
        "unit_id": record.unit_id,
        "entity": _json(record.entity),
        "features": _json(record.features),
        "score": record.score,
        "decision": record.decision,
        "latency_ms": record.latency_ms,
        "reason_codes": _json([r.to_dict() for r in record.reason_codes]),
        "explained": record.explained,
        "fallback": record.fallback,
        "entity_unknown": record.entity_unknown,
        "seed": record.seed,
        "exposed": record.exposed,
        "shadow": record.shadow,
        "error": record.error,
        "positive": record.positive,
        "request_ms": record.request_ms,
        "rows_in_request": record.rows_in_request,
        "model_ms": record.model_ms,
        "feature_ms": record.feature_ms,
        "features_missing": record.features_missing,
        "features_missing_names": _json(record.features_missing_names),
    }


def outcome_row(outcome: Outcome) -> dict[str, Any]:
    """An outcome as a row of :data:`OUTCOME_SCHEMA`."""
    return {
        "prediction_id": outcome.prediction_id,
        "entity": _json(outcome.entity),
        "event_time": outcome.event_time,
        "deployment": outcome.deployment,
        "label": outcome.label,
        "observed_at": outcome.observed_at,
    }
