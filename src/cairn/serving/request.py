"""The body of ``POST /v1/features/online``: limits, parsing and shape checks.

Parsed by hand with orjson rather than a pydantic model: the checks are few, the messages can
name the exact input, and the hot path stays in the tens of microseconds. Join-key values are
checked by the feature reader, which knows each key's type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson

from cairn.serving.errors import ApiError
from cairn.serving.protocols import EntityRow

_KEYS = ("features", "entities", "full_feature_names")
MAX_JSON_DEPTH = 32
"""How deeply a request body may nest arrays and objects (no route needs more than 5)."""
_EXAMPLE = '{"features": ["view:feature"], "entities": [{"customer_id": 42}]}'


@dataclass(frozen=True)
class ServingLimits:
    """Upper bounds on one request.

    More entities or features than allowed is a 422 (the limits are part of the published
    schema, like any other constraint); a body over ``max_body_bytes`` is a 413, refused
    before it is read.

    Parameters
    ----------
    max_entities:
        Entity rows per request.
    max_features:
        Feature references per request.
    max_body_bytes:
        Size of the request body.

    Example
    -------
    >>> ServingLimits(max_entities=100).max_entities
    100
    """

    max_entities: int = 10_000
    max_features: int = 1_000
    max_body_bytes: int = 8 * 1024 * 1024


@dataclass(frozen=True)
class OnlineRequest:
    """A checked online-features request."""

    features: list[str]
    entity_rows: list[EntityRow]
    full_feature_names: bool = False


async def read_body(content_length: str | None, chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The whole body, refusing (413) one longer than ``limit`` bytes before buffering it."""
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise _too_large(int(content_length), limit)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        parts.append(chunk)
    return b"".join(parts)


def load_json(body: bytes, example: str = "") -> Any:
    """Parse a request body, refusing (422) invalid JSON and nesting deeper than
    :data:`MAX_JSON_DEPTH`, before any other code sees (or re-encodes) the value.

    Every route reads its body through this one function; numbers are JSON numbers only
    (``NaN``, ``Infinity`` and ``1e400`` are not JSON and are refused here).

    Example
    -------
    >>> load_json(b'{"a": [1, 2]}')
    {'a': [1, 2]}
    >>> try:
    ...     load_json(b"[" * 40 + b"]" * 40)
    ... except ApiError as exc:
    ...     print(exc.status_code, exc.message)
    422 The request body nests arrays and objects deeper than 32 levels; at most 32 are accepted.
    """
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        hint = f"; expected {example}" if example else ""
        raise _invalid(f"The request body is not valid JSON ({exc}){hint}.") from None
    # Fast path: fewer brackets than the limit cannot nest deeper than it.
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _too_deep(data, MAX_JSON_DEPTH):
        raise _invalid(
            f"The request body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels; "
            f"at most {MAX_JSON_DEPTH} are accepted."
        )
    return data


def _too_deep(value: Any, limit: int) -> bool:
    """Whether ``value`` nests containers more than ``limit`` levels (iterative: no recursion)."""
    if type(value) is not dict and type(value) is not list:
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if type(item) is dict else item
        for child in children:
            if type(child) is dict or type(child) is list:
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(
        413,
        "payload_too_large",
        f"The request body has {size} bytes or more; at most {limit} are accepted "
        f"(split the entities over several requests).",
    )


def parse_online_request(body: bytes, limits: ServingLimits) -> OnlineRequest:
    """Parse and check a JSON body; each problem is an :class:`ApiError` naming the field.

    ``entities`` is a list of objects (``[{"customer_id": 42}]``) or an object of equally
    long arrays (``{"customer_id": [42, 43]}``).

    Example
    -------
    >>> body = b'{"features": ["profile:income"], "entities": {"customer_id": [1, 2]}}'
    >>> parse_online_request(body, ServingLimits()).entity_rows
    [{'customer_id': 1}, {'customer_id': 2}]
    """
    data = load_json(body, f"an object like {_EXAMPLE}")
    if not isinstance(data, dict):
        raise _invalid(
            f"The request body must be a JSON object with 'features' and 'entities'; "
            f"got {_got(data)}."
        )
    unknown = [k for k in data if k not in _KEYS]
    if unknown:
        raise _invalid(
            f"Unknown field {unknown[0]!r} in the request body; allowed fields: {', '.join(_KEYS)}."
        )
    for key in ("features", "entities"):
        if key not in data:
            raise _invalid(
                f"The request body is missing {key!r}; expected an object like {_EXAMPLE}."
            )
    full = data.get("full_feature_names", False)
    if not isinstance(full, bool):
        raise _invalid(f"'full_feature_names' must be true or false; got {_got(full)}.")
    return OnlineRequest(_features(data["features"], limits), _rows(data["entities"], limits), full)


def _features(value: Any, limits: ServingLimits) -> list[str]:
    if not isinstance(value, list) or not value:
        raise _invalid(
            f"'features' must be a non-empty array of 'view:feature' strings; got {_got(value)}."
        )
    if len(value) > limits.max_features:
        raise ApiError(
            422,
            "too_many_features",
            f"'features' has {len(value)} references; at most "
            f"{limits.max_features} are accepted per request.",
        )
    for i, ref in enumerate(value):
        if not isinstance(ref, str):
            raise _invalid(f"features[{i}] must be a 'view:feature' string; got {_got(ref)}.")
    return value


def _rows(value: Any, limits: ServingLimits) -> list[EntityRow]:
    if isinstance(value, list):
        rows = value
        _check_count(len(rows), limits)
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise _invalid(
                    f"entities[{i}] must be an object of join keys like "
                    f'{{"customer_id": 42}}; got {_got(row)}.'
                )
        return rows
    if isinstance(value, dict):
        lengths: dict[str, int] = {}
        for key, column in value.items():
            if not isinstance(column, list):
                raise _invalid(
                    f"entities[{key!r}] must be an array of values (entities as an "
                    f"object of arrays); got {_got(column)}."
                )
            lengths[key] = len(column)
        if len(set(lengths.values())) > 1:
            raise _invalid(f"The arrays in 'entities' must have equal lengths; got {lengths}.")
        _check_count(next(iter(lengths.values()), 0), limits)
        names = list(value)
        return [dict(zip(names, row, strict=True)) for row in zip(*value.values(), strict=True)]
    raise _invalid(
        f"'entities' must be an array of objects ([{{\"customer_id\": 42}}]) or an "
        f'object of arrays ({{"customer_id": [42, 43]}}); got {_got(value)}.'
    )


def _check_count(n: int, limits: ServingLimits) -> None:
    if n > limits.max_entities:
        raise ApiError(
            422,
            "too_many_entities",
            f"'entities' has {n} rows; at most {limits.max_entities} are accepted per "
            f"request (split them over several requests).",
        )


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_request", message)


def _kind(value: Any) -> str:
    names = {
        dict: "an object",
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def _got(value: Any) -> str:
    """``a number 5``, ``an array [1,2]``, ``null``: what was received, shortened."""
    if value is None:
        return "null"
    try:
        text = orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):  # nested too deeply, or not JSON at all
        return f"{_kind(value)} (not shown: nested too deeply)"
    return f"{_kind(value)} {text if len(text) <= 60 else text[:57] + '...'}"
