"""Running the offline tests on both engines: DuckDB (default) and Spark (``local[2]``).

A test parametrized with :data:`ENGINES` builds its training frames with
:func:`training_frame`; on Spark it also builds the DuckDB frame of the same request and asserts
the two are equal row for row (same columns, dtypes and values; floats to 1e-9 relative, the
summation order of the two engines differs), then returns Spark's frame for the test's own
checks against the oracle. The Spark parameter is marked ``spark`` and runs a quarter of the
hypothesis examples (:func:`examples`): one shared session, about half a second per training
set.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cairn import FeatureStore
from cairn.core.config import Settings
from cairn.offline.entities import EntityInput

ENGINES: tuple[Any, ...] = ("duckdb", pytest.param("spark", marks=pytest.mark.spark))
SPARK_MASTER = "local[2]"
SPARK_SHARE = 4
"""Spark runs 1/2 of a property test's examples (at least 3)."""


def examples(engine: str, duckdb_examples: int) -> int:
    """How many hypothesis examples a property test runs on ``engine``."""
    return duckdb_examples if engine == "duckdb" else max(3, duckdb_examples // SPARK_SHARE)


def store_for(root: Path, engine: str) -> FeatureStore:
    """The project at ``root`` with training sets built by ``engine``, whatever its
    ``cairn.yaml`` says."""
    settings = Settings.load(root)
    offline = settings.offline.replace(engine=engine, spark_master=SPARK_MASTER)
    return FeatureStore(root, settings=settings.model_copy(update={"offline": offline}))


def project_yaml(engine: str) -> str:
    """A ``cairn.yaml`` of project ``t`` whose training sets ``engine`` builds."""
    if engine == "duckdb":
        return "project: t\n"
    return f"project: t\noffline:\n  engine: {engine}\n  spark_master: {SPARK_MASTER}\n"


def training_frame(
    root: Path,
    entity_df: EntityInput,
    refs: Sequence[str],
    engine: str,
    *,
    full: bool = False,
) -> pd.DataFrame:
    """The training frame of ``engine``; on Spark, checked equal to DuckDB's first."""
    duck = (
        store_for(root, "duckdb")
        .get_historical_features(entity_df, list(refs), full_feature_names=full)
        .to_df()
    )
    if engine == "duckdb":
        return duck
    out = (
        store_for(root, engine)
        .get_historical_features(entity_df, list(refs), full_feature_names=full)
        .to_df()
    )
    pd.testing.assert_frame_equal(out, duck, check_exact=False, rtol=1e-9, atol=1e-12)
    return out
