"""The predict path: online features -> native booster -> threshold -> reason codes -> log.

A :class:`Predictor` holds the deployments, the models they are bound to (loaded and warmed
through a :class:`~cairn.serving.models.ModelLoader`, swapped atomically when an alias moves),
the prediction log and the outcome log. Routes (:mod:`cairn.serving.predict`) only parse and
answer.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool

from cairn.core.errors import OnlineStoreError
from cairn.core.predictions import PredictionRecord, ReasonCode
from cairn.explain import ReasonCodeBook, summarize, top_reasons, tree_contributions
from cairn.serving.deployments import Deployment
from cairn.serving.errors import ApiError
from cairn.serving.log_records import prediction_row
from cairn.serving.models import ModelLoader, ScoringModel
from cairn.serving.predict_request import PredictRow
from cairn.serving.prediction_log import SegmentLog
from cairn.serving.prediction_metrics import PredictionMetrics
from cairn.serving.protocols import FeatureReader

logger = logging.getLogger("cairn.serving")
RECENT = 10_000
"""Predictions kept in memory for ``GET /v1/explanations/{id}`` (older ones: from the log)."""


@dataclass(frozen=True)
class Scored:
    """One answered row: its record and the summary sentence."""

    record: PredictionRecord
    summary: str

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
            "flags": {
                "fallback": r.fallback is not None,
                "fallback_kind": r.fallback,
                "entity_unknown": r.entity_unknown,
            },
        }


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
    ) -> None:
        self.deployments = dict(deployments)
        self.loader = loader
        self.reader = reader
        self.log = log
        self.books = dict(books or {})
        self.offload = offload
        self.metrics = metrics
        self.models: dict[str, ScoringModel] = {}
        self._recent: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._refresh_lock = threading.Lock()

    # -- models -------------------------------------------------------------------------

    def refs(self) -> list[str]:
        """Every model reference the deployments and their fallbacks use."""
        refs = [d.model for d in self.deployments.values()]
        refs += [
            d.fallback.model for d in self.deployments.values() if d.fallback and d.fallback.model
        ]
        return sorted(set(refs))

    def refresh(self) -> list[str]:
        """Load (and warm) every model whose reference now points at another version.

        A registry that does not answer leaves the loaded models serving; returns the
        references that moved.
        """
        moved: list[str] = []
        with self._refresh_lock:
            for ref in self.refs():
                try:
                    version = self.loader.resolve(ref)
                    current = self.models.get(ref)
                    if current is not None and current.version == version:
                        continue
                    model = self.loader.load(ref, version)
                    model.warm()
                except Exception as exc:  # keep serving what was loaded
                    logger.warning("Could not load %s; keeping the loaded model: %s", ref, exc)
                    continue
                self.models[ref] = model  # one assignment: requests see old or new, whole
                moved.append(ref)
                logger.info("Serving %s as %s/%s", ref, model.name, model.version)
        return moved

    def ready(self) -> None:
        """Raise unless every deployment has its model loaded."""
        missing = [d.name for d in self.deployments.values() if d.model not in self.models]
        if missing:
            raise OnlineStoreError(f"No model loaded yet for deployment(s) {', '.join(missing)}.")

    # -- predict ------------------------------------------------------------------------

    def deployment(self, name: str) -> Deployment:
        """The deployment called ``name``; a 404 naming the known ones otherwise."""
        dep = self.deployments.get(name)
        if dep is None:
            known = ", ".join(sorted(self.deployments)) or "none (add deployments.yaml)"
            raise ApiError(
                404, "unknown_deployment", f"No deployment {name!r}; deployments: {known}."
            )
        return dep

    async def predict(self, name: str, rows: Sequence[PredictRow]) -> list[Scored]:
        """Score ``rows`` for deployment ``name``, log them, and return the answers."""
        dep = self.deployment(name)
        model = self.models.get(dep.model)
        if model is None:
            self._error(name, "model_unavailable")
            raise ApiError(
                503,
                "model_unavailable",
                f"Deployment {name!r} has no model loaded yet ({dep.model}).",
            )
        self._check_inputs(model, rows)
        start = time.perf_counter()
        fallback: str | None = None
        found = [True] * len(rows)
        try:
            values = await self._features(dep, model, rows)
            found = values.pop("found", found)
            inputs = [
                {**{f: values[f][i] for f in model.features if f in values}, **row.features}
                for i, row in enumerate(rows)
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
            model = self.models.get(dep.fallback.model or dep.model, model)
            inputs = [{**dep.fallback.defaults, **row.features} for row in rows]
        scored = self._score(dep, model, rows, inputs, found, fallback, start)
        self.log.append_many([orjson.dumps(prediction_row(s.record)) + b"\n" for s in scored])
        if self.log.durability == "fsync":
            await run_in_threadpool(self.log.sync)
        for s in scored:
            self._remember(s.record)
            if self.metrics:
                self.metrics.observe(
                    name, s.record.arm, s.record.decision, s.record.latency_ms / 1000
                )
        return scored

    def _check_inputs(self, model: ScoringModel, rows: Sequence[PredictRow]) -> None:
        allowed = set(model.features)
        for i, row in enumerate(rows):
            for key in row.features:
                if key not in allowed:
                    raise ApiError(
                        422,
                        "unknown_feature",
                        f"Request feature {key!r} (row {i}) is not an input of model "
                        f"{model.name}/{model.version}; its inputs: {', '.join(model.features)}.",
                    )

    async def _features(
        self, dep: Deployment, model: ScoringModel, rows: Sequence[PredictRow]
    ) -> dict[str, list[Any]]:
        refs = model.online_refs
        entities = [r.entity for r in rows]
        if not refs:
            return {"found": [True] * len(rows)}
        if not self.offload:
            return dict(self.reader(refs, entities, False))
        call = run_in_threadpool(self.reader, refs, entities, False)
        return dict(await asyncio.wait_for(call, dep.feature_budget_ms / 1000))

    def _score(
        self,
        dep: Deployment,
        model: ScoringModel,
        rows: Sequence[PredictRow],
        inputs: list[dict[str, Any]],
        found: list[bool],
        fallback: str | None,
        start: float,
    ) -> list[Scored]:
        if fallback == "rules":
            assert dep.fallback is not None and dep.fallback.score is not None
            scores = [dep.fallback.score] * len(rows)
            name, version, X = "rules", "0", None
        else:
            X = model.matrix(inputs)
            scores = model.score(X).tolist()
            name, version = model.name, model.version
        decisions = ["decline" if s >= dep.threshold else "approve" for s in scores]
        explain = [
            X is not None
            and (dep.explain == "always" or (dep.explain == "declines" and d == "decline"))
            for d in decisions
        ]
        reasons: dict[int, list[ReasonCode]] = {}
        wanted = [i for i, e in enumerate(explain) if e]
        if wanted and X is not None:
            phi = tree_contributions(model.booster, X[wanted])
            for row_phi, i in zip(phi, wanted, strict=True):
                reasons[i] = self.reasons(dep, model, row_phi[:-1].tolist(), inputs[i])
        now = time.time_ns() // 1000
        latency = round((time.perf_counter() - start) * 1000, 3)
        out: list[Scored] = []
        for i, row in enumerate(rows):
            vector = (
                {f: inputs[i].get(f) for f in model.features} if X is not None else dict(inputs[i])
            )
            record = PredictionRecord(
                prediction_id=uuid.uuid4().hex,
                time=now,
                deployment=dep.name,
                model_name=name,
                model_version=version,
                entity=row.entity,
                features=vector,
                score=float(scores[i]),
                decision=decisions[i],
                latency_ms=latency,
                unit_id=row.unit_id,
                reason_codes=reasons.get(i, []),
                explained=explain[i],
                fallback=fallback,
                entity_unknown=not found[i],
            )
            out.append(Scored(record, summarize(record.reason_codes, record.decision)))
        return out

    def reasons(
        self, dep: Deployment, model: ScoringModel, phi: list[float], values: Mapping[str, Any]
    ) -> list[ReasonCode]:
        """Reason codes of one row from its contributions (bias excluded)."""
        return top_reasons(
            phi,
            model.features,
            [values.get(f) for f in model.features],
            self.books.get(dep.name) or ReasonCodeBook(),
            categorical=frozenset(model.categories),
            references=model.references,
            k=dep.top_k,
        )

    def _remember(self, record: PredictionRecord) -> None:
        self._recent[record.prediction_id] = prediction_row(record)
        if len(self._recent) > RECENT:
            self._recent.popitem(last=False)

    def _error(self, deployment: str, type_: str) -> None:
        if self.metrics:
            self.metrics.error(deployment, type_)

    # -- explanations -------------------------------------------------------------------

    def explanation(self, prediction_id: str) -> dict[str, Any]:
        """The stored explanation of a prediction, or one computed from its logged features."""
        row = self._recent.get(prediction_id) or self._find_in_log(prediction_id)
        if row is None:
            raise ApiError(
                404, "unknown_prediction", f"No prediction {prediction_id!r} in the log."
            )
        codes = orjson.loads(row["reason_codes"] or "[]")
        computed = False
        if not row["explained"]:
            codes = [c.to_dict() for c in self._compute(row)]
            computed = True
            if prediction_id in self._recent:  # later calls return it without recomputing
                explained = {**row, "reason_codes": orjson.dumps(codes).decode(), "explained": True}
                self._recent[prediction_id] = explained
        reasons = [ReasonCode(**c) for c in codes]
        return {
            "prediction_id": prediction_id,
            "deployment": row["deployment"],
            "model": {"name": row["model_name"], "version": row["model_version"]},
            "score": row["score"],
            "decision": row["decision"],
            "reason_codes": codes,
            "summary": summarize(reasons, row["decision"]),
            "computed": computed,
        }

    def _compute(self, row: Mapping[str, Any]) -> list[ReasonCode]:
        model = next(
            (
                m
                for m in self.models.values()
                if m.name == row["model_name"] and m.version == row["model_version"]
            ),
            None,
        )
        if model is None:
            raise ApiError(
                409,
                "model_not_loaded",
                f"Prediction {row['prediction_id']!r} was scored by {row['model_name']}/"
                f"{row['model_version']}, which this server does not have loaded.",
            )
        values = orjson.loads(row["features"] or "{}")
        phi = tree_contributions(model.booster, model.matrix([values]))[0, :-1].tolist()
        dep = self.deployments.get(row["deployment"]) or next(iter(self.deployments.values()))
        return self.reasons(dep, model, phi, values)

    def _find_in_log(self, prediction_id: str) -> dict[str, Any] | None:
        needle = prediction_id.encode()
        for line in self.log.staged_lines():
            if needle in line:
                try:
                    found: dict[str, Any] = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if found.get("prediction_id") == prediction_id:
                    return found
        return find_segment_row(self.log.directory, prediction_id)


def find_segment_row(directory: Path, prediction_id: str) -> dict[str, Any] | None:
    """One prediction's row from the Parquet segments, or None."""
    import duckdb

    if not any(directory.glob("*.parquet")):
        return None
    with duckdb.connect() as con:
        cursor = con.execute(
            "SELECT * FROM read_parquet(?) WHERE prediction_id = ? LIMIT 1",
            [str(directory / "*.parquet"), prediction_id],
        )
        names = [d[0] for d in cursor.description or []]
        hit = cursor.fetchone()
    return None if hit is None else dict(zip(names, hit, strict=True))
