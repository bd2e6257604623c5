"""The global explanation training logs with a version (``explanation.json``).

It is computed by :func:`cairn.explain.global_explanation.explain_globally` over the reference
rows (``reference.rows`` of the config: validation, train, test or all), a seeded sample of at
most ``importance_sample`` of them, through the family's scorer on the serving matrix, so the
curves and contributions are those of the served model.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from cairn.explain.global_explanation import GlobalExplanation, explain_globally
from cairn.training.config import TrainConfig
from cairn.training.estimators import FittedModel
from cairn.training.frame import FeatureFrame


def explain_training(
    config: TrainConfig,
    ff: FeatureFrame,
    parts: Mapping[str, pd.DataFrame],
    model: FittedModel,
) -> GlobalExplanation:
    """The global explanation of ``model`` over the config's reference rows of ``parts``
    (the split's raw frames by part name)."""
    which = config.reference.rows
    names = list(parts) if which == "all" else [which]
    rows = pd.concat([parts[n] for n in names if n in parts])
    if len(rows) > config.importance_sample:
        rows = rows.sample(n=config.importance_sample, random_state=config.seed)
    X = ff.matrix(rows)
    scorer = model.scorer(ff.features, ff.categories)
    return explain_globally(
        scorer,
        np.ascontiguousarray(X),
        ff.features,
        categories=ff.categories,
        seed=config.seed,
        model=config.model_name,
    )
