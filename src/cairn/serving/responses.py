"""JSON responses serialized with orjson (the hot path avoids FastAPI's encoders)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def json_response(
    payload: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A ``application/json`` response; datetimes become RFC 3339 strings and NaN ``null``.

    Example
    -------
    >>> json_response({"status": "ok"}).body
    b'{"status":"ok"}'
    """
    return Response(
        orjson.dumps(payload, option=_OPTIONS),
        status_code,
        headers=dict(headers) if headers else None,
        media_type="application/json",
    )
