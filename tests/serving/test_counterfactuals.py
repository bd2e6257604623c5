"""The serving side of counterfactuals (:mod:`cairn.serving.counterfactuals`) on an in-memory
model: only the unfavorable decision is turned (whichever of positive and negative it is), a row
the model itself scores favorably has none, and the response carries the declared names."""

from __future__ import annotations

import numpy as np

from cairn.core.deployments import Deployment
from cairn.serving.counterfactuals import counterfactual_body, counterfactual_of, unfavorable
from cairn.serving.models import ScoringModel

FloatMatrix = np.ndarray


class Linear:
    """P(positive) rises with ``x`` (a logistic model; contributions = the margin, bias 0)."""

    family = "linear"
    units = "log-odds"

    def margin(self, X: FloatMatrix) -> FloatMatrix:
        return np.asarray(X[:, 0] - 5.0, dtype=np.float64)

    def predict(self, X: FloatMatrix) -> FloatMatrix:
        return np.asarray(1 / (1 + np.exp(-self.margin(X))), dtype=np.float64)

    def contributions(self, X: FloatMatrix) -> FloatMatrix:
        return np.column_stack([self.margin(X), np.zeros((len(X), 1)), np.zeros(len(X))])

    def references(self) -> dict[str, float]:
        return {"x": 5.0}

    def warm(self) -> None:
        self.predict(np.zeros((1, 2)))


MODEL = ScoringModel("m", "1", Linear(), ["x", "home"], [None, None], {"home": ["own", "rent"]})
POLICY = {"ranges": {"x": [0, 10]}, "immutable": ["home"]}


def _dep(favorable: str) -> Deployment:
    decision = {"positive": "contact", "negative": "skip", "favorable": favorable}
    spec = {"model": "m/1", "threshold": 0.5, "decision": decision, "counterfactual": POLICY}
    return Deployment.from_dict("offer", spec)


def test_the_unfavorable_decision_is_turned_whichever_it_is() -> None:
    offer = _dep("positive")  # skipping someone is unfavorable: turn skip into contact
    assert unfavorable(offer, "skip") and not unfavorable(offer, "contact")
    assert not unfavorable(offer, "refer")
    cf = counterfactual_of(offer, MODEL, {"x": 3, "home": "own"})
    assert cf is not None and cf.found and cf.positive is True
    assert [(c.feature, c.before) for c in cf.changes] == [("x", 3)] and cf.changes[0].after >= 5
    body = counterfactual_body(
        offer, MODEL, {"prediction_id": "p1", "score": 0.1, "decision": "skip"}, cf
    )
    assert body["counterfactual"]["decision"] == "contact" and body["model"] == {
        "name": "m",
        "version": "1",
    }
    assert (body["prediction_id"], body["threshold"], body["decision"]) == ("p1", 0.5, "skip")
    assert counterfactual_of(offer, MODEL, {"x": 7, "home": "own"}) is None  # contacted already

    block = _dep("negative")  # contact is unfavorable here: turn contact into skip
    cf = counterfactual_of(block, MODEL, {"x": 7, "home": "rent"})
    assert cf is not None and cf.found and cf.positive is False and cf.changes[0].after < 5
    assert counterfactual_of(block, MODEL, {"x": 3, "home": "rent"}) is None
