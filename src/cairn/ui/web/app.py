"""The dashboard as an ASGI app: :func:`dashboard_app` (what ``cairn serve`` mounts at
``/ui``) and :func:`standalone_app` (what ``cairn ui`` serves: the dashboard alone).

=============================  =====================================================
Route (under ``/ui``)          Page
=============================  =====================================================
``GET /``                      Overview: deployments, traffic, signals, reviews
``GET /deployments/{name}``    One deployment: rollout, history, canary gates, A/B split
                               with SRM, shadow agreement, arms' traffic
``GET|POST /deployments/{name}/actions/{action}``
                               Switch, roll back, promote: confirm, then act as the signed-in
                               user (:mod:`~cairn.ui.web.actions`)
``GET /models?page=N``         Models: every registered model
``GET /models/{name}?page=N``  One model: versions, metrics, reviews, alias history
``GET /lineage/{ref}``         Lineage of ``NAME/VERSION``, ``NAME@ALIAS`` or a
                               prediction id
``GET /features?page=N``       Features: views, freshness, stream lag, newest runs
``GET /features/{view}``       One view: definition, versions, runs; ``/consistency``
                               (``?sample=&seed=``): the online/offline check, run now
``GET /quality?page=N``        Quality: suites with their newest result
``GET /quality/{suite}``       One suite: results (paged), health-score trend;
                               ``/runs/{id}``: one result's failing checks and rows
``GET /monitoring?page=N``     Monitoring: runs (paged), PSI, score drift, performance
                               and signals over time per deployment and model version
                               (``deployment=``, ``version=``)
``GET /monitoring/{run}``      One monitoring run: drift by column, signals, changes
``GET /experiments?page=N``    Experiments: every A/B test and canary in the log, its
                               status and key metric
``GET /experiments/{d}/{s}``   Experiment ``s`` (its seed) of deployment ``d``: the
                               report's results with intervals, and power plans
                               (``correction=``, ``mde=``)
``GET /audit?page=N``          Audit: the chain (``subject=``, ``action=``), verified
``GET|POST /login``            The user's token, kept in a cookie (with ``authorize`` or
                               ``sign_in``)
``GET /static/...``            htmx (vendored, with its licence) and the stylesheet
=============================  =====================================================

Pages are rendered on the server from the shared templates (:mod:`cairn.core.render`), so
every page reads the same with JavaScript off; htmx only boosts links. An unknown model,
version, view, suite, result or page is a 404 page and a malformed ``?page=`` (or other
parameter) a 422 page, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from cairn.core.render import render
from cairn.rollouts.store import InvalidRolloutError
from cairn.ui.web import (
    actions,
    audit,
    charts,
    consistency,
    deployment,
    experiments,
    features,
    lineage,
    models,
    monitoring,
    overview,
    quality,
)
from cairn.ui.web.actions import COOKIE, SignIn, add_action_routes
from cairn.ui.web.freshness import age_text
from cairn.ui.web.paging import BadPageInput, PageNotFound, parse_page

if TYPE_CHECKING:
    from cairn.app.project import Project

__all__ = ["COOKIE", "AccessRefused", "Authorize", "SignIn", "dashboard_app", "standalone_app"]

PACKAGE = ("cairn.ui.web", "cairn.monitoring", "cairn.experiments")
"""Where templates are looked up: the dashboard's own, then the section macros of the
monitoring and experiment reports (``_monitoring.html``, ``_experiments.html``)."""
STATIC = Path(__file__).parent / "static"

Authorize = Callable[[str | None], object]
"""Checks an ``Authorization`` header value for the viewer role; raises (an error with a
``status_code`` of 401 or 403) when it does not hold."""


class AccessRefused(Exception):
    """The request's token does not prove a viewer (401) or its role is too low (403)."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code


