"""Write the example credit project to a folder, and read its training entity rows back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cairn.core.errors import SourceError
from cairn.quickstart._folder import prepare_folder
from cairn.quickstart.example._applications import applicants, applications_table
from cairn.quickstart.example._common import from_micros
from cairn.quickstart.example._profiles import profiles_table
from cairn.quickstart.example._templates import CAIRN_YAML, FEATURES_PY, GITIGNORE, README_MD
from cairn.quickstart.example._transactions import transactions_table

APPLICATIONS = "data/applications.parquet"
PROFILES = "data/profiles.parquet"
TRANSACTIONS = "data/transactions.parquet"
ENTITY_COLUMNS = ("customer_id", "event_timestamp", "application_id", "defaulted")


@dataclass(frozen=True)
class ExampleProject:
    """What :func:`create_example_project` wrote.

    ``start``/``end`` are the first and last application times; ``data_start``/``data_end``
    the earliest and latest event time in any data file (transactions reach past the last
    application, so materialize up to ``data_end`` to serve every row).
    """

    path: Path
    seed: int
    customers: int
    applications: int
    transactions: int
    profile_rows: int
    start: datetime
    end: datetime
    data_start: datetime
    data_end: datetime
    files: tuple[Path, ...]


def create_example_project(
    path: str | Path, *, seed: int = 7, force: bool = False
) -> ExampleProject:
    """Write the example credit project (config, definitions, README and data) into ``path``.

    Parameters
    ----------
    path:
        The project folder; created when missing. It must be empty unless ``force``.
    seed:
        Seed of every random draw: the same seed writes byte-identical files.
    force:
        Write into a non-empty folder, overwriting the example's own files (others are kept).

    Example
    -------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> project = create_example_project(tmp.name)
    >>> project.customers, project.applications
    (4454, 4454)
    >>> sorted(p.name for p in (project.path / "data").iterdir())
    ['applications.parquet', 'profiles.parquet', 'transactions.parquet']
    >>> tmp.cleanup()
    """
    root = prepare_folder(Path(path).expanduser(), force)
    rng = np.random.default_rng(seed)
    app_rng, profile_rng, txn_rng = rng.spawn(3)
    people = applicants(app_rng)
    tables = {
        APPLICATIONS: applications_table(people),
        PROFILES: profiles_table(people, profile_rng),
        TRANSACTIONS: transactions_table(people, txn_rng),
    }
    (root / "data").mkdir(exist_ok=True)
    for rel, table in tables.items():
        pq.write_table(table, root / rel, compression="zstd")
    counts = {
        "applications": tables[APPLICATIONS].num_rows,
        "profile_rows": tables[PROFILES].num_rows,
        "transactions": tables[TRANSACTIONS].num_rows,
    }
    texts = {
        "cairn.yaml": CAIRN_YAML,
        "features.py": FEATURES_PY,
        ".gitignore": GITIGNORE,
        "README.md": README_MD.format(seed=seed, customers=len(people), **counts),
    }
    for rel, text in texts.items():
        (root / rel).write_text(text, encoding="utf-8")
    applied = _span(tables[APPLICATIONS])
    spans = [_span(t) for t in tables.values()]
    from cairn.quickstart.example.suites import write_example_suites

    write_example_suites(root)  # quality/*.yaml and their reference profiles
    configs = _write_configs(root)
    return ExampleProject(
        path=root,
        seed=seed,
        customers=int(people["customer_id"].nunique()),
        **counts,
        start=applied[0],
        end=applied[1],
        data_start=min(s[0] for s in spans),
        data_end=max(s[1] for s in spans),
        files=(*(root / rel for rel in texts), *configs, *(root / rel for rel in tables)),
    )


def _write_configs(root: Path) -> list[Path]:
    """``train.yaml``, ``deployments.yaml`` (the credit decisions declared), ``reason_codes.yaml``
    and ``experiments.yaml``: the files the quickstart's steps use, each valid as written."""
    from cairn.experiments.metrics import EXPERIMENTS_FILE
    from cairn.quickstart.example.deployments import write_example_deployments
    from cairn.quickstart.example.reason_codes import write_example_reason_codes
    from cairn.quickstart.example.training import write_example_config
    from cairn.quickstart.experiment_demo import EXAMPLE_EXPERIMENTS

    experiments = root / EXPERIMENTS_FILE
    experiments.write_text(EXAMPLE_EXPERIMENTS, encoding="utf-8")
    return [
        write_example_config(root),
        write_example_deployments(root),
        write_example_reason_codes(root),
        experiments,
    ]


def entity_frame(path: str | Path) -> pd.DataFrame:
    """The training entity rows: one per application, in the order of applications.parquet.

    Parameters
    ----------
    path:
        The project folder (or the applications Parquet file itself).

    Returns
    -------
    A frame with ``customer_id`` (int64), ``event_timestamp`` (UTC), ``application_id`` and the
    label ``defaulted`` (0/1).

    Example
    -------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> folder = create_example_project(tmp.name).path
    >>> list(entity_frame(folder).columns)
    ['customer_id', 'event_timestamp', 'application_id', 'defaulted']
    >>> tmp.cleanup()
    """
    p = Path(path)
    file = p if p.suffix == ".parquet" else p / APPLICATIONS
    if not file.is_file():
        raise SourceError(
            f"No applications file at {file}: expected an example project made by "
            f"`cairn init DIR` (or create_example_project)."
        )
    frame: pd.DataFrame = pq.read_table(file, columns=list(ENTITY_COLUMNS)).to_pandas()
    return frame


def _span(table: pa.Table) -> tuple[datetime, datetime]:
    """The earliest and latest ``event_timestamp`` of a table."""
    bounds = pc.min_max(table["event_timestamp"])
    lo, hi = bounds["min"].cast(pa.int64()).as_py(), bounds["max"].cast(pa.int64()).as_py()
    return from_micros(int(lo)), from_micros(int(hi))
