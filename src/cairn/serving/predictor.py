"""The predict path: route -> online features -> native booster -> threshold -> reason codes
-> log -> shadow queue.

A :class:`Predictor` holds the deployments, their rollouts (a router per deployment: single,
blue-green, canary or A/B; see :mod:`cairn.serving.routing`), the models those need (loaded
and warmed through a :class:`~cairn.serving.models.ModelLoader`; a new rollout or a moved alias
takes effect in one reference assignment, after its models are loaded), the prediction log and
the shadow queue. Routes (:mod:`cairn.serving.predict`) only parse and answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from cairn.core.deployments import Deployment, UnknownDeploymentError, find_deployment
from cairn.core.errors import OnlineStoreError
from cairn.core.predictions import REFER, PredictionRecord, ReasonCode
from cairn.core.timeutil import format_duration
from cairn.explain import ReasonCodeBook, summarize
from cairn.serving.decisions import decide, reason_codes
from cairn.serving.errors import ApiError
from cairn.serving.explaining import codes_with_errors, explain_matrix, is_exact, method_of
from cairn.serving.log_records import prediction_row
from cairn.serving.models import ModelLoader, ScoringModel
from cairn.serving.predict_request import PredictRow
from cairn.serving.prediction_log import SegmentLog
from cairn.serving.prediction_metrics import PredictionMetrics
from cairn.serving.protocols import FeatureReader
from cairn.serving.refusals import refused_rows
from cairn.serving.routing import RolloutSpec, Route, ShadowJob, ShadowQueue
from cairn.serving.routing.plan import Plan
from cairn.serving.routing.rollouts import Rollouts
from cairn.serving.routing.shadow import DEFAULT_MAXSIZE, shadow_records

logger = logging.getLogger("cairn.serving")
RECENT = 10_000
"""Predictions kept in memory for ``GET /v1/explanations/{id}`` (older ones: from the log)."""


@dataclass
class Scored:
    """One answered row: its record, the summary sentence and the whole request's wall time
    (set once every row of the request is scored)."""

    record: PredictionRecord
    summary: str
    request_ms: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The response body of one prediction."""
        r = self.record
        return {
            "prediction_id": r.prediction_id,
            "deployment": r.deployment,
            "model": {"name": r.model_name, "version": r.model_version},
            "score": r.score,
            "decision": r.decision,
            "reason_codes": [c.to_dict() for c in r.reason_codes],
            "summary": self.summary,
            "latency_ms": r.latency_ms,
            "request_ms": self.request_ms,
            "rows_in_request": r.rows_in_request,
            "features_missing": r.features_missing or 0,
            "features_missing_names": r.features_missing_names or [],
            "flags": {
                "fallback": r.fallback is not None,
                "fallback_kind": r.fallback,
                "entity_unknown": r.entity_unknown,
            },
        }


_SEEDED = frozenset({"canary", "ab"})
"""Strategies that assign units by hash (their records carry the seed)."""


def unit_of(entity: Mapping[str, Any]) -> str:
    """The unit a row is assigned by when it gives no ``unit_id``: its entity key's value.

    Example
    -------
    >>> unit_of({"customer_id": 42}), unit_of({"b": 2, "a": "x"})
    ('42', 'x|2')
    """
    if len(entity) == 1:
        return str(next(iter(entity.values())))
    return "|".join(str(entity[k]) for k in sorted(entity))


def _missing(values: Mapping[str, Any], features: Sequence[str]) -> list[str]:
    """The features without a value (None or NaN) in ``values``.

    Example
    -------
    >>> _missing({"a": 1.0, "b": None, "c": float("nan")}, ["a", "b", "c", "d"])
    ['b', 'c', 'd']
    """
    out = []
    for f in features:
        v = values.get(f)
        if v is None or v != v:  # NaN is the only value unequal to itself
            out.append(f)
    return out


def _version(model: ScoringModel | None) -> str | None:
    return None if model is None else model.version


@dataclass(frozen=True)
class _Batch:
    """One request on its way through scoring (what every arm's group shares)."""

    dep: Deployment
    plan: Plan
    rows: Sequence[PredictRow]
    inputs: list[dict[str, Any]]
    found: list[bool]
    fallback: str | None
    routes: list[Route]
    units: list[str]
    start: float
    read_done: float
    refer: frozenset[int] = frozenset()
    """Rows the coverage guard refers: scored and logged, but decided ``refer``."""


