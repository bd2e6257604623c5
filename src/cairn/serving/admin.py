"""Admin HTTP routes of rollouts, behind bearer tokens with roles.

=======================================================  ========  ==========================
Route                                                    Role      Does
=======================================================  ========  ==========================
``GET  /v1/deployments/{name}/rollout``                  viewer    the current rollout
``GET  /v1/deployments/{name}/rollout/history``          viewer    every version, who, why
``POST /v1/deployments/{name}/rollout``                  deployer  create (``strategy`` in the
                                                                   body) or change one
``POST /v1/deployments/{name}/rollout/switch``           deployer  blue-green: swap the slots
``POST /v1/deployments/{name}/rollout/rollback``         deployer  back to the control
``POST /v1/deployments/{name}/rollout/promote``          approver  candidate -> champion
=======================================================  ========  ==========================

Roles are ordered ``viewer < deployer < approver < admin`` (:mod:`cairn.auth`): a token may do
what its role and every lower role may. A bearer token is one of the project's API tokens
(``cairn auth token create``), an OIDC/JWT bearer token (``auth.oidc`` settings) — both checked
by the authenticator ``cairn.app`` hands in — or one from the environment:
``CAIRN_ADMIN_TOKEN`` is one token with every role (named ``admin``), and
``CAIRN_ADMIN_TOKENS="viewer:TOKEN,deployer:NAME:TOKEN,..."`` adds tokens per role, optionally
naming who holds them (the name is the actor in the audit log). Nothing configured: every
admin route answers 403; a missing, unknown, expired or revoked token 401; a token whose role
is too low 403. Every error body is ``{"error": {"type", "message"}}``.

Serving never imports the registry: the routes call an injected :class:`RolloutAdmin`
(:class:`cairn.rollouts.RolloutService` implements it) and map its errors by their built-in
family: ``PermissionError`` (a governance rule refused) and a stale write are 409,
``LookupError`` (unknown model or alias) 422 and ``ValueError`` (a bad spec) 422.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from cairn.auth.principal import (
    ROLES,
    AuthenticationError,
    Principal,
    Role,
    parse_role,
)
from cairn.core.deployments import UnknownDeploymentError
from cairn.core.errors import ConfigError
from cairn.rollouts.requests import RolloutUpdate
from cairn.rollouts.store import RolloutChange
from cairn.serving.admin_http import (
    MAX_BODY,
    call_service,
    json_body_schema,
    json_object_body,
    ok_response,
    text_field,
)
from cairn.serving.errors import ApiError
from cairn.serving.responses import json_response
from cairn.serving.schemas import error_responses

__all__ = [
    "MAX_BODY",
    "ROLES",
    "AdminTokens",
    "Principal",
    "Role",
    "RolloutAdmin",
    "RolloutUpdate",
    "UnknownDeploymentError",
    "admin_router",
]

Authenticate = Callable[[str], Principal]
"""A bearer credential -> its principal, or :class:`AuthenticationError` (the project's)."""


class AdminTokens:
    """Bearer tokens and the principals they stand for.

    Parameters
    ----------
    tokens:
        Token -> principal (the environment's tokens).
    authenticate:
        Checks every other bearer token: the project's API tokens and OIDC/JWT tokens
        (``Project.authenticate``); None: only the environment's tokens count.

    Example
    -------
    >>> tokens = AdminTokens.parse("viewer:v-123,deployer:ana:d-456", admin_token="root-789")
    >>> tokens.require("Bearer d-456", "deployer")
    Principal(name='ana', role='deployer', via='env:CAIRN_ADMIN_TOKENS', token_id=None)
    >>> tokens.require("Bearer root-789", "admin").name
    'admin'
    >>> try:
    ...     tokens.require("Bearer v-123", "deployer")
    ... except ApiError as exc:
    ...     print(exc.status_code, exc.message)
    403 This endpoint needs the deployer role; the token given has the viewer role.
    """

    def __init__(
        self,
        tokens: Mapping[str, Principal] | None = None,
        *,
        authenticate: Authenticate | None = None,
    ) -> None:
        self.tokens = dict(tokens or {})
        self.authenticate = authenticate

    def with_authenticator(self, authenticate: Authenticate) -> AdminTokens:
        """These tokens, and every bearer token ``authenticate`` accepts."""
        return AdminTokens(self.tokens, authenticate=authenticate)

    @classmethod
    def parse(cls, spec: str | None, *, admin_token: str | None = None) -> AdminTokens:
        """Tokens from ``ROLE:TOKEN`` or ``ROLE:NAME:TOKEN`` entries separated by commas,
        plus ``admin_token`` with every role; a malformed entry is a ConfigError."""
        tokens: dict[str, Principal] = {}
        if admin_token:
            tokens[admin_token] = Principal("admin", "admin", via="env:CAIRN_ADMIN_TOKEN")
        for i, entry in enumerate(e.strip() for e in (spec or "").split(",")):
            if not entry:
                continue
            parts = entry.split(":")
            role = parts[0].strip()
            if role not in ROLES or len(parts) not in (2, 3) or not parts[-1].strip():
                raise ConfigError(
                    f"CAIRN_ADMIN_TOKENS entry {i + 1} must be ROLE:TOKEN or ROLE:NAME:TOKEN "
                    f"with ROLE one of {', '.join(ROLES)}; got {_redact(entry)!r}."
                )
            name = parts[1].strip() if len(parts) == 3 else f"api-{role}"
            token = parts[-1].strip()
            if token in tokens:
                raise ConfigError(f"CAIRN_ADMIN_TOKENS entry {i + 1} repeats a token.")
            tokens[token] = Principal(
                name or f"api-{role}", parse_role(role), via="env:CAIRN_ADMIN_TOKENS"
            )
        return cls(tokens)

    @classmethod
    def of(cls, value: AdminTokens | str | None) -> AdminTokens:
        """``value`` itself, or one token with every role (None: no tokens)."""
        if isinstance(value, AdminTokens):
            return value
        return cls.parse(None, admin_token=value)

    def __bool__(self) -> bool:
        return bool(self.tokens) or self.authenticate is not None

    def require(self, header: str | None, role: Role) -> Principal:
        """The principal of the request's bearer token if its role covers ``role``.

        Raises :class:`ApiError` 403 when no token is configured or the role is too low, and
        401 when the header is missing or its token proves nobody.
        """
        if not self:
            raise ApiError(
                403,
                "admin_disabled",
                "Admin endpoints are off: create API tokens (cairn auth token create), set "
                "auth.oidc, or set CAIRN_ADMIN_TOKEN or CAIRN_ADMIN_TOKENS.",
            )
        given = (header or "").encode()
        found: Principal | None = None
        for token, principal in self.tokens.items():  # compare with every token: no timing hint
            if hmac.compare_digest(given, f"Bearer {token}".encode()):
                found = principal
        if found is None and header and header.strip() and self.authenticate is not None:
            try:
                found = self.authenticate(header)
            except AuthenticationError as exc:
                raise ApiError(401, "unauthorized", str(exc)) from None
        if found is None:
            raise ApiError(
                401, "unauthorized", "This endpoint needs 'Authorization: Bearer <token>'."
            )
        if not found.may(role):
            raise ApiError(
                403,
                "forbidden",
                f"This endpoint needs the {role} role; the token given has the {found.role} role.",
            )
        return found


def _redact(entry: str) -> str:
    head, _, _ = entry.rpartition(":")
    return f"{head}:***" if head else "***"


class RolloutAdmin(Protocol):
    """The rollout service the admin routes call (implemented in ``cairn.rollouts.service``).

    Every method raises :class:`UnknownDeploymentError` for an unknown deployment.
    """

    def status(self, deployment: str) -> dict[str, Any]:
        """The current rollout, its weights and the versions its references resolve to."""
        ...

    def history(self, deployment: str) -> list[RolloutChange]:
        """Every stored version, oldest first."""
        ...

    def create(
        self,
        deployment: str,
        request: Mapping[str, Any],
        *,
        principal: Principal,
        reason: str = "",
        replace: bool = False,
    ) -> RolloutUpdate:
        """Start a new rollout from a request (``strategy`` and its models)."""
        ...

    def set(
        self,
        deployment: str,
        changes: Mapping[str, Any],
        *,
        principal: Principal,
        reason: str = "",
    ) -> RolloutUpdate:
        """Change fields of the current rollout (weights, stages, gate, shadows, state)."""
        ...

    def switch(
        self, deployment: str, *, principal: Principal, reason: str = "", to: str | None = None
    ) -> RolloutUpdate:
        """Blue-green: make the other slot (or ``to``) live."""
        ...

    def rollback(self, deployment: str, *, principal: Principal, reason: str = "") -> RolloutUpdate:
        """Send all traffic back to the control (or the previous slot or spec)."""
        ...

    def promote(
        self, deployment: str, *, principal: Principal, reason: str = "", arm: str | None = None
    ) -> RolloutUpdate:
        """Make the candidate champion under the governance rules; the rollout ends single."""
        ...


_REASON = {"reason": {"type": "string", "description": "Why (kept in the audit log)."}}
_READ = error_responses(401, 403, 404)
_WRITE = error_responses(401, 403, 404, 409, 413, 422)


def admin_router(service: RolloutAdmin, tokens: AdminTokens) -> APIRouter:
    """The rollout admin routes over ``service`` (see the module docstring).

    Example
    -------
    >>> router = admin_router(None, AdminTokens())  # type: ignore[arg-type]
    >>> sorted({r.path for r in router.routes})[0]
    '/v1/deployments/{name}/rollout'
    """
    router = APIRouter()
    prefix = "/v1/deployments/{name}/rollout"

    async def allow(request: Request, role: Role) -> Principal:
        # a token lookup may hit the database or a JWKS URL: off the event loop
        header = request.headers.get("authorization")
        return await run_in_threadpool(tokens.require, header, role)

    @router.get(
        prefix,
        summary="The deployment's rollout (viewer)",
        response_class=Response,
        responses={**ok_response("Strategy, arms, weights, state, resolved versions."), **_READ},
    )
    async def status(name: str, request: Request) -> Response:
        await allow(request, "viewer")
        return json_response(await _run(service.status, name))

    @router.get(
        f"{prefix}/history",
        summary="Every version of the deployment's rollout (viewer)",
        response_class=Response,
        responses={**ok_response("Versions, oldest first, with actor, reason and time."), **_READ},
    )
    async def history(name: str, request: Request) -> Response:
        await allow(request, "viewer")
        changes: list[RolloutChange] = await _run(service.history, name)
        return json_response({"deployment": name, "history": [_change(c) for c in changes]})

    @router.post(
        prefix,
        summary="Create (body has 'strategy') or change the rollout (deployer)",
        description="Create: strategy single (model), blue-green (blue, green, live), canary "
        "(candidate, control, stages, gate) or ab (arms: [{name, model, weight}], seed, "
        "coverage); shadows with any; replace: true to end an active rollout. Change: "
        "weights ({arm: weight}), stages, gate, shadows, coverage, state (active|held).",
        response_class=Response,
        responses={**ok_response("The stored rollout."), **_WRITE},
        openapi_extra=json_body_schema(
            {
                **_REASON,
                "strategy": {"type": "string", "enum": ["single", "blue-green", "canary", "ab"]},
                "replace": {"type": "boolean"},
            }
        ),
    )
    async def create_or_set(name: str, request: Request) -> Response:
        who = await allow(request, "deployer")
        body = await json_object_body(request)
        reason = text_field(body.pop("reason", ""), "reason")
        by = {"principal": who, "reason": reason}
        if "strategy" in body:
            replace = body.pop("replace", False)
            if not isinstance(replace, bool):
                raise ApiError(
                    422, "invalid_request", f"replace must be true or false; got {replace!r}."
                )
            done = await _run(service.create, name, body, replace=replace, **by)
        else:
            done = await _run(service.set, name, body, **by)
        return json_response(done.to_json())

    def action(path: str, role: Role, summary: str, option: str | None) -> None:
        fields = {**_REASON, **({option: {"type": "string"}} if option else {})}

        async def endpoint(name: str, request: Request) -> Response:
            who = await allow(request, role)
            body = await json_object_body(request)
            unknown = sorted(set(body) - set(fields))
            if unknown:
                raise ApiError(
                    422,
                    "invalid_request",
                    f"Unknown field {unknown[0]!r}; {path} accepts {', '.join(sorted(fields))}.",
                )
            kwargs: dict[str, Any] = (
                {option: text_field(body[option], option)}
                if (option is not None and body.get(option) is not None)
                else {}
            )
            reason = text_field(body.get("reason", ""), "reason")
            fn = getattr(service, path)
            done = await _run(fn, name, principal=who, reason=reason, **kwargs)
            return json_response(done.to_json())

        router.add_api_route(
            f"{prefix}/{path}",
            endpoint,
            methods=["POST"],
            summary=summary,
            response_class=Response,
            responses={**ok_response("The stored rollout."), **_WRITE},
            openapi_extra=json_body_schema(fields),
            name=f"rollout_{path}",
        )

    action("switch", "deployer", "Blue-green: make the other slot live (deployer)", "to")
    action("rollback", "deployer", "Send all traffic back to the control (deployer)", None)
    action("promote", "approver", "Promote the candidate to champion (approver)", "arm")
    return router


async def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """The rollout service's errors as 4xx: an unknown model in a body is bad input (422)."""
    return await call_service(
        fn, *args, unknown=(422, "unknown_model"), invalid="invalid_rollout", **kwargs
    )


def _change(c: RolloutChange) -> dict[str, Any]:
    return {
        "version": c.version,
        "actor": c.actor,
        "reason": c.reason,
        "at": c.at.isoformat(),
        "rollout": c.spec.to_dict(),
    }
