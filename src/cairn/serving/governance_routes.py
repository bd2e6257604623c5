"""HTTP routes of model governance and authentication, behind bearer tokens with roles.

=====================================================  ========  ===============================
Route                                                  Role      Does
=====================================================  ========  ===============================
``GET  /v1/auth/whoami``                               viewer    the principal of the token
``GET  /v1/auth/tokens``                               admin     the project's API tokens
``POST /v1/auth/tokens``                               admin     create one (secret shown once)
``POST /v1/auth/tokens/{id}/revoke``                   admin     revoke one (its holder too)
``GET  /v1/models/{name}``                             viewer    versions, reviews, alias history
``GET  /v1/models/{name}/policy``                      viewer    the promotion policy
``POST /v1/models/{name}/policy``                      admin     change it (audited, a reason)
``POST /v1/models/{name}/versions/{v}/approve``        approver  record an approval
``POST /v1/models/{name}/versions/{v}/reject``         approver  record a rejection
``POST /v1/models/{name}/versions/{v}/promote``        deployer  move an alias (champion default)
``POST /v1/models/{name}/aliases/{alias}``             deployer  point an alias at a version
``POST /v1/models/{name}/aliases/{alias}/remove``      deployer  remove a challenger/fallback
``GET  /v1/audit``                                     viewer    audit entries (subject, limit)
=====================================================  ========  ===============================

Bodies are JSON objects; every error is ``{"error": {"type", "message"}}``: no credential or
one that proves nobody 401, a role too low 403, an unknown model, version or token 404, a
governance rule that refuses (four eyes, separation of duties, a stale review) 409, a malformed
body 422. The routes call an injected :class:`Governance` (``cairn.app`` hands in the project's
registry, audit log and token store); serving never imports the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from cairn.auth.principal import Principal, Role
from cairn.serving.admin import AdminTokens
from cairn.serving.admin_http import (
    body_fields,
    bool_field,
    call_service,
    int_field,
    json_body_schema,
    ok_response,
    optional_text,
    text_field,
)
from cairn.serving.responses import json_response
from cairn.serving.schemas import error_responses

__all__ = ["Governance", "governance_router"]

Endpoint = Callable[..., Coroutine[Any, Any, Response]]
Route = Callable[[Endpoint], Endpoint]


class Governance(Protocol):
    """What the routes call: the project's registry, audit log and API tokens."""

    @property
    def registry(self) -> Any:
        """A :class:`cairn.registry.models.ModelRegistry`."""
        ...

    @property
    def audit(self) -> Any:
        """A :class:`cairn.registry.AuditLog`."""
        ...

    @property
    def tokens(self) -> Any:
        """A :class:`cairn.auth.TokenStore`."""
        ...


_S = {"type": "string"}
_READ = error_responses(401, 403, 404)
_WRITE = error_responses(401, 403, 404, 409, 413, 422)


