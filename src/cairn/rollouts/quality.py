"""What the canary controller reads for the model-quality gates, from the prediction log.

:func:`stage_scores` returns each arm's primary rows of the stage (score, positive decision and
the outcome joined by prediction id, or by entity + event time, as experiment analysis joins
them: :func:`cairn.experiments.aggregate.labels_sql`); a label counts once it was observed.
:func:`candidate_shadow` compares the canary's model version, where it ran as a shadow of the
deployment before, with the primary model on the same requests (paired DeLong), which is the
shadow evidence the last stage may promote on.
"""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import numpy as np

from cairn.core.errors import CairnError
from cairn.core.predictions import REFER, positive_sql
from cairn.experiments.aggregate import has_entity_outcomes, labels_sql, log_columns
from cairn.experiments.champion.pairs import load_pairs
from cairn.experiments.model_gates import ArmScores, ShadowEvidence, shadow_evidence

ARMS = ("control", "canary")


def stage_scores(
    con: duckdb.DuckDBPyConnection, deployment: str, seed: str, since: int
) -> dict[str, ArmScores]:
    """Both arms' scores, positive decisions and observed labels (NaN: none yet) of the primary
    rows of the canary with assignment ``seed`` logged since ``since`` (epoch µs). Referrals
    (decision ``refer``: too little data, a person decides) are left out: the model decided
    none of them, and their scores stand on missing values.

    Example
    -------
    >>> import tempfile
    >>> from cairn.serving.log_reader import PredictionLog
    >>> with PredictionLog(tempfile.mkdtemp()).connect() as con:
    ...     arms = stage_scores(con, "credit", "credit-canary-1", 0)
    >>> arms["canary"].n, arms["control"].labeled
    (0, 0)
    """
    columns = log_columns(con)
    outcomes = labels_sql(entity_outcomes=has_entity_outcomes(con))
    sql = f"""
WITH base AS (
 SELECT prediction_id, entity, time, arm, score, {positive_sql(columns)} AS positive
 FROM predictions
 WHERE deployment = $deployment AND strategy = 'canary' AND seed = $seed
   AND arm IN ('control', 'canary') AND NOT coalesce(shadow, false)
   AND epoch_us(time) >= $since AND score IS NOT NULL
   AND coalesce(decision, '') <> '{REFER}'
),{outcomes}
SELECT b.arm, b.score, coalesce(b.positive, false) AS positive, l.label
FROM base b LEFT JOIN labels l USING (prediction_id)
"""
    params = {
        "deployment": deployment,
        "seed": seed,
        "since": since,
        "as_of": datetime.now(UTC),
    }
    data = con.execute(sql, params).fetchnumpy()
    arm = np.asarray(data["arm"], dtype=object)
    label = np.ma.filled(np.ma.asarray(data["label"], dtype=np.float64), np.nan)
    out = {}
    for name in ARMS:
        mine = arm == name
        out[name] = ArmScores(
            np.asarray(data["score"], dtype=np.float64)[mine],
            np.asarray(data["positive"], dtype=bool)[mine],
            np.asarray(label, dtype=np.float64)[mine],
        )
    return out


def canary_version(
    con: duckdb.DuckDBPyConnection, deployment: str, seed: str
) -> tuple[str, str] | None:
    """The ``(model_name, model_version)`` the canary arm served under ``seed`` (None: no row)."""
    row = con.execute(
        "SELECT model_name, model_version FROM predictions WHERE deployment = ? AND seed = ? "
        "AND arm = 'canary' AND NOT coalesce(shadow, false) AND model_version IS NOT NULL "
        "GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1",
        [deployment, seed],
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else None


def candidate_shadow(
    con: duckdb.DuckDBPyConnection,
    deployment: str,
    candidate: tuple[str, str],
    *,
    alpha: float,
    n_star: float,
) -> ShadowEvidence | None:
    """The paired comparison of ``candidate``'s shadow rows with the primaries they shadowed,
    on the pairs with an observed label (None: it never ran as a shadow, or no labels)."""
    columns = log_columns(con)
    if "shadow" not in columns:
        return None
    try:
        pairs = load_pairs(con, deployment, candidate, as_of=datetime.now(UTC))
    except CairnError:
        return None
    return shadow_evidence(pairs.label, pairs.champion_score, pairs.challenger_score, alpha, n_star)
