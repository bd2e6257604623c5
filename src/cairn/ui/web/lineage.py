"""The Lineage page's data: the chain behind a model version (``NAME/VERSION`` or
``NAME@ALIAS``) or behind a logged decision (its prediction id) — run, training set, quality,
code, packages, approvals, alias moves and audit entries — exactly as ``cairn lineage`` builds
it (:func:`cairn.registry.lineage.build_lineage`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cairn.ui.web.paging import BadPageInput, PageNotFound

if TYPE_CHECKING:
    from cairn.app.project import Project
    from cairn.registry.lineage import Lineage

__all__ = ["LineagePage", "gather_lineage"]


@dataclass(frozen=True)
class LineagePage:
    """A version's lineage, and the logged decision it started from (None: a model ref)."""

    ref: str
    lineage: Lineage
    prediction: dict[str, Any] | None


def gather_lineage(project: Project, ref: str) -> LineagePage:
    """The lineage behind ``ref``: a model reference or a logged prediction id (an unknown
    model, version or prediction is :class:`PageNotFound`; a malformed reference
    :class:`BadPageInput`)."""
    from cairn.registry.errors import RegistryInputError
    from cairn.registry.lineage import build_lineage
    from cairn.registry.models import ModelRef
    from cairn.tracking import UnknownModelError

    prediction = None
    model_ref = ref
    if "@" not in ref and "/" not in ref:
        prediction = project.predictions.find(ref)
        if prediction is None:
            raise PageNotFound(
                f"No lineage for {ref!r}: it is neither a model reference (MODEL@ALIAS or "
                "MODEL/VERSION) nor a logged prediction id."
            )
        model_ref = f"{prediction['model_name']}/{prediction['model_version']}"
    try:
        found = build_lineage(project.registry, ModelRef.parse(model_ref))
    except UnknownModelError as exc:
        raise PageNotFound(str(exc)) from None
    except RegistryInputError as exc:
        raise BadPageInput(str(exc)) from None
    return LineagePage(ref, found, prediction)