def dashboard_app(
    project: Project, *, authorize: Authorize | None = None, sign_in: SignIn | None = None
) -> FastAPI:
    """The dashboard of ``project`` (mount it, e.g. at ``/ui``).

    Parameters
    ----------
    project:
        The opened project (the composition root the pages read through).
    authorize:
        The viewer check every page runs on the request's bearer token (its
        ``Authorization`` header or the ``cairn_token`` cookie ``/login`` sets); None: the
        pages are open (``cairn ui`` on a loopback address).
    sign_in:
        The token check of the actions (switch, roll back, promote): the request's token and
        the role the action needs -> its principal (``AdminTokens.require``). None: actions
        are refused (403). With it, ``/login`` is offered even when the pages are open.
    """
    app = FastAPI(title="Cairn dashboard", openapi_url=None, docs_url=None, redoc_url=None)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
        base = request.scope.get("root_path", "").rstrip("/")
        html = render(template, package=PACKAGE, base=base, project=project.name, **context)
        return HTMLResponse(html, status_code=status)

    def guard(request: Request) -> None:
        if authorize is None:
            return
        header = request.headers.get("authorization")
        if header is None and COOKIE in request.cookies:
            header = f"Bearer {request.cookies[COOKIE]}"
        try:
            authorize(header)
        except Exception as exc:
            status = getattr(exc, "status_code", None)
            if status not in (401, 403):
                raise
            raise AccessRefused(status, str(exc)) from None

    @app.exception_handler(PageNotFound)
    async def not_found(request: Request, exc: Exception) -> Response:
        return page(request, "error.html", 404, title="Not found", message=str(exc))

    @app.exception_handler(BadPageInput)
    async def bad_input(request: Request, exc: Exception) -> Response:
        return page(request, "error.html", 422, title="Bad request", message=str(exc))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        title = "Not found" if status == 404 else f"Error {status}"
        return page(request, "error.html", status, title=title, message=str(exc))

    @app.exception_handler(AccessRefused)
    async def refused(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 401)
        title = "Sign in" if status == 401 else "Forbidden"
        return page(request, "error.html", status, title=title, message=str(exc), login=True)

    @app.get("/", response_class=HTMLResponse)
    def overview_page(request: Request) -> Response:
        guard(request)
        data = overview.gather_overview(project, parse_page(request.query_params.get("page")))
        counts = [(d.name, d.traffic.requests) for d in data.deployments.items]
        chart = charts.requests_chart(counts) if any(n for _, n in counts) else None
        return page(request, "overview.html", title="Overview", data=data, chart=chart)

    @app.get("/deployments/{name}", response_class=HTMLResponse)
    def deployment_page(request: Request, name: str) -> Response:
        guard(request)
        try:
            data = deployment.gather_deployment(
                project, name, parse_page(request.query_params.get("page"))
            )
        except InvalidRolloutError as exc:
            return page(request, "error.html", 409, title="Invalid rollout", message=str(exc))
        chart = charts.arm_traffic_chart(data.traffic)
        return page(request, "deployment.html", title=name, data=data, chart=chart,
                    actions=actions.ACTIONS, second=charts.second)  # fmt: skip

    add_action_routes(app, project, page, guard, sign_in)

    @app.get("/models", response_class=HTMLResponse)
    def models_page(request: Request) -> Response:
        guard(request)
        found = models.gather_models(project, parse_page(request.query_params.get("page")))
        return page(request, "models.html", title="Models", models=found)

    @app.get("/models/{name}", response_class=HTMLResponse)
    def model_page(request: Request, name: str) -> Response:
        guard(request)
        data = models.gather_model(project, name, parse_page(request.query_params.get("page")))
        timeline = charts.alias_timeline(data.history)
        return page(request, "model.html", title=name, data=data, timeline=timeline)

    @app.get("/lineage/{ref:path}", response_class=HTMLResponse)
    def lineage_page(request: Request, ref: str) -> Response:
        guard(request)
        data = lineage.gather_lineage(project, ref)
        return page(request, "lineage.html", title=f"Lineage of {ref}", data=data)

    @app.get("/features", response_class=HTMLResponse)
    def features_page(request: Request) -> Response:
        guard(request)
        data = features.gather_features(project, parse_page(request.query_params.get("page")))
        return page(request, "features.html", title="Features", data=data, age=age_text)

    @app.get("/features/{name}", response_class=HTMLResponse)
    def feature_view_page(request: Request, name: str) -> Response:
        guard(request)
        data = features.gather_view(project, name, parse_page(request.query_params.get("page")))
        return page(request, "feature_view.html", title=name, data=data, age=age_text)

    @app.get("/features/{name}/consistency", response_class=HTMLResponse)
    def consistency_page(request: Request, name: str) -> Response:
        guard(request)
        params = request.query_params
        sample = consistency.parse_count(params.get("sample"), "sample", 100, 1, 10_000)
        seed = consistency.parse_count(params.get("seed"), "seed", 0, 0, 2**31 - 1)
        data = consistency.gather_consistency(project, name, sample, seed)
        return page(request, "consistency.html", title=f"Consistency of {name}", data=data)

    @app.get("/quality", response_class=HTMLResponse)
    def quality_page(request: Request) -> Response:
        guard(request)
        suites = quality.gather_quality(project, parse_page(request.query_params.get("page")))
        return page(request, "quality.html", title="Quality", suites=suites)

    @app.get("/quality/{suite}", response_class=HTMLResponse)
    def suite_page(request: Request, suite: str) -> Response:
        guard(request)
        data = quality.gather_suite(project, suite, parse_page(request.query_params.get("page")))
        trend = charts.health_trend(data.runs.items)
        return page(request, "suite.html", title=f"Suite {suite}", data=data, trend=trend)

    @app.get("/quality/{suite}/runs/{run_id}", response_class=HTMLResponse)
    def quality_result_page(request: Request, suite: str, run_id: str) -> Response:
        guard(request)
        data = quality.gather_result(project, suite, quality.parse_run_id(run_id))
        title = f"Run {data.result.run_id} of {suite}"
        return page(request, "quality_result.html", title=title, data=data)

    @app.get("/monitoring", response_class=HTMLResponse)
    def monitoring_page(request: Request) -> Response:
        guard(request)
        params = request.query_params
        deployment, version = params.get("deployment") or None, params.get("version") or None
        data = monitoring.gather_monitoring(
            project, parse_page(params.get("page")), deployment=deployment, version=version
        )
        chosen = (("deployment", deployment), ("version", version))
        filters = urlencode({k: v for k, v in chosen if v})
        return page(request, "monitoring.html", title="Monitoring", data=data, filters=filters)

    @app.get("/monitoring/{run}", response_class=HTMLResponse)
    def monitoring_run_page(request: Request, run: str) -> Response:
        guard(request)
        data = monitoring.gather_run(project, monitoring.parse_run(run))
        title = f"Monitoring run #{data.run.run_id}"
        return page(request, "monitoring_run.html", title=title, data=data)

    @app.get("/experiments", response_class=HTMLResponse)
    def experiments_page(request: Request) -> Response:
        guard(request)
        data = experiments.gather_experiments(project, parse_page(request.query_params.get("page")))
        return page(request, "experiments.html", title="Experiments", data=data)

    @app.get("/experiments/{deployment}/{seed}", response_class=HTMLResponse)
    def experiment_page(request: Request, deployment: str, seed: str) -> Response:
        guard(request)
        params = request.query_params
        data = experiments.gather_experiment(
            project,
            deployment,
            seed,
            correction=experiments.parse_correction(params.get("correction")),
            mde=experiments.parse_mde(params.get("mde")),
        )
        title = f"Experiment {seed} of {deployment}"
        return page(request, "experiment.html", title=title, data=data)

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request) -> Response:
        guard(request)
        params = request.query_params
        subject, action = params.get("subject") or None, params.get("action") or None
        data = audit.gather_audit(
            project, parse_page(params.get("page")), subject=subject, action=action
        )
        filters = urlencode({k: v for k, v in (("subject", subject), ("action", action)) if v})
        return page(request, "audit.html", title="Audit", data=data, filters=filters)

    check: Authorize | None = authorize
    if check is None and sign_in is not None:
        account = sign_in
        check = lambda header: account(header, "viewer")  # noqa: E731
    if check is not None:
        verify: Authorize = check

        @app.get("/login", response_class=HTMLResponse)
        def login_form(request: Request) -> Response:
            return page(request, "login.html", title="Sign in", message=None)

        @app.post("/login", response_class=HTMLResponse)
        async def login(request: Request) -> Response:
            body = parse_qs((await request.body()).decode("utf-8", "replace"))
            token = (body.get("token") or [""])[0].strip()
            try:
                await run_in_threadpool(verify, f"Bearer {token}")
            except Exception as exc:
                if getattr(exc, "status_code", None) not in (401, 403):
                    raise
                return page(request, "login.html", 401, title="Sign in", message=str(exc))
            base = request.scope.get("root_path", "").rstrip("/")
            done = RedirectResponse(f"{base}/", status_code=303)
            secure = request.url.scheme == "https"
            done.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=secure,
                            path=f"{base}/")  # fmt: skip
            return done

    return app


def standalone_app(
    project: Project, *, authorize: Authorize | None = None, sign_in: SignIn | None = None
) -> FastAPI:
    """The dashboard alone (``cairn ui``): mounted at ``/ui``, with ``/`` redirecting there.

    Example
    -------
    >>> import tempfile, pathlib
    >>> from cairn.app.project import Project
    >>> repo = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (repo / "cairn.yaml").write_text("project: demo")
    >>> app = standalone_app(Project.open(repo))
    >>> [getattr(r, "path", None) for r in app.routes][-2:]
    ['/', '/ui']
    """
    app = FastAPI(title="Cairn dashboard", openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/ui/", status_code=307)

    app.mount("/ui", dashboard_app(project, authorize=authorize, sign_in=sign_in))
    return app
