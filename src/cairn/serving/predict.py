"""Routes of the predict path: ``POST /v1/predict/{deployment}`` (and ``/batch``),
``GET /v1/explanations/{prediction_id}`` (and ``/counterfactual``), ``POST /v1/outcomes`` and
``GET /v1/deployments``."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from cairn.explain.sampling import MAX_PERMUTATIONS, MIN_PERMUTATIONS
from cairn.serving.admin import AdminTokens, Principal, Role
from cairn.serving.outcomes import outcome_rows, parse_outcomes
from cairn.serving.predict_request import parse_predict
from cairn.serving.predict_schemas import (
    COUNTERFACTUAL,
    EXPLANATION,
    OUTCOMES_RESPONSE,
    PREDICT_ROW,
    PREDICTION,
    PREDICTION_BATCH,
    outcomes_request,
    predict_batch_request,
)
from cairn.serving.prediction_log import SegmentLog
from cairn.serving.predictor import Predictor
from cairn.serving.request import ServingLimits, load_json, read_body
from cairn.serving.responses import json_response
from cairn.serving.schemas import error_responses


def _ok(schema: dict[str, Any], text: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": text, "content": {"application/json": {"schema": schema}}}}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def predict_router(
    predictor: Predictor,
    outcomes: SegmentLog,
    limits: ServingLimits,
    admin_token: AdminTokens | str | None = None,
) -> APIRouter:
    """The predict, explanation, outcome and deployment routes over ``predictor``.

    ``POST /v1/deployments/reload`` (re-resolve aliases now) needs an admin token with the
    deployer role (``Authorization: Bearer <token>``); without a configured token it is
    refused (403).
    """
    router = APIRouter()

    @router.post(
        "/v1/predict/{deployment}",
        summary="Score one entity",
        description="Online features -> the deployment's model -> its decision (the positive "
        "one it declares when score >= threshold, else the negative one), with reason codes for "
        "the decisions its explain setting names; logged before the answer.",
        response_class=Response,
        responses={**_ok(PREDICTION, "The prediction."), **error_responses(404, 413, 422, 503)},
        openapi_extra=_body(PREDICT_ROW),
    )
    async def predict(deployment: str, request: Request) -> Response:
        return await answer_predict(predictor, limits, deployment, request, batch=False)

    @router.post(
        "/v1/predict/{deployment}/batch",
        summary="Score many entities",
        response_class=Response,
        responses={
            **_ok(PREDICTION_BATCH, "One prediction per row, in order."),
            **error_responses(404, 413, 422, 503),
        },
        openapi_extra=_body(predict_batch_request(limits.max_entities)),
    )
    async def predict_batch(deployment: str, request: Request) -> Response:
        return await answer_predict(predictor, limits, deployment, request, batch=True)

    @router.get(
        "/v1/explanations/{prediction_id}",
        summary="Reason codes of a prediction",
        description="The stored explanation, or one computed now from the logged features "
        "(a model whose contributions are sampled: always now, with each code's standard "
        "error). method=sampling (or a permutations budget) samples any model's explanation, "
        "e.g. to compare with its exact values.",
        response_class=Response,
        responses={**_ok(EXPLANATION, "The explanation."), **error_responses(404, 409, 422)},
    )
    def explanation(  # sync: may read the log from disk, sampling is CPU work
        prediction_id: str,
        method: Annotated[
            Literal["sampling"] | None,
            Query(description="sampling: explain by permutation sampling now."),
        ] = None,
        permutations: Annotated[
            int | None,
            Query(
                ge=MIN_PERMUTATIONS,
                le=MAX_PERMUTATIONS,
                description="The sampling budget (random feature orders); implies "
                "method=sampling. Default: the deployment's sampling.permutations.",
            ),
        ] = None,
    ) -> Response:
        answer = predictor.explanation(prediction_id, method=method, permutations=permutations)
        return json_response(answer)

    @router.get(
        "/v1/explanations/{prediction_id}/counterfactual",
        summary="The smallest change that would have turned an unfavorable decision",
        description="Computed now from the logged features and the loaded model, under the "
        "deployment's counterfactual declaration (immutable features, directions, ranges, "
        "max_changes): exact for scorecards, a search within budget_ms otherwise. 409 for a "
        "favorable decision or a referral.",
        response_class=Response,
        responses={
            **_ok(COUNTERFACTUAL, "The counterfactual (found, or why not)."),
            **error_responses(404, 409),
        },
    )
    def counterfactual(prediction_id: str) -> Response:  # sync: searching is CPU work
        return json_response(predictor.counterfactual(prediction_id))

    @router.post(
        "/v1/outcomes",
        summary="Attach labels",
        description="Labels by prediction id, or by entity + event time, with an observed-at time.",
        response_class=Response,
        responses={**_ok(OUTCOMES_RESPONSE, "Accepted and logged."), **error_responses(413, 422)},
        openapi_extra=_body(outcomes_request(limits.max_entities)),
    )
    async def post_outcomes(request: Request) -> Response:
        body = await read_body(
            request.headers.get("content-length"), request.stream(), limits.max_body_bytes
        )
        data = load_json(body)
        parsed = parse_outcomes(data, now_us=time.time_ns() // 1000, max_rows=limits.max_entities)
        outcomes.append_many([orjson.dumps(r) + b"\n" for r in outcome_rows(parsed)])
        if outcomes.durability == "fsync":
            await run_in_threadpool(outcomes.sync)
        return json_response({"accepted": len(parsed)})

    @router.get(
        "/v1/deployments",
        summary="Deployments and the model versions they serve",
        response_class=Response,
        responses=_ok(
            {"type": "object"},
            "Name -> control model reference and loaded version, settings, and the rollout "
            "(strategy, arms with their models, loaded versions and traffic shares, shadows).",
        ),
    )
    async def deployments() -> Response:
        return json_response({"deployments": predictor.describe()})

    @router.post(
        "/v1/deployments/reload",
        summary="Re-resolve every deployment's alias now (admin)",
        response_class=Response,
        responses={
            **_ok({"type": "object"}, "The references that moved."),
            **error_responses(401, 403),
        },
    )
    def reload(request: Request) -> Response:  # sync: loading a model blocks
        check_admin(request.headers.get("authorization"), admin_token)
        return json_response({"moved": predictor.refresh()})

    return router


async def answer_predict(
    predictor: Predictor, limits: ServingLimits, deployment: str, request: Request, *, batch: bool
) -> Response:
    """The answer to ``POST /v1/predict/{deployment}`` (``batch``: ``.../batch``): the route's
    body, shared with :class:`cairn.serving.predict_lane.PredictLane`."""
    predictor.deployment(deployment)
    body = await read_body(
        request.headers.get("content-length"), request.stream(), limits.max_body_bytes
    )
    rows = parse_predict(body, limits, batch=batch)
    scored = await predictor.predict(deployment, rows)
    if batch:
        return json_response({"predictions": [s.to_json() for s in scored]})
    return json_response(scored[0].to_json())


def check_admin(
    header: str | None, token: AdminTokens | str | None, role: Role = "deployer"
) -> Principal:
    """The principal of the request's admin bearer token if its role covers ``role``.

    ``token`` is one token with every role (``CAIRN_ADMIN_TOKEN``) or :class:`AdminTokens`
    with roles; 403 when none is configured or the role is too low, 401 for a missing or
    unknown token.

    Example
    -------
    >>> check_admin("Bearer s3cret", "s3cret").role
    'admin'
    """
    return AdminTokens.of(token).require(header, role)
