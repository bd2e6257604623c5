"""The Deployment page's actions: switch, roll back and promote a rollout, as the signed-in user.

=========================================  ======================================================
Route (under ``/ui``)                      Does
=========================================  ======================================================
``GET /deployments/{name}/actions/{a}``    the confirmation: the rollout now, what it becomes, a
                                           form with a reason and the hidden ``csrf`` field
``POST /deployments/{name}/actions/{a}``   the action through :class:`cairn.rollouts.RolloutService`
                                           (switch and rollback: deployer; promote: approver),
                                           then the new rollout and the audit entry it wrote
                                           (the update's ``entry``)
=========================================  ======================================================

The POST acts as the principal of the request's token (the ``cairn_token`` cookie ``/login``
sets, or an ``Authorization: Bearer`` header), checked by the same token check as the admin API
(:meth:`cairn.serving.admin.AdminTokens.require`) for the role its admin route needs, and the
service's errors are answered as the admin API answers them
(:func:`cairn.serving.admin_http.call_service`): no token 401, a role too low 403, a governance
refusal or a rollout that changed since the confirmation (its ``version`` field) 409, bad input
422. The form must carry ``csrf``, the HMAC of the token (:func:`csrf_token`); the cookie is
``SameSite=Strict`` as well.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from cairn.auth.principal import Principal, Role
from cairn.core.deployments import UnknownDeploymentError
from cairn.rollouts.service import subject
from cairn.serving.admin_http import MAX_BODY, call_service
from cairn.serving.errors import ApiError
from cairn.ui.web.deployment import actions_for

if TYPE_CHECKING:
    from fastapi import FastAPI

    from cairn.app.project import Project
    from cairn.rollouts.spec import RolloutSpec

__all__ = [
    "ACTIONS",
    "COOKIE",
    "Action",
    "SignIn",
    "add_action_routes",
    "bearer_token",
    "csrf_token",
    "outcome",
]

COOKIE = "cairn_token"
"""The cookie that carries the signed-in user's token after ``/login``."""

SignIn = Callable[[str | None, Role], Principal]
"""An ``Authorization`` header value and the role an action needs -> the principal its token
proves (:meth:`cairn.serving.admin.AdminTokens.require`); raises an error with a
``status_code`` of 401 (no or unknown token) or 403 (role too low)."""

Page = Callable[..., Response]


@dataclass(frozen=True)
class Action:
    """One action: its link text, the role its admin route needs, the audit action it writes."""

    label: str
    role: Role
    audited: str


ACTIONS = {
    "switch": Action("Switch", "deployer", "rollout.switched"),
    "rollback": Action("Roll back", "deployer", "rollout.rolled_back"),
    "promote": Action("Promote", "approver", "rollout.promoted"),
}


def csrf_token(token: str) -> str:
    """The form field that proves a POST came from a page rendered for ``token``'s holder:
    the HMAC-SHA256 of the session token (keyed by it, so every server process agrees and
    nobody without the token can forge it).

    Example
    -------
    >>> len(csrf_token("secret")), csrf_token("secret") == csrf_token("other")
    (64, False)
    """
    return hmac.new(token.encode(), b"cairn-dashboard-csrf", hashlib.sha256).hexdigest()


