"""From scores to answers: the decision each score makes and the reason codes of the rows the
deployment explains.

One place for this step, shared by the live predict path
(:class:`~cairn.serving.predictor.Predictor`) and replay (:func:`cairn.serving.replay.score_rows`),
so a backtest decides and explains exactly as serving does.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cairn.core.deployments import Deployment
from cairn.core.predictions import REFER, ReasonCode
from cairn.explain import ReasonCodeBook, summarize, top_reasons
from cairn.serving.explaining import explain_matrix, explained_on_request
from cairn.serving.models import FloatMatrix, ScoringModel

__all__ = ["GENERIC_BOOK", "Decided", "decide", "explained_decisions", "reason_codes"]

GENERIC_BOOK = ReasonCodeBook()
"""The book of a deployment without one: names features generically."""


@dataclass(frozen=True)
class Decided:
    """The decisions of a batch of scores, which rows are explained, and their reason codes.

    ``reasons`` maps a row's position in the batch to its codes (explained rows only).
    """

    decisions: list[str]
    explained: list[bool]
    reasons: dict[int, list[ReasonCode]]
    positive: str | None = None
    """The deployment's positive decision (reason codes are the factors toward it)."""

    def summary(self, j: int) -> str:
        """The one-sentence summary of row ``j``'s decision and main reasons."""
        return summarize(self.reasons.get(j, []), self.decisions[j], self.positive)


def explained_decisions(dep: Deployment) -> frozenset[str]:
    """The decisions deployment ``dep`` explains (its ``explain`` policy).

    Example
    -------
    >>> from cairn.core.deployments import Deployment
    >>> sorted(explained_decisions(Deployment.from_dict("d", {"model": "m@champion"})))
    ['decline']
    """
    return frozenset(
        {
            "always": {dep.decision.positive, dep.decision.negative},
            "positive": {dep.decision.positive},
            "negative": {dep.decision.negative},
            "never": set(),
        }[dep.explain]
    )


def decide(
    dep: Deployment,
    model: ScoringModel,
    X: FloatMatrix | None,
    scores: Sequence[float],
    inputs: Sequence[Mapping[str, Any]],
    book: ReasonCodeBook | None = None,
    *,
    refer: Collection[int] = (),
) -> Decided:
    """Decide each score at the deployment's threshold and explain the rows its policy names.

    Parameters
    ----------
    dep:
        The deployment (threshold, decision names, explanation policy, ``top_k``).
    model:
        The model that scored (its family's scorer gives the contributions; a model whose
        contributions are sampled is explained here only with ``sampling.on_request``, see
        :mod:`cairn.serving.explaining`).
    X:
        The scored matrix (``model.matrix(inputs)``); None when no model scored (rules
        fallback): nothing is explained.
    scores:
        One score per row.
    inputs:
        The feature values of each row (column -> value), shown in the reason codes.
    book:
        The deployment's reason-code book (default: features named generically).
    refer:
        Rows the deployment's coverage guard refers: decided :data:`~cairn.core.predictions.REFER`
        whatever their score, never explained (a referral gives no adverse-action reasons).
    """
    decisions = [dep.decision.of(s, dep.threshold) for s in scores]
    for j in refer:
        decisions[j] = REFER
    wanted_decisions = explained_decisions(dep)
    here = X is not None and explained_on_request(dep, model)  # else: on demand only
    explain = [here and d in wanted_decisions for d in decisions]  # REFER: never
    reasons: dict[int, list[ReasonCode]] = {}
    wanted = [j for j, e in enumerate(explain) if e]
    if wanted and X is not None:
        phi = explain_matrix(model, X[wanted], dep.sampling).contributions
        for row_phi, j in zip(phi, wanted, strict=True):
            reasons[j] = reason_codes(dep, model, row_phi[:-1].tolist(), inputs[j], book)
    return Decided(decisions, explain, reasons, dep.decision.positive)


def reason_codes(
    dep: Deployment,
    model: ScoringModel,
    phi: list[float],
    values: Mapping[str, Any],
    book: ReasonCodeBook | None = None,
) -> list[ReasonCode]:
    """Reason codes of one row from its contributions (bias excluded)."""
    return top_reasons(
        phi,
        model.features,
        [values.get(f) for f in model.features],
        book or GENERIC_BOOK,
        categorical=model.categorical,
        references=model.references,
        k=dep.top_k,
    )
