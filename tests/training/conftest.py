"""Training test fixtures (from tests/tracking/_fixtures.py)."""

from __future__ import annotations

from tests.tracking._fixtures import config, governed, mlflow_template, project

__all__ = ["config", "governed", "mlflow_template", "project"]