def bearer_token(request: Request) -> str | None:
    """The request's token: its ``Authorization: Bearer`` header, else the cookie."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return request.cookies.get(COOKIE) or None


def outcome(spec: RolloutSpec, action: str) -> str:
    """What ``action`` makes of ``spec``, in one sentence (the confirmation page's).

    Example
    -------
    >>> from cairn.rollouts.spec import RolloutSpec
    >>> outcome(RolloutSpec.blue_green("credit", "m/1", "m/2"), "switch")
    'the green slot (m/2) goes live and takes all traffic; blue (m/1) stands by'
    """
    if spec.strategy == "blue-green":
        live = "green" if spec.live == "blue" else "blue"
        other = spec.arm(live).model
        return (
            f"the {live} slot ({other}) goes live and takes all traffic; "
            f"{spec.live} ({spec.control.model}) stands by"
        )
    if action == "rollback":
        kind = "A/B test" if spec.strategy == "ab" else spec.strategy
        return (
            f"the {kind} ends rolled back: all traffic to {spec.arms[0].name} "
            f"({spec.arms[0].model})"
        )
    chosen = "the arm you choose" if spec.strategy == "ab" else spec.arm("canary").model
    return (
        f"{chosen} becomes champion (under the four-eyes rules); the deployment then serves "
        "MODEL@champion alone"
    )


def add_action_routes(
    app: FastAPI,
    project: Project,
    page: Page,
    guard: Callable[[Request], None],
    sign_in: SignIn | None,
) -> None:
    """Add the confirmation (GET) and action (POST) routes to the dashboard ``app``."""
    service = project.rollouts

    def known(name: str, action: str) -> tuple[Action, RolloutSpec]:
        if action not in ACTIONS:
            raise ApiError(
                404, "not_found", f"Unknown action {action!r}; one of switch, rollback, promote."
            )
        try:
            spec = service.current(name)
        except UnknownDeploymentError as exc:
            raise ApiError(404, "unknown_deployment", str(exc)) from None
        except ValueError as exc:  # a stored rollout that is invalid: replace it first
            raise ApiError(409, "invalid_rollout", str(exc)) from None
        applies = actions_for(spec, stored=spec.version > 0)
        if action not in applies:
            raise ApiError(
                409,
                "conflict",
                f"{ACTIONS[action].label} does not apply to the "
                f"{spec.state} {spec.strategy} rollout of {name!r} (version "
                f"{spec.version}); actions that apply: {', '.join(applies) or 'none'}.",
            )
        return ACTIONS[action], spec

    def refused(request: Request, exc: ApiError) -> Response:
        title = {401: "Sign in", 403: "Forbidden", 404: "Not found", 409: "Refused"}
        return page(
            request,
            "error.html",
            exc.status_code,
            login=exc.status_code in (401, 403),
            title=title.get(exc.status_code, "Bad request"),
            message=exc.message,
        )

    @app.get("/deployments/{name}/actions/{action}")
    def confirm(request: Request, name: str, action: str) -> Response:
        guard(request)
        try:
            chosen, spec = known(name, action)
        except ApiError as exc:
            return refused(request, exc)
        token = bearer_token(request)
        return page(
            request,
            "action.html",
            title=f"{chosen.label}: {name}",
            name=name,
            action=action,
            chosen=chosen,
            spec=spec,
            outcome=outcome(spec, action),
            csrf=csrf_token(token) if token else "",
            signed_in=token is not None,
            can_sign_in=sign_in is not None,
        )

    @app.post("/deployments/{name}/actions/{action}")
    async def act(request: Request, name: str, action: str) -> Response:
        try:
            return await _act(request, name, action)
        except ApiError as exc:
            return refused(request, exc)

    async def _act(request: Request, name: str, action: str) -> Response:
        if action not in ACTIONS:
            raise ApiError(404, "not_found", f"Unknown action {action!r}.")
        token = bearer_token(request)
        if sign_in is None:
            raise ApiError(403, "forbidden", "Actions are off: this dashboard checks no tokens.")
        if token is None:
            raise ApiError(401, "unauthorized", "Sign in with an API token to act on a rollout.")
        try:
            who = await run_in_threadpool(sign_in, f"Bearer {token}", ACTIONS[action].role)
        except Exception as exc:
            status = getattr(exc, "status_code", None)
            if status not in (401, 403):
                raise
            raise ApiError(status, "refused", getattr(exc, "message", str(exc))) from None
        form = await _form(request)
        if not hmac.compare_digest(form.get("csrf", ""), csrf_token(token)):
            raise ApiError(
                403,
                "csrf",
                "The form's csrf field does not match your session: "
                "reload the confirmation page and submit it again.",
            )
        chosen, spec = await run_in_threadpool(known, name, action)
        if form.get("version") != str(spec.version):
            raise ApiError(
                409,
                "conflict",
                f"The rollout of {name!r} is at version "
                f"{spec.version}, not {form.get('version')!r}: it changed since the "
                "confirmation was shown; review it again.",
            )
        kwargs: dict[str, Any] = {"principal": who, "reason": form.get("reason", "").strip()}
        if action in ("rollback", "promote"):
            kwargs["expected_version"] = spec.version
        if action == "promote" and form.get("arm"):
            kwargs["arm"] = form["arm"]
        fn = getattr(service, action)
        done = await call_service(fn, name, unknown=(422, "unknown_model"), **kwargs)
        return page(
            request,
            "action_done.html",
            title=f"{chosen.label}: {name}",
            name=name,
            chosen=chosen,
            update=done,
            entry=done.entry,  # the rollout.* entry the service appended
            who=who,
            audit_subject=subject(name),
        )


async def _form(request: Request) -> dict[str, str]:
    """The urlencoded form (one value per field); too large or not text: 422."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(422, "invalid_request", f"The form is larger than {MAX_BODY} bytes.")
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise ApiError(422, "invalid_request", "The form is not UTF-8 text.") from None
    return {k: v[0] for k, v in fields.items()}
