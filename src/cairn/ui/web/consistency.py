"""The Consistency page's data: ``cairn consistency check VIEW --sample N --seed S``
(:func:`cairn.app.consistency.check_consistency`) run when the page is asked for. It samples
keys and reads them online and offline, so it is never run by the Features list, and its
result is not stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cairn.ui.web.freshness import require_view
from cairn.ui.web.paging import BadPageInput

if TYPE_CHECKING:
    from cairn.app.consistency import ConsistencyReport
    from cairn.app.project import Project

__all__ = ["ConsistencyPage", "gather_consistency", "parse_count"]


@dataclass(frozen=True)
class ConsistencyPage:
    """A consistency check of one view, or why it could not run (never materialized...)."""

    view: str
    sample: int
    seed: int
    report: ConsistencyReport | None
    problem: str | None


def gather_consistency(project: Project, name: str, sample: int, seed: int) -> ConsistencyPage:
    """``cairn consistency check NAME --sample SAMPLE --seed SEED`` at the view's watermark."""
    from cairn.app.consistency import check_consistency
    from cairn.core.errors import CairnError

    store = project.features
    store.refresh()
    require_view(store, name)
    try:
        report = check_consistency(store, name, sample, None, seed)
    except CairnError as exc:
        return ConsistencyPage(name, sample, seed, None, str(exc))
    return ConsistencyPage(name, sample, seed, report, None)


def parse_count(text: str | None, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter in ``[low, high]`` (``default`` when absent).

    Example
    -------
    >>> parse_count("200", "sample", 100, 1, 10_000), parse_count(None, "seed", 0, 0, 2**31)
    (200, 0)
    """
    if text is None or text == "":
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise BadPageInput(
            f"The query parameter {name!r} must be a whole number from {low} to {high}; "
            f"got {text!r}."
        )
    return int(text)
