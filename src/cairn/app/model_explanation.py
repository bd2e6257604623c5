"""A model version's global explanation, as training stored it with the version.

Training logs ``explanation.json`` in the version's run (importance, partial dependence and
ICE, the contribution summary, a scorecard's points table: :mod:`cairn.explain`);
:func:`version_explanation` reads it back for ``cairn models explain`` and the quickstart, and
:func:`write_explanation_page` renders it as the HTML page.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from cairn.core.errors import DataError
from cairn.explain.global_explanation import ARTIFACT as EXPLANATION_ARTIFACT
from cairn.explain.global_explanation import GlobalExplanation
from cairn.registry.models import ModelRegistry
from cairn.tracking.errors import MissingArtifactError

__all__ = ["EXPLANATION_ARTIFACT", "version_explanation", "write_explanation_page"]


def version_explanation(registry: ModelRegistry, name: str, version: str) -> GlobalExplanation:
    """The global explanation of ``name`` version ``version``.

    Raises :class:`~cairn.core.errors.DataError` when the version's run has none (trained
    before explanations existed), naming how to get one.
    """
    mv = registry.version(name, version)
    try:
        if not mv.run_id:
            raise MissingArtifactError(f"{name} v{version} names no training run")
        data: dict[str, Any] = registry.tracker.load_json(mv.run_id, EXPLANATION_ARTIFACT)
    except MissingArtifactError:
        raise DataError(
            f"{name} v{mv.version} was trained before explanations existed (its run has no "
            f"{EXPLANATION_ARTIFACT}); retrain it, or reproduce its run: cairn train --reproduce "
            f"{mv.run_id or 'RUN'}."
        ) from None
    return replace(GlobalExplanation.from_dict(data), model=name, version=mv.version)


def write_explanation_page(
    registry: ModelRegistry, name: str, version: str, path: str | Path
) -> Path:
    """Write the HTML page of ``name`` version ``version``'s global explanation to ``path``."""
    from cairn.explain.report import write_html

    return write_html(version_explanation(registry, name, version), Path(path))
