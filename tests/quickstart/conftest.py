"""Quickstart test fixtures (from tests/tracking/_fixtures.py)."""

from __future__ import annotations

from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]
