"""The quickstart's last step: every page of the dashboard rendered over what the steps before
produced (:func:`cairn.ui.web.crawl.crawl_project`, in process), and the command that serves
it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cairn.ui.web.crawl import Crawl, crawl_project

__all__ = ["DashboardDemo", "run_dashboard_demo"]


@dataclass(frozen=True)
class DashboardDemo(Crawl):
    """The pages of the quickstart project's dashboard and how each rendered."""

    path: Path = Path(".")

    @property
    def command(self) -> str:
        """What serves these pages at http://127.0.0.1:8080/ui/."""
        return f"cairn ui --repo {self.path}"


def run_dashboard_demo(path: Path, *, max_pages: int = 120) -> DashboardDemo:
    """Render the dashboard of the project at ``path``: the Overview and every page linked from
    it (each once, at most ``max_pages``), in process, as ``cairn ui`` would serve them."""
    done = crawl_project(Path(path), max_pages=max_pages)
    return DashboardDemo(done.visits, Path(path).resolve())
