"""The quickstart's last step: every page of the dashboard rendered over what the steps before
produced (:func:`cairn.ui.web.crawl.crawl`, in process), and the command that serves it."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from cairn.app.project import Project
from cairn.ui.web import standalone_app
from cairn.ui.web.crawl import PageVisit, crawl, in_process_client

__all__ = ["DashboardDemo", "run_dashboard_demo"]


@dataclass(frozen=True)
class DashboardDemo:
    """The pages of the quickstart project's dashboard and how each rendered."""

    path: Path
    visits: list[PageVisit]

    @property
    def failed(self) -> list[PageVisit]:
        """The pages that answered an error."""
        return [v for v in self.visits if not v.ok]

    @property
    def median_ms(self) -> float:
        return statistics.median(v.milliseconds for v in self.visits)

    @property
    def slowest(self) -> PageVisit:
        return max(self.visits, key=lambda v: v.milliseconds)

    @property
    def command(self) -> str:
        """What serves these pages at http://127.0.0.1:8080/ui/."""
        return f"cairn ui --repo {self.path}"


def run_dashboard_demo(path: Path, *, max_pages: int = 120) -> DashboardDemo:
    """Render the dashboard of the project at ``path``: the Overview and every page linked from
    it (each once, at most ``max_pages``), in process, as ``cairn ui`` would serve them.

    The first render of each page pays for imports and caches; the times are those a first
    visitor sees."""
    with Project.open(path) as project, in_process_client(standalone_app(project)) as client:
        visits = crawl(client, "/ui/", max_pages=max_pages)
    return DashboardDemo(Path(path).resolve(), visits)
