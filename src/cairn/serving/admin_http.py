"""The HTTP pieces the admin (rollout) and governance routes share: OpenAPI fragments for their
JSON bodies and answers, the one JSON-object body parser with its field checks, and the call
into a service off the event loop with its errors mapped to 4xx by family.

One place, so the two routers cannot drift apart in what they accept or how they refuse.

Example
-------
>>> json_body_schema({"reason": {"type": "string"}}, ["reason"])["requestBody"]["required"]
True
>>> text_field("r", "reason")
'r'
>>> text_field(5, "reason")
Traceback (most recent call last):
...
cairn.serving.errors.ApiError: reason must be a string; got 5.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from cairn.auth.principal import AccessDeniedError, AuthenticationError
from cairn.core.deployments import UnknownDeploymentError
from cairn.rollouts.store import ConflictError
from cairn.serving.errors import ApiError
from cairn.serving.request import load_json, read_body

MAX_BODY = 64 * 1024
"""Largest admin or governance body, in bytes (larger: 413 before it is read)."""


def ok_response(text: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``200`` answer: a JSON object described by ``text``."""
    schema = {"type": "object"}
    return {200: {"description": text, "content": {"application/json": {"schema": schema}}}}


def json_body_schema(
    properties: dict[str, Any], required: list[str] | None = None
) -> dict[str, Any]:
    """The OpenAPI request body: a JSON object of ``properties`` (optional unless required)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": bool(required), "content": content}}


async def json_object_body(request: Request) -> dict[str, Any]:
    """The body as a JSON object (an empty body is ``{}``); anything else is a 422/413."""
    raw = await read_body(request.headers.get("content-length"), request.stream(), MAX_BODY)
    if not raw.strip():
        return {}
    data = load_json(raw)
    if not isinstance(data, dict):
        raise _invalid(f"The request body must be a JSON object; got {type(data).__name__}.")
    return data


async def body_fields(
    request: Request, allowed: Collection[str], *, required: Collection[str] = ()
) -> dict[str, Any]:
    """The JSON-object body, refusing unknown fields and missing required ones by name."""
    body = await json_object_body(request)
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise _invalid(
            f"Unknown field {unknown[0]!r}; {request.url.path} accepts "
            f"{', '.join(sorted(allowed))}."
        )
    missing = sorted(k for k in required if body.get(k) in (None, ""))
    if missing:
        raise _invalid(f"{request.url.path} needs {', '.join(missing)} in the JSON body.")
    return body


def text_field(value: Any, name: str) -> str:
    """``value`` if it is a string, else a 422 naming the field."""
    if not isinstance(value, str):
        raise _invalid(f"{name} must be a string; got {value!r}.")
    return value


def optional_text(body: dict[str, Any], name: str) -> str | None:
    """``body[name]`` as a string, or None when absent or null."""
    value = body.get(name)
    return None if value is None else text_field(value, name)


def bool_field(value: Any, name: str) -> bool:
    """``value`` if it is a JSON boolean, else a 422 naming the field."""
    if not isinstance(value, bool):
        raise _invalid(f"{name} must be true or false; got {value!r}.")
    return value


def int_field(value: Any, name: str) -> int:
    """``value`` as an integer (a JSON integer or a string of digits), else a 422."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise _invalid(f"{name} must be an integer; got {value!r}.")


async def call_service(
    fn: Callable[..., Any],
    *args: Any,
    unknown: tuple[int, str] = (404, "not_found"),
    invalid: str = "invalid_request",
    **kwargs: Any,
) -> Any:
    """Call ``fn`` off the event loop; its errors become 4xx by their built-in family.

    ``unknown`` is the answer to a :class:`LookupError` that is not an unknown deployment:
    an unknown model in a rollout body is bad input (422), an unknown version or token in a
    governance path is not found (404). ``invalid`` is the error type of a
    :class:`ValueError` (422).
    """
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except ApiError:
        raise
    except ConflictError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    except UnknownDeploymentError as exc:
        raise ApiError(404, "unknown_deployment", str(exc)) from None
    except AuthenticationError as exc:
        raise ApiError(401, "unauthorized", str(exc)) from None
    except AccessDeniedError as exc:
        raise ApiError(403, "forbidden", str(exc)) from None
    except PermissionError as exc:  # a governance rule refused (audited by the registry)
        raise ApiError(409, "governance", str(exc)) from None
    except LookupError as exc:
        raise ApiError(unknown[0], unknown[1], str(exc).strip("'\"")) from None
    except ValueError as exc:
        raise ApiError(422, invalid, str(exc)) from None


def _invalid(message: str) -> ApiError:
    return ApiError(422, "invalid_request", message)