def governance_router(
    governance: Governance | Callable[[], Governance], tokens: AdminTokens
) -> APIRouter:
    """The governance routes over ``governance`` (or a function opening it on first use).

    Example
    -------
    >>> router = governance_router(None, AdminTokens())  # type: ignore[arg-type]
    >>> "/v1/models/{name}/versions/{version}/approve" in {r.path for r in router.routes}
    True
    """
    router = APIRouter()
    opened: list[Governance] = []

    def gov() -> Governance:
        if not opened:
            opened.append(governance() if callable(governance) else governance)
        return opened[0]

    async def allow(request: Request, role: Role) -> Principal:
        # a token lookup may hit the database or a JWKS URL: off the event loop
        header = request.headers.get("authorization")
        return await run_in_threadpool(tokens.require, header, role)

    def post(path: str, summary: str, fields: dict[str, Any], required: list[str]) -> Route:
        return router.post(
            path,
            summary=summary,
            response_class=Response,
            responses={**ok_response("The recorded action."), **_WRITE},
            openapi_extra=json_body_schema(fields, required),
        )

    def get(path: str, summary: str) -> Route:
        return router.get(
            path,
            summary=summary,
            response_class=Response,
            responses={**ok_response(summary), **_READ},
        )

    @get("/v1/auth/whoami", "The principal of the bearer token (viewer)")
    async def whoami(request: Request) -> Response:
        return json_response((await allow(request, "viewer")).to_dict())

    @get("/v1/auth/tokens", "The project's API tokens, without secrets (admin)")
    async def list_tokens(request: Request) -> Response:
        await allow(request, "admin")
        found = await call_service(lambda: gov().tokens.list())
        return json_response({"tokens": [t.to_dict() for t in found]})

    @post(
        "/v1/auth/tokens",
        "Create an API token; its secret is in this answer only (admin)",
        {"holder": _S, "role": _S, "expires": {"type": "string", "description": "90d, 12h"}},
        ["holder", "role"],
    )
    async def create_token(request: Request) -> Response:
        who = await allow(request, "admin")
        body = await body_fields(
            request, {"holder", "role", "expires"}, required={"holder", "role"}
        )
        from cairn.auth.tokens import parse_duration

        expires = await call_service(parse_duration, optional_text(body, "expires"))
        info, secret = await call_service(
            lambda: gov().tokens.create(
                text_field(body["holder"], "holder"), body["role"], expires, created_by=who
            )
        )
        return json_response({**info.to_dict(), "secret": secret})

    @post("/v1/auth/tokens/{token_id}/revoke", "Revoke an API token (admin)", {"reason": _S}, [])
    async def revoke_token(token_id: str, request: Request) -> Response:
        who = await allow(request, "viewer")  # its own holder may revoke it; others need admin
        body = await body_fields(request, {"reason"})
        reason = optional_text(body, "reason") or ""
        done = await call_service(lambda: gov().tokens.revoke(token_id, by=who, reason=reason))
        return json_response(done.to_dict())

    @get("/v1/models/{name}", "A model's versions, reviews, aliases and history (viewer)")
    async def show(name: str, request: Request) -> Response:
        await allow(request, "viewer")

        def read() -> dict[str, Any]:
            registry = gov().registry
            details = registry.show(name)
            return {
                "model": details.model,
                "policy": registry.policy(name),
                "versions": details.versions,
                "history": details.history,
                "warnings": details.warnings,
            }

        return json_response(_jsonable(await call_service(read)))

    @get("/v1/models/{name}/policy", "A model's promotion policy (viewer)")
    async def get_policy(name: str, request: Request) -> Response:
        await allow(request, "viewer")
        current = await call_service(lambda: gov().registry.policy(name))
        return json_response({"model": name, **current.to_dict()})

    @post(
        "/v1/models/{name}/policy",
        "Change a model's promotion policy (admin)",
        {
            "reason": _S,
            "require_four_eyes": {"type": "boolean"},
            "approver_not_promoter": {"type": "boolean"},
            "min_approvals": {"type": "integer", "minimum": 1},
        },
        ["reason"],
    )
    async def set_policy(name: str, request: Request) -> Response:
        who = await allow(request, "admin")
        keys = {"reason", "require_four_eyes", "approver_not_promoter", "min_approvals"}
        body = await body_fields(request, keys, required={"reason"})
        changes: dict[str, Any] = {}
        for key in ("require_four_eyes", "approver_not_promoter"):
            if body.get(key) is not None:
                changes[key] = bool_field(body[key], key)
        if body.get("min_approvals") is not None:
            changes["min_approvals"] = int_field(body["min_approvals"], "min_approvals")
        reason = text_field(body["reason"], "reason")
        done = await call_service(
            lambda: gov().registry.set_policy(name, principal=who, reason=reason, **changes)
        )
        return json_response({"model": name, **done.to_dict()})

    def review(decision: str) -> None:
        async def endpoint(name: str, version: str, request: Request) -> Response:
            who = await allow(request, "approver")
            body = await body_fields(request, {"ticket", "note", "reviewer"}, required={"ticket"})
            done = await call_service(
                lambda: gov().registry.approve(
                    name,
                    version,
                    principal=who,
                    ticket=text_field(body["ticket"], "ticket"),
                    decision=decision,
                    note=optional_text(body, "note") or "",
                    reviewer=optional_text(body, "reviewer"),
                )
            )
            return json_response(_jsonable(done))

        router.add_api_route(
            f"/v1/models/{{name}}/versions/{{version}}/{decision}",
            endpoint,
            methods=["POST"],
            summary=f"Record a review decision: {decision} (approver)",
            response_class=Response,
            responses={**ok_response("The recorded review."), **_WRITE},
            openapi_extra=json_body_schema({"ticket": _S, "note": _S, "reviewer": _S}, ["ticket"]),
            name=f"model_{decision}",
        )

    review("approve")
    review("reject")

    @post(
        "/v1/models/{name}/versions/{version}/promote",
        "Move an alias (default champion) to a version (deployer)",
        {"alias": _S, "reason": _S},
        ["reason"],
    )
    async def promote(name: str, version: str, request: Request) -> Response:
        who = await allow(request, "deployer")
        body = await body_fields(request, {"alias", "reason"}, required={"reason"})
        alias = optional_text(body, "alias") or "champion"
        reason = text_field(body["reason"], "reason")
        done = await call_service(
            lambda: gov().registry.promote(name, version, alias=alias, principal=who, reason=reason)
        )
        return json_response(_jsonable(done))

    @post(
        "/v1/models/{name}/aliases/{alias}",
        "Point an alias at a version (deployer)",
        {"version": _S, "reason": _S},
        ["version"],
    )
    async def set_alias(name: str, alias: str, request: Request) -> Response:
        who = await allow(request, "deployer")
        body = await body_fields(request, {"version", "reason"}, required={"version"})
        version = text_field(str(body["version"]), "version")
        reason = optional_text(body, "reason") or ""
        done = await call_service(
            lambda: gov().registry.promote(name, version, alias=alias, principal=who, reason=reason)
        )
        return json_response(_jsonable(done))

    @post(
        "/v1/models/{name}/aliases/{alias}/remove",
        "Remove a challenger or fallback alias (deployer)",
        {"reason": _S},
        [],
    )
    async def remove_alias(name: str, alias: str, request: Request) -> Response:
        who = await allow(request, "deployer")
        body = await body_fields(request, {"reason"})
        reason = optional_text(body, "reason") or ""
        done = await call_service(
            lambda: gov().registry.remove_alias(name, alias, principal=who, reason=reason)
        )
        return json_response(_jsonable(done))

    @get("/v1/audit", "Audit entries, oldest first; ?subject=&action=&limit= (viewer)")
    async def audit(request: Request) -> Response:
        await allow(request, "viewer")
        params = request.query_params
        limit = int_field(params.get("limit", "1000"), "limit")
        subject = params.get("subject") or None
        action = params.get("action") or None

        def read() -> list[Any]:
            entries = gov().audit.entries(subject=subject)
            if action is not None:
                entries = [e for e in entries if e.action == action]
            return list(entries)[-limit:] if limit > 0 else []

        return json_response({"entries": _jsonable(await call_service(read))})

    return router


def _jsonable(value: Any) -> Any:
    """Results as JSON-ready data (``to_dict()`` where they have one)."""
    from cairn.ui.output import jsonable

    return jsonable(value)