class Predictor:
    """Scores rows for named deployments.

    Parameters
    ----------
    deployments:
        Name -> deployment.
    loader:
        Loads models from the registry.
    reader:
        Reads online features.
    log:
        The prediction log.
    books:
        Reason-code book per deployment (a default book names features generically).
    offload:
        Read features in the thread pool, bounded by each deployment's feature budget.
    rollouts:
        Deployment -> rollout spec; a deployment without one serves its ``deployments.yaml``
        model alone (strategy ``single``, arm ``main``).
    shadow_queue:
        Rows the shadow queue holds before it drops (and counts) new ones.
    """

    def __init__(
        self,
        deployments: Mapping[str, Deployment],
        loader: ModelLoader,
        reader: FeatureReader,
        log: SegmentLog,
        *,
        books: Mapping[str, ReasonCodeBook] | None = None,
        offload: bool = True,
        metrics: PredictionMetrics | None = None,
        rollouts: Mapping[str, RolloutSpec] | None = None,
        shadow_queue: int = DEFAULT_MAXSIZE,
    ) -> None:
        self.deployments = dict(deployments)
        self.loader = loader
        self.reader = reader
        self.log = log
        self.books = dict(books or {})
        self.offload = offload
        self.metrics = metrics
        self.rollouts = Rollouts(deployments, loader, rollouts)
        self._recent: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.shadow = ShadowQueue(self._score_shadows, maxsize=shadow_queue, on_drop=self._drop)

    # -- models and rollouts --------------------------------------------------------------

    @property
    def models(self) -> Mapping[str, ScoringModel]:
        """Reference -> loaded model, for every model a rollout or fallback uses."""
        return self.rollouts.current.models

    @property
    def unapplied(self) -> Mapping[str, str]:
        """Deployment -> why its newest rollout is not served yet (a model failed to load)."""
        return self.rollouts.unapplied

    def rollout(self, name: str) -> RolloutSpec:
        """The rollout deployment ``name`` serves now."""
        return self.rollouts.current.plans[self.deployment(name).name].router.spec

    def refs(self) -> list[str]:
        """Every model reference the rollouts (arms and shadows) and fallbacks use."""
        return self.rollouts.refs()

    def refresh(self) -> list[str]:
        """Load (and warm) every model whose reference now points at another version.

        A registry that does not answer leaves the loaded models serving; returns the
        references that moved.
        """
        return self.rollouts.refresh()

    def apply_rollouts(self, specs: Mapping[str, RolloutSpec]) -> list[str]:
        """Serve ``specs`` (deployment -> rollout); returns the deployments whose rollout changed.

        Every model the new rollouts need is loaded and warmed first; then the routers and
        models change in one assignment, so no request meets a half-loaded model. A deployment
        whose new arms cannot all be loaded keeps its current rollout and is listed in
        :attr:`unapplied` (call again to retry). Deployments without a spec serve their
        ``deployments.yaml`` model.
        """
        return self.rollouts.apply(specs)

    def ready(self) -> None:
        """Raise unless every deployment has its control model loaded (naming the refused
        versions when a refusal is why)."""
        plans = self.rollouts.current.plans
        missing = [name for name, plan in plans.items() if plan.control is None]
        if missing:
            refused = {(r["deployment"], r["ref"]): r for r in self.refused()}
            why = []
            for name in missing:
                control = plans[name].router.control.model
                r = refused.get((name, control))
                if r is not None:
                    why.append(f"{name} ({control} -> {r['model']}/{r['version']} refused)")
                else:
                    why.append(name)
            raise OnlineStoreError(f"No model loaded yet for deployment(s) {', '.join(why)}.")

    def refused(self) -> list[dict[str, Any]]:
        """Per deployment, each model version it needs that this server refused to load
        (``/readyz``'s ``refused``: deployment, ref, model, version, reason, serving)."""
        serving = self.rollouts.current
        pending = self.rollouts.unapplied_refs
        needs: dict[str, list[str]] = {}
        for name, plan in serving.plans.items():
            dep = self.deployments[name]
            refs = [*plan.router.spec.models(), *pending.get(name, [])]
            if dep.fallback is not None and dep.fallback.model:
                refs.append(dep.fallback.model)
            needs[name] = refs
        versions = {ref: m.version for ref, m in serving.models.items()}
        return refused_rows(self.rollouts.refusals.current(), needs, versions)

    def describe(self) -> dict[str, Any]:
        """Each deployment's settings, rollout and loaded versions (``GET /v1/deployments``)."""
        queue = {"pending": self.shadow.pending, "scored": self.shadow.done}
        queue["dropped"] = self.shadow.dropped  # one queue, shared by every deployment
        out: dict[str, Any] = {}
        for name, dep in self.deployments.items():
            plan = self.rollouts.current.plans[name]
            out[name] = {
                "model": plan.router.control.model,
                "version": _version(plan.control),
                "threshold": dep.threshold,
                "explain": dep.explain,
                "sampling": {  # how a model with sampled contributions is explained
                    "on_request": dep.sampling.on_request,
                    "permutations": dep.sampling.permutations,
                    "seed": dep.sampling.seed,
                },
                "decision": {
                    "positive": dep.decision.positive,
                    "negative": dep.decision.negative,
                    "favorable": dep.decision.favorable_decision,
                },
                "label": {"name": dep.label.name, "maturity": format_duration(dep.label.maturity)},
                "fallback": None if dep.fallback is None else dep.fallback.kind,
                "rollout": {
                    **plan.to_json(),
                    "pending": self.unapplied.get(name),
                    "shadow_queue": queue,
                },
            }
        return out

    # -- predict ------------------------------------------------------------------------

    def deployment(self, name: str) -> Deployment:
        """The deployment called ``name``; a 404 naming the known ones otherwise."""
        try:
            return find_deployment(self.deployments, name)
        except UnknownDeploymentError as exc:
            raise ApiError(404, "unknown_deployment", str(exc)) from None

    async def predict(self, name: str, rows: Sequence[PredictRow]) -> list[Scored]:
        """Route, score and log ``rows`` for deployment ``name``, and return the answers.

        Each row goes to the arm its unit (``unit_id``, else the entity key) is assigned to;
        an arm whose model fails answers with the control model and logs ``error``. Shadow
        models score the rows after the answer is logged, off the request path.
        """
        dep = self.deployment(name)
        serving = self.rollouts.current  # read once: this request sees one rollout
        plan = serving.plans[name]
        control = plan.control
        if control is None:
            self._error(name, "model_unavailable")
            raise ApiError(
                503,
                "model_unavailable",
                f"Deployment {name!r} has no model loaded yet ({plan.router.control.model}).",
            )
        self._check_inputs(plan, control, rows)
        start = time.perf_counter()
        units = [row.unit_id or unit_of(row.entity) for row in rows]
        choose = plan.router.choose
        routes = [choose(u) for u in units]
        fallback: str | None = None
        found = [True] * len(rows)
        try:
            values = await self._features(dep, plan.online_refs, rows)
            found = values.pop("found", found)
            names = [f for f in plan.allowed if f in values]
            inputs = [
                {**{f: values[f][i] for f in names}, **row.features} for i, row in enumerate(rows)
            ]
        except (OnlineStoreError, TimeoutError) as exc:
            if dep.fallback is None:
                self._error(name, "online_store_unavailable")
                raise OnlineStoreError(
                    f"Online features for deployment {name!r} are unavailable and it has no "
                    f"fallback: {str(exc) or f'the read took over {dep.feature_budget_ms:g} ms'}."
                ) from None
            fallback = dep.fallback.kind
            reason = "timeout" if isinstance(exc, TimeoutError) else "store_down"
            logger.warning("Deployment %s: fallback %s (%s: %s)", name, fallback, reason, exc)
            if self.metrics:
                self.metrics.fallback(name, reason, len(rows))
            inputs = [{**dep.fallback.defaults, **row.features} for row in rows]
        read_done = time.perf_counter()
        guard: dict[int, str] = {}
        if fallback is None:
            guard = self._guard(dep, control, rows, inputs, found)
        refer = frozenset(i for i, a in guard.items() if a == "refer")
        batch = _Batch(
            dep, plan, rows, inputs, found, fallback, routes, units, start, read_done, refer
        )
        fallback_model = (
            serving.models.get(dep.fallback.model or "", control) if dep.fallback else control
        )
        if fallback is not None:
            scored = self._score(batch, fallback_model, range(len(rows)), time.perf_counter())
        elif len(refer) == len(guard):  # no row falls back
            scored = self._score_arms(batch, control, range(len(rows)))
        else:
            scored = self._score_mixed(batch, control, fallback_model, guard)
        request_ms = round((time.perf_counter() - start) * 1000, 3)
        logged = []  # serialized once: log and memory
        for s in scored:
            s.request_ms = request_ms
            row = prediction_row(s.record)
            row["request_ms"] = request_ms
            logged.append(row)
        self.log.append_many([orjson.dumps(row) + b"\n" for row in logged])
        if self.log.durability == "fsync":
            await run_in_threadpool(self.log.sync)
        for row in logged:
            self._remember(row)
        if self.metrics:
            for s in scored:
                self.metrics.observe(
                    name,
                    s.record.arm,
                    s.record.decision,
                    s.record.latency_ms / 1000,
                    positive=s.record.positive,
                )
        if plan.shadows and fallback is None:
            self.shadow.start()
            self.shadow.offer(
                ShadowJob(name, tuple(plan.shadows), inputs, [s.record for s in scored])
            )
        return scored

    def _guard(
        self,
        dep: Deployment,
        control: ScoringModel,
        rows: Sequence[PredictRow],
        inputs: list[dict[str, Any]],
        found: list[bool],
    ) -> dict[int, str]:
        """Row -> ``refer`` or ``fallback`` for the rows the deployment's coverage does not let
        the model decide; a 422 naming the rows when it says ``reject``."""
        cov, features = dep.coverage, control.features
        out: dict[int, str] = {}
        rejected: list[str] = []
        for i, values in enumerate(inputs):
            missing = _missing(values, features)
            action = cov.action(
                present=len(features) - len(missing), total=len(features), known=found[i]
            )
            if action is None or action == "score":
                continue
            if action == "reject":
                why = "unknown entity" if not found[i] else f"missing {', '.join(missing)}"
                entity = orjson.dumps(rows[i].entity).decode()
                rejected.append(f"row {i} {entity} ({why})")
                continue
            out[i] = action
        if rejected:
            raise ApiError(
                422,
                "insufficient_data",
                f"Deployment {dep.name!r} needs at least {cov.min_share:.0%} of the features of "
                f"{control.name}/{control.version} and a known entity; rejected: "
                f"{'; '.join(rejected[:10])}{' ...' if len(rejected) > 10 else ''}.",
            )
        return out

    def _score_mixed(
        self,
        batch: _Batch,
        control: ScoringModel,
        fallback_model: ScoringModel,
        guard: Mapping[int, str],
    ) -> list[Scored]:
        """Score a request some of whose rows the coverage guard sends to the fallback."""
        dep = batch.dep
        assert dep.fallback is not None  # the deployment's spec checks it
        back = [i for i, a in guard.items() if a == "fallback"]
        rest = [i for i in range(len(batch.rows)) if guard.get(i) != "fallback"]
        defaults = dep.fallback.defaults
        inputs = list(batch.inputs)
        for i in back:
            present = {k: v for k, v in inputs[i].items() if v is not None}
            inputs[i] = {**defaults, **present}
        fb = replace(batch, inputs=inputs, fallback=dep.fallback.kind)
        out: list[Scored | None] = [None] * len(batch.rows)
        began = time.perf_counter()
        for i, s in zip(back, self._score(fb, fallback_model, back, began), strict=True):
            out[i] = s
        if rest:
            for i, s in zip(rest, self._score_arms(batch, control, rest), strict=True):
                out[i] = s
        return [s for s in out if s is not None]

    def _check_inputs(self, plan: Plan, control: ScoringModel, rows: Sequence[PredictRow]) -> None:
        allowed = plan.allowed
        for i, row in enumerate(rows):
            for key in row.features:
                if key not in allowed:
                    raise ApiError(
                        422,
                        "unknown_feature",
                        f"Request feature {key!r} (row {i}) is not an input of model "
                        f"{control.name}/{control.version}; its inputs: "
                        f"{', '.join(control.features)}.",
                    )

    async def _features(
        self, dep: Deployment, refs: list[str], rows: Sequence[PredictRow]
    ) -> dict[str, list[Any]]:
        entities = [r.entity for r in rows]
        if not refs:
            return {"found": [True] * len(rows)}
        if not self.offload:
            return dict(self.reader(refs, entities, False))
        call = run_in_threadpool(self.reader, refs, entities, False)
        return dict(await asyncio.wait_for(call, dep.feature_budget_ms / 1000))

    def _score_arms(
        self, batch: _Batch, control: ScoringModel, indices: Sequence[int]
    ) -> list[Scored]:
        """Score rows ``indices`` of the batch by arm; answers in the order of ``indices``."""
        groups: dict[Route, list[int]] = {}
        routes = batch.routes
        for i in indices:
            groups.setdefault(routes[i], []).append(i)
        if len(groups) == 1:  # the common case: one arm for the whole request
            route, rows = next(iter(groups.items()))
            return self._score_arm(batch, route, rows, control)
        out: dict[int, Scored] = {}
        for route, rows in groups.items():
            for i, s in zip(rows, self._score_arm(batch, route, rows, control), strict=True):
                out[i] = s
        return [out[i] for i in indices]

    def _score_arm(
        self, batch: _Batch, route: Route, rows: list[int], control: ScoringModel
    ) -> list[Scored]:
        began = time.perf_counter()
        model = batch.plan.arms.get(route.arm)
        try:
            if model is None:
                raise LookupError(f"model {route.model} is not loaded")
            return self._score(batch, model, rows, began)
        except Exception as exc:
            if model is control:
                raise
            error = f"{type(exc).__name__}: {exc}"[:500]
            try:
                scored = self._score(batch, control, rows, began, error)
            except Exception:
                raise exc from None  # the control fails too: the input is at fault
            name = batch.dep.name
            logger.warning(
                "Deployment %s arm %s failed; control answered: %s", name, route.arm, error
            )
            if self.metrics:
                self.metrics.arm_error(name, route.arm, len(rows))
            return scored

    def _score(
        self,
        batch: _Batch,
        model: ScoringModel,
        rows: Sequence[int],
        began: float,
        error: str | None = None,
    ) -> list[Scored]:
        dep, fallback = batch.dep, batch.fallback
        inputs = [batch.inputs[i] for i in rows]
        if fallback == "rules":
            assert dep.fallback is not None and dep.fallback.score is not None
            scores = [dep.fallback.score] * len(rows)
            name, version, X = "rules", "0", None
        else:
            X = model.matrix(inputs)
            scores = model.score(X).tolist()
            name, version = model.name, model.version
        refer = [j for j, i in enumerate(rows) if i in batch.refer] if batch.refer else []
        decided = decide(dep, model, X, scores, inputs, self.books.get(dep.name), refer=refer)
        decisions, explain, reasons = decided.decisions, decided.explained, decided.reasons
        now = time.time_ns() // 1000
        done = time.perf_counter()
        n = len(batch.rows)  # per row: its share of the feature read and of its group's model time
        feature_ms = round((batch.read_done - batch.start) * 1000 / n, 4)
        model_ms = round((done - began) * 1000 / max(len(rows), 1), 4)
        latency = round(feature_ms + model_ms, 3)
        spec = batch.plan.router.spec  # every route of a plan has its spec's strategy
        seed = spec.seed if spec.strategy in _SEEDED else None
        out: list[Scored] = []
        for j, i in enumerate(rows):
            route = batch.routes[i]
            vector = (
                {f: inputs[j].get(f) for f in model.features} if X is not None else dict(inputs[j])
            )
            missing = _missing(vector, model.features) if X is not None else []
            record = PredictionRecord(
                prediction_id=uuid.uuid4().hex,
                time=now,
                deployment=dep.name,
                model_name=name,
                model_version=version,
                entity=batch.rows[i].entity,
                features=vector,
                score=float(scores[j]),
                decision=decisions[j],
                latency_ms=latency,
                strategy=route.strategy,
                arm=route.arm,
                unit_id=batch.units[i],
                reason_codes=reasons.get(j, []),
                explained=explain[j],
                fallback=fallback,
                entity_unknown=not batch.found[i],
                seed=seed,
                exposed=route.exposed,
                error=error,
                positive=None if decisions[j] == REFER else decisions[j] == dep.decision.positive,
                rows_in_request=n,
                model_ms=model_ms,
                feature_ms=feature_ms,
                features_missing=len(missing),
                features_missing_names=missing,
            )
            out.append(Scored(record, decided.summary(j)))
        return out

    # -- shadow ---------------------------------------------------------------------------

    def _score_shadows(self, job: ShadowJob) -> None:
        """Score one answered request with each shadow model; log under the same ids."""
        dep = self.deployments.get(job.deployment)
        models = self.rollouts.current.models
        lines: list[bytes] = []
        for ref in job.models:
            model = models.get(ref)
            if dep is None or model is None:
                continue
            time.sleep(0)  # let a waiting request take the interpreter between models
            try:
                records = shadow_records(job, ref, model, dep.threshold, self.reader, dep.decision)
            except Exception as exc:  # a broken challenger never touches the champion path
                logger.warning("Shadow model %s failed on %s: %s", ref, job.deployment, exc)
                continue
            lines += [orjson.dumps(prediction_row(r)) + b"\n" for r in records]
        if lines:
            self.log.append_many(lines)

    def _drop(self, job: ShadowJob) -> None:
        if self.metrics:
            self.metrics.dropped(job.deployment, len(job))

    def reasons(
        self, dep: Deployment, model: ScoringModel, phi: list[float], values: Mapping[str, Any]
    ) -> list[ReasonCode]:
        """Reason codes of one row from its contributions (bias excluded)."""
        return reason_codes(dep, model, phi, values, self.books.get(dep.name))

    def _remember(self, row: dict[str, Any]) -> None:
        self._recent[row["prediction_id"]] = row
        if len(self._recent) > RECENT:
            self._recent.popitem(last=False)

    def _error(self, deployment: str, type_: str) -> None:
        if self.metrics:
            self.metrics.error(deployment, type_)

    # -- explanations -------------------------------------------------------------------

    def explanation(
        self, prediction_id: str, *, method: str | None = None, permutations: int | None = None
    ) -> dict[str, Any]:
        """The explanation of a prediction: stored, or computed now from its logged features.

        A model with exact contributions answers its stored reason codes (computed now when
        the row was logged unexplained, then kept in memory). A model whose contributions are
        sampled is explained now with the deployment's ``sampling`` budget and seed (the same
        values every time), each code with its standard error. ``method="sampling"`` (or a
        ``permutations`` budget) samples any model's explanation now, not kept.
        """
        row = self._recent.get(prediction_id) or self._find_in_log(prediction_id)
        if row is None:
            raise ApiError(
                404, "unknown_prediction", f"No prediction {prediction_id!r} in the log."
            )
        resample = method == "sampling" or permutations is not None
        model = self._loaded(row)
        cached = None if resample else row.get("explanation")
        codes: list[dict[str, Any]] = orjson.loads(row["reason_codes"] or "[]")
        how: dict[str, Any] = {"method": None, "sampling": None}
        if model is not None:
            how["method"] = method_of(model)
        computed = False
        if cached is not None:
            codes, how = cached["codes"], cached["how"]
        elif row["decision"] != REFER and (
            resample or not row["explained"] or (model is not None and not is_exact(model))
        ):  # a referral has no reasons
            codes, how = self._compute(row, model, resample, permutations)
            computed = True
            if not resample and prediction_id in self._recent:  # kept: not recomputed
                keep = {"codes": codes, "how": how}
                self._recent[prediction_id] = {**row, "explained": True, "explanation": keep}
        reasons = [
            ReasonCode(**{k: v for k, v in c.items() if k != "standard_error"}) for c in codes
        ]
        dep = self.deployments.get(row["deployment"])
        positive = dep.decision.positive if dep is not None else None
        return {
            "prediction_id": prediction_id,
            "deployment": row["deployment"],
            "model": {"name": row["model_name"], "version": row["model_version"]},
            "score": row["score"],
            "decision": row["decision"],
            "reason_codes": codes,
            "summary": summarize(reasons, row["decision"], positive),
            "computed": computed,
            **how,
        }

    def counterfactual(self, prediction_id: str) -> dict[str, Any]:
        """The counterfactual of a logged unfavorable decision (:mod:`cairn.serving.
        counterfactuals`): 404 for an unknown id, 409 for a favorable decision, a referral, a
        model no longer loaded or a declaration naming a feature the model does not have (the
        declaration is checked against the model when a counterfactual is computed)."""
        from cairn.core.errors import ConfigError, DataError
        from cairn.serving.counterfactuals import (
            counterfactual_body,
            counterfactual_of,
            unfavorable,
        )

        row = self._recent.get(prediction_id) or self._find_in_log(prediction_id)
        if row is None:
            raise ApiError(
                404, "unknown_prediction", f"No prediction {prediction_id!r} in the log."
            )
        dep = self.deployments.get(row["deployment"])
        if dep is None:
            raise ApiError(
                409, "unknown_deployment",
                f"Prediction {prediction_id!r} was made by deployment {row['deployment']!r}, "
                "which this server no longer serves.",
            )  # fmt: skip
        if not unfavorable(dep, row["decision"]):
            what = "a referral" if row["decision"] == REFER else "favorable"
            raise ApiError(
                409, "not_unfavorable",
                f"Prediction {prediction_id!r} is {row['decision']!r} ({what}); counterfactuals "
                f"are computed for {dep.name}'s unfavorable decision only.",
            )  # fmt: skip
        model = self._loaded_model(row)
        values = orjson.loads(row["features"] or "{}")
        try:
            cf = counterfactual_of(dep, model, values)
        except (ConfigError, DataError) as exc:
            raise ApiError(409, "counterfactual_config", str(exc)) from None
        if cf is None:
            raise ApiError(
                409, "not_unfavorable",
                f"Prediction {prediction_id!r} is {row['decision']!r}, but "
                f"{model.name}/{model.version} scores its logged features favorably at "
                f"threshold {dep.threshold:g}; there is no decision to turn.",
            )  # fmt: skip
        return counterfactual_body(dep, model, row, cf)

    def _loaded_model(self, row: Mapping[str, Any]) -> ScoringModel:
        """The loaded model that scored a logged row; 409 when it is not loaded."""
        model = self._loaded(row)
        if model is None:
            raise ApiError(
                409,
                "model_not_loaded",
                f"Prediction {row['prediction_id']!r} was scored by {row['model_name']}/"
                f"{row['model_version']}, which this server does not have loaded.",
            )
        return model

    def _loaded(self, row: Mapping[str, Any]) -> ScoringModel | None:
        """The loaded model that scored ``row`` (None: this server does not have it)."""
        return next(
            (
                m
                for m in self.models.values()
                if m.name == row["model_name"] and m.version == row["model_version"]
            ),
            None,
        )

    def _compute(
        self,
        row: Mapping[str, Any],
        model: ScoringModel | None,
        resample: bool,
        permutations: int | None,
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        if model is None:
            model = self._loaded_model(row)  # not loaded: 409
        values = orjson.loads(row["features"] or "{}")
        dep = self.deployments.get(row["deployment"]) or next(iter(self.deployments.values()))
        explained = explain_matrix(
            model,
            model.matrix([values]),
            dep.sampling,
            sampled=resample,
            permutations=permutations,
        )
        phi = explained.contributions[0, :-1].tolist()
        codes = self.reasons(dep, model, phi, values)
        return codes_with_errors(codes, explained, model.features), explained.describe()

    def _find_in_log(self, prediction_id: str) -> dict[str, Any] | None:
        needle = prediction_id.encode()
        for line in self.log.staged_lines():
            if needle in line:
                try:
                    found: dict[str, Any] = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if found.get("prediction_id") == prediction_id and not found.get("shadow"):
                    return found
        return find_segment_row(self.log.directory, prediction_id)


def find_segment_row(directory: Path, prediction_id: str) -> dict[str, Any] | None:
    """One prediction's (primary, not shadow) row from the Parquet segments, or None."""
    import duckdb

    if not any(directory.glob("*.parquet")):
        return None
    with duckdb.connect() as con:
        cursor = con.execute(
            "SELECT * FROM read_parquet(?, union_by_name = true) WHERE prediction_id = ?",
            [str(directory / "*.parquet"), prediction_id],
        )
        names = [d[0] for d in cursor.description or []]
        rows = [dict(zip(names, hit, strict=True)) for hit in cursor.fetchall()]
    return next((row for row in rows if not row.get("shadow")), None)
