"""OpenAPI descriptions of the bodies the hand-parsed routes accept and return."""

from __future__ import annotations

from typing import Any

from cairn.serving.request import ServingLimits

JoinKeyValue: dict[str, Any] = {"type": ["integer", "string"]}

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "message"],
            "properties": {
                "type": {"type": "string", "examples": ["unknown_feature"]},
                "message": {"type": "string"},
            },
        }
    },
}

ONLINE_FEATURES_RESPONSE: dict[str, Any] = {
    "type": "object",
    "required": ["features", "found", "latency_ms"],
    "properties": {
        "features": {
            "type": "object",
            "description": "Column name -> one value per entity: the join keys, then each "
            "requested feature (null where nothing is visible).",
            "additionalProperties": {"type": "array"},
        },
        "found": {
            "type": "array",
            "items": {"type": "boolean"},
            "description": "Per entity: whether any requested view had a stored value.",
        },
        "latency_ms": {"type": "number", "description": "Time spent reading features."},
    },
    "example": {
        "features": {"customer_id": [42], "income": [52000.0], "amount_sum_24h": [130.5]},
        "found": [True],
        "latency_ms": 0.08,
    },
}


def online_features_request(limits: ServingLimits) -> dict[str, Any]:
    """The JSON schema of ``POST /v1/features/online``'s body under ``limits``."""
    return {
        "type": "object",
        "required": ["features", "entities"],
        "additionalProperties": False,
        "properties": {
            "features": {
                "type": "array",
                "minItems": 1,
                "maxItems": limits.max_features,
                "items": {"type": "string", "pattern": "^[^:]+:.+$"},
                "description": "'view:feature' references.",
            },
            "entities": {
                "description": "Entity rows as a list of objects, or an object of equally long "
                "arrays; at most max_entities rows.",
                "oneOf": [
                    {
                        "type": "array",
                        "maxItems": limits.max_entities,
                        "items": {"type": "object", "additionalProperties": JoinKeyValue},
                    },
                    {
                        "type": "object",
                        "additionalProperties": {
                            "type": "array",
                            "maxItems": limits.max_entities,
                            "items": JoinKeyValue,
                        },
                    },
                ],
            },
            "full_feature_names": {
                "type": "boolean",
                "default": False,
                "description": "Name feature columns view__feature instead of feature.",
            },
        },
        "example": {
            "features": ["customer_profile:income", "txn_stats:amount_sum_24h"],
            "entities": [{"customer_id": 42}],
        },
    }


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for error statuses, all with the error envelope."""
    text = {
        413: "The body is larger than the server accepts.",
        422: "Bad input: unknown feature, missing or mistyped join key, malformed body, "
        "too many entities or features.",
        503: "The online store is unreachable.",
    }
    return {
        c: {
            "description": text.get(c, "Error."),
            "content": {"application/json": {"schema": ERROR}},
        }
        for c in codes
    }
