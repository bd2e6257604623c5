"""The HTTP API page, generated from the OpenAPI document of a fully wired server.

The app is built offline with :func:`cairn.serving.create_app` and every router mounted (online
features, predict, explanations, outcomes, deployments, rollout admin, probes): the routes and
their schemas do not depend on which models are loaded, so no project, model or network is
needed. ``cairn serve`` publishes the same document at ``GET /openapi.json``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from _md import cell, code, table
from _schema import fields, resolve, schema_type

INTRO = """\
# HTTP API

`cairn serve` answers these routes (generated from the server's OpenAPI document, which a
running server also publishes at `GET /openapi.json`). Bodies are JSON. The predict, explanation,
outcome and deployment routes exist when the project has a `deployments.yaml`; the rollout
admin routes need an admin token (below).

## Errors

Every error has one shape, whatever the route:

```json
{"error": {"type": "unknown_feature", "message": "Unknown feature 'customer_profile:incme'; ..."}}
```

`type` is a stable machine-readable word, `message` one human sentence naming the input, what
was expected and what was received.

| status | when |
|---|---|
| 401 | an admin route without a bearer token, or with an unknown one |
| 403 | the token's role is too low, or admin is not configured |
| 404 | unknown deployment, rollout or prediction id |
| 409 | governance refused (a version nobody else approved), or the rollout's state forbids it |
| 413 | the body is larger than `serving.max_body_bytes` (refused before it is read) |
| 422 | bad input: malformed JSON, unknown field or feature, bad join key, too many rows |
| 503 | the online store is unreachable or slower than the budget and no fallback is configured |

Bad input never produces a 500.

## Admin authentication

Rollout admin routes take `Authorization: Bearer TOKEN`. Tokens carry a role, each including
the ones before it: **viewer** (read rollouts) < **deployer** (create, change, switch, roll
back, reload) < **approver** (promote). Configure them with
`CAIRN_ADMIN_TOKENS="viewer:TOKEN,deployer:ana:TOKEN,approver:carla:TOKEN"` (the optional middle
part names the holder in the audit log), or `CAIRN_ADMIN_TOKEN` for one token with every role.

## Routes

"""


def openapi() -> dict[str, Any]:
    """The OpenAPI document of an app with every router mounted."""
    from cairn.serving import create_app
    from cairn.serving.log_records import OUTCOME_SCHEMA, PREDICTION_SCHEMA
    from cairn.serving.prediction_log import SegmentLog
    from cairn.serving.predictor import Predictor

    def reader(features: list[str], rows: list[dict[str, Any]], full: bool) -> dict[str, Any]:
        return {}

    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        log = SegmentLog(state / "predictions", PREDICTION_SCHEMA)
        predictor = Predictor({}, None, reader, log)  # type: ignore[arg-type]
        outcomes = SegmentLog(state / "outcomes", OUTCOME_SCHEMA)
        app = create_app(
            reader, predictor=predictor, outcomes=outcomes, rollouts=object(), admin_token="x"
        )  # type: ignore[arg-type]
        document: dict[str, Any] = app.openapi()
    return document


def _body(schema: Any, document: dict[str, Any]) -> str:
    schema = resolve(schema, document)
    rows = fields(schema, document)
    parts = []
    if rows:
        parts.append(table(["field", "type", "required", "what"], rows))
    elif isinstance(schema, dict):
        parts.append(f"A JSON {schema_type(schema, document)}.\n")
    example = schema.get("example") if isinstance(schema, dict) else None
    if example is not None:
        parts.append(f"Example:\n\n```json\n{json.dumps(example, indent=2)}\n```\n")
    return "\n".join(parts)


def _operation(path: str, method: str, op: dict[str, Any], document: dict[str, Any]) -> str:
    parts = [f"### `{method.upper()} {path}`\n", f"**{op.get('summary', '')}.**"]
    if op.get("description"):
        parts.append(" ".join(op["description"].split()))
    parameters = op.get("parameters") or []
    if parameters:
        rows = [
            [
                code(p["name"]),
                p.get("in", ""),
                code(schema_type(p.get("schema", {}), document)),
                cell(p.get("description", "")),
            ]
            for p in parameters
        ]
        parts.append(table(["parameter", "in", "type", "what"], rows))
    body = op.get("requestBody")
    if body:
        for media, content in (body.get("content") or {}).items():
            parts.append(f"Request body (`{media}`):\n")
            parts.append(_body(content.get("schema", {}), document))
    for status, response in (op.get("responses") or {}).items():
        description = " ".join(response.get("description", "").split())
        if status.startswith("2"):
            parts.append(f"Response **{status}**: {description}\n")
            for content in (response.get("content") or {}).values():
                parts.append(_body(content.get("schema", {}), document))
    errors = [s for s in (op.get("responses") or {}) if not s.startswith("2")]
    if errors:
        parts.append("Errors: " + ", ".join(errors) + " (the error shape above).")
    return "\n\n".join(p.rstrip("\n") for p in parts if p) + "\n\n"


def render() -> str:
    """The whole HTTP API page."""
    document = openapi()
    parts = [INTRO]
    for path, operations in document["paths"].items():
        for method, op in operations.items():
            parts.append(_operation(path, method, op, document))
    return "".join(parts)
