"""OpenAPI descriptions of the predict, outcome and explanation bodies."""

from __future__ import annotations

from typing import Any

from cairn.serving.schemas import JoinKeyValue

_SCALAR: dict[str, Any] = {"type": ["number", "string", "boolean", "null"]}

PREDICT_ROW: dict[str, Any] = {
    "type": "object",
    "required": ["entities"],
    "additionalProperties": False,
    "properties": {
        "entities": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": JoinKeyValue,
            "description": 'Join keys of the entity, e.g. {"customer_id": 42}.',
        },
        "features": {
            "type": "object",
            "additionalProperties": _SCALAR,
            "description": "Request-time values of model inputs (override the online store).",
        },
        "unit_id": {  # null is the same as leaving it out
            "type": ["string", "null"],
            "minLength": 1,
            "maxLength": 128,
        },
    },
    "example": {"entities": {"customer_id": 42}},
}


def predict_batch_request(max_rows: int) -> dict[str, Any]:
    """The batch body under a row limit."""
    return {
        "type": "object",
        "required": ["rows"],
        "additionalProperties": False,
        "properties": {
            "rows": {"type": "array", "minItems": 1, "maxItems": max_rows, "items": PREDICT_ROW}
        },
    }


REASON_CODE: dict[str, Any] = {
    "type": "object",
    "properties": {
        "feature": {"type": "string"},
        "direction": {"type": "string", "enum": ["high", "low", "missing", "category"]},
        "contribution": {"type": "number"},
        "value": {},
        "code": {"type": "string"},
        "text": {"type": "string"},
    },
}

SAMPLED_REASON_CODE: dict[str, Any] = {
    "type": "object",
    "properties": {
        **REASON_CODE["properties"],
        "standard_error": {
            "type": ["number", "null"],
            "description": "Sampled explanations only: the standard error of the contribution.",
        },
    },
}

DECISION: dict[str, Any] = {
    "type": "string",
    "description": "One of the two decisions the deployment declares in deployments.yaml: its "
    "positive decision when score >= threshold, else its negative one (credit: decline / "
    "approve; an outreach model: e.g. follow_up / skip). GET /v1/deployments lists each "
    "deployment's decisions.",
    "examples": ["decline", "approve", "follow_up", "skip"],
}

PREDICTION: dict[str, Any] = {
    "type": "object",
    "required": [
        "prediction_id",
        "deployment",
        "model",
        "score",
        "decision",
        "reason_codes",
        "flags",
    ],
    "properties": {
        "prediction_id": {"type": "string"},
        "deployment": {"type": "string"},
        "model": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
        },
        "score": {"type": "number"},
        "decision": DECISION,
        "reason_codes": {
            "type": "array",
            "items": REASON_CODE,
            "description": "The factors that pushed the score up, toward the positive decision, "
            "largest first; empty when the deployment's explain setting does not explain this "
            "decision (GET /v1/explanations/{prediction_id} computes them on demand).",
        },
        "summary": {"type": "string"},
        "latency_ms": {
            "type": "number",
            "description": "Per-row latency: this row's share of the request's feature read "
            "and model time (a batch's times divided by its rows).",
        },
        "request_ms": {
            "type": ["number", "null"],
            "description": "The whole request's wall time (every row of a batch: the same).",
        },
        "rows_in_request": {"type": ["integer", "null"]},
        "features_missing": {
            "type": "integer",
            "description": "How many of the model's features had no value for this row.",
        },
        "features_missing_names": {"type": "array", "items": {"type": "string"}},
        "flags": {
            "type": "object",
            "properties": {
                "fallback": {"type": "boolean"},
                "fallback_kind": {"type": ["string", "null"]},
                "entity_unknown": {"type": "boolean"},
            },
        },
    },
}

PREDICTION_BATCH: dict[str, Any] = {
    "type": "object",
    "required": ["predictions"],
    "properties": {"predictions": {"type": "array", "items": PREDICTION}},
}

EXPLANATION: dict[str, Any] = {
    "type": "object",
    "required": ["prediction_id", "reason_codes", "summary"],
    "properties": {
        "prediction_id": {"type": "string"},
        "deployment": {"type": "string"},
        "model": {"type": "object"},
        "score": {"type": "number"},
        "decision": DECISION,
        "reason_codes": {"type": "array", "items": SAMPLED_REASON_CODE},
        "summary": {"type": "string"},
        "computed": {"type": "boolean"},
        "method": {
            "type": ["string", "null"],
            "description": "How the contributions were computed: treeshap, linear, points "
            "(exact) or sampling (estimates with a standard error); null when the model that "
            "scored is not loaded.",
        },
        "sampling": {
            "type": ["object", "null"],
            "description": "For method sampling: the budget (permutations), seed and "
            "background (training sample or reference row, and its rows) used.",
            "properties": {
                "permutations": {"type": "integer"},
                "seed": {"type": "integer"},
                "background": {"type": ["string", "null"]},
                "background_rows": {"type": ["integer", "null"]},
            },
        },
    },
}

COUNTERFACTUAL: dict[str, Any] = {
    "type": "object",
    "required": ["prediction_id", "deployment", "decision", "threshold", "counterfactual"],
    "properties": {
        "prediction_id": {"type": "string"},
        "deployment": {"type": "string"},
        "model": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
        },
        "score": {"type": "number"},
        "decision": DECISION,
        "threshold": {"type": "number"},
        "counterfactual": {
            "type": "object",
            "required": ["found", "changes", "method", "elapsed_ms"],
            "properties": {
                "found": {"type": "boolean"},
                "changes": {
                    "type": "array",
                    "description": "The features to change, fewest first: a category's new "
                    "level by name; from is null for a value that was missing.",
                    "items": {
                        "type": "object",
                        "required": ["feature", "from", "to"],
                        "properties": {"feature": {"type": "string"}, "from": {}, "to": {}},
                    },
                },
                "score": {"type": ["number", "null"]},
                "decision": {"type": ["string", "null"]},
                "method": {"type": "string", "enum": ["exact", "search"]},
                "distance": {
                    "type": ["number", "null"],
                    "description": "Sum of |change| / the feature's interquartile range per "
                    "numeric feature, 1 per categorical (or filled-in) one.",
                },
                "elapsed_ms": {"type": "number"},
                "reason": {
                    "type": ["string", "null"],
                    "description": "Why none was found: no feasible change flips the decision "
                    "(exact), or none within the time budget (search).",
                },
            },
        },
    },
}

_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def outcomes_request(max_rows: int) -> dict[str, Any]:
    """The outcomes body under a row limit."""
    row = {
        "type": "object",
        "required": ["label"],
        "additionalProperties": False,
        "properties": {  # null is the same as leaving a field out (file rows have nulls)
            "prediction_id": _nullable({"type": "string", "minLength": 1}),
            "entities": _nullable(
                {"type": "object", "minProperties": 1, "additionalProperties": JoinKeyValue}
            ),
            "event_time": _nullable(_TIME),
            "observed_at": _nullable(_TIME),
            "label": {
                "type": ["number", "boolean"],
                "description": "The observed outcome: a number, or true/false for 1/0.",
            },
            "deployment": _nullable({"type": "string"}),
        },
    }
    return {
        "type": "object",
        "required": ["outcomes"],
        "additionalProperties": False,
        "properties": {
            "outcomes": {"type": "array", "minItems": 1, "maxItems": max_rows, "items": row}
        },
        "example": {"outcomes": [{"prediction_id": "9f1c...", "label": 1}]},
    }


OUTCOMES_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["accepted"],
    "properties": {"accepted": {"type": "integer"}},
}
