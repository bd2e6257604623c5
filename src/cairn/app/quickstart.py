"""The main job: the whole lifecycle on the embedded defaults, step by step.

Each capability adds its step here, so ``cairn quickstart`` always shows everything that works.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cairn.app.feature_store import ApplyResult, FeatureStore
from cairn.app.project import load_definitions
from cairn.core.config import CONFIG_FILE
from cairn.core.errors import ConfigError
from cairn.core.manifest import TrainingSetManifest

DEFAULT_DIR = Path("cairn-quickstart")


@dataclass
class QuickstartReport:
    """What the quickstart did, for printing."""

    path: Path
    steps: list[tuple[str, float]] = field(default_factory=list)
    applied: ApplyResult | None = None
    training_set: pd.DataFrame | None = None
    training_set_path: Path | None = None
    feature_columns: list[str] = field(default_factory=list)
    manifest: TrainingSetManifest | None = None
    late_rows_hidden: int = 0


def run_quickstart(
    path: Path = DEFAULT_DIR, *, seed: int = 7, on_step: Callable[[str], None] | None = None
) -> QuickstartReport:
    """Scaffold the example project (again) in ``path``, apply it, build a training set."""
    from cairn.app.example import FEATURE_REFS, create_example_project, entity_frame

    path = Path(path)
    report = QuickstartReport(path=path.resolve())

    @contextmanager
    def step(name: str) -> Iterator[None]:
        if on_step:
            on_step(name)
        start = time.perf_counter()
        yield
        report.steps.append((name, time.perf_counter() - start))

    with step("init: example credit project"):
        _check_reusable(path)
        create_example_project(path, seed=seed, force=True)
    store = FeatureStore(path)
    with step("apply: features.py"):
        report.applied = store.apply(load_definitions(path))
    with step("training set: point-in-time join"):
        entities = entity_frame(path)
        job = store.get_historical_features(entities, FEATURE_REFS)
        frame = job.to_df()
        out = path / "training" / "training_set.parquet"
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(out, index=False)
        report.manifest = job.manifest
        (out.with_suffix(".manifest.json")).write_text(report.manifest.to_json())
    report.training_set = frame
    report.training_set_path = out
    report.feature_columns = [r.partition(":")[2] for r in FEATURE_REFS]
    return report


def _check_reusable(path: Path) -> None:
    """Refuse to overwrite a folder that is not empty and not a Cairn project."""
    if path.exists() and any(path.iterdir()) and not (path / CONFIG_FILE).is_file():
        raise ConfigError(
            f"quickstart folder {path.resolve()} is not empty and holds no {CONFIG_FILE}; "
            f"choose an empty or new folder (cairn quickstart DIR)."
        )
