"""Render every page of a dashboard in process: what ``cairn ui --check`` and the quickstart's
last step run, and what the dashboard benchmark times.

:func:`crawl` starts at the Overview and follows every link that stays inside the dashboard
(the navigation, the deployment, model and lineage links of each page, the next pages of a
list), breadth first, each page once, up to ``max_pages``. The forms of the actions (links
under ``/actions/``), the sign-in page and the static files are not followed: a crawl only
reads. Each visit records its status, how long the page took and its title, so a broken page
(an error page, a 500) is found by looking at every page rather than the ones a test names.
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin, urlsplit

__all__ = ["Crawl", "PageVisit", "crawl", "crawl_project", "in_process_client"]

SKIPPED = ("/static/", "/login", "/actions/")
"""Links a crawl does not follow: files, the sign-in form and the actions' forms."""


@dataclass(frozen=True)
class PageVisit:
    """One page the crawl rendered."""

    path: str
    """The page's path and query, as linked (e.g. ``/ui/models/credit-default``)."""
    status: int
    milliseconds: float
    title: str

    @property
    def ok(self) -> bool:
        """The page rendered (2xx)."""
        return 200 <= self.status < 300


@dataclass(frozen=True)
class Crawl:
    """Every page a crawl rendered, in the order it rendered them."""

    visits: list[PageVisit]

    @property
    def failed(self) -> list[PageVisit]:
        """The pages that answered an error."""
        return [v for v in self.visits if not v.ok]

    @property
    def median_ms(self) -> float:
        """The median time a page took."""
        return statistics.median(v.milliseconds for v in self.visits)

    @property
    def slowest(self) -> PageVisit:
        """The page that took longest."""
        return max(self.visits, key=lambda v: v.milliseconds)


def crawl_project(root: Path, *, max_pages: int = 200) -> Crawl:
    """Render the dashboard of the project at ``root`` as ``cairn ui`` serves it: the Overview
    and every page linked from it, in process (what ``cairn ui --check`` runs).

    The first render of each page pays for imports and caches: the times are those a first
    visitor sees."""
    from cairn.app.project import Project
    from cairn.ui.web.app import standalone_app

    with Project.open(Path(root)) as project, in_process_client(standalone_app(project)) as c:
        return Crawl(crawl(c, "/ui/", max_pages=max_pages))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


@contextmanager
def in_process_client(app: Any) -> Iterator[Any]:
    """Starlette's test client over ``app`` (no socket, no server), with its lifespan run."""
    from starlette.exceptions import StarletteDeprecationWarning

    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "Using `httpx` with `starlette.testclient`", StarletteDeprecationWarning
        )
        from starlette.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def crawl(
    client: Any,
    start: str = "/ui/",
    *,
    headers: Mapping[str, str] | None = None,
    max_pages: int = 200,
) -> list[PageVisit]:
    """Render ``start`` and every dashboard page linked from it, breadth first, each once.

    Parameters
    ----------
    client:
        An HTTP client with ``get(path, headers=...)`` returning a response with
        ``status_code`` and ``text`` (:func:`in_process_client`, or an ``httpx.Client`` on a
        running server's base URL).
    start:
        The first page; only links under its first path segment (``/ui/``) are followed.
    headers:
        Sent with every request (e.g. ``{"Authorization": "Bearer TOKEN"}``).
    max_pages:
        At most this many pages are rendered.

    Example
    -------
    >>> import tempfile, pathlib
    >>> from cairn.app.project import Project
    >>> from cairn.ui.web import standalone_app
    >>> repo = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (repo / "cairn.yaml").write_text("project: demo")
    >>> with in_process_client(standalone_app(Project.open(repo))) as client:
    ...     visits = crawl(client, max_pages=3)
    >>> [(v.path, v.ok) for v in visits][:2]
    [('/ui/', True), ('/ui/models', True)]
    """
    if max_pages < 1:
        raise ValueError(f"max_pages must be at least 1, got {max_pages}")
    scope = "/" + urlsplit(start).path.strip("/").split("/")[0] + "/"
    queue: deque[str] = deque([start])
    seen = {start}
    visits: list[PageVisit] = []
    while queue and len(visits) < max_pages:
        path = queue.popleft()
        began = time.perf_counter()
        response = client.get(path, headers=dict(headers or {}))
        elapsed = (time.perf_counter() - began) * 1000
        parser = _Links()
        kind = response.headers.get("content-type", "")
        if "html" in kind:
            parser.feed(response.text)
        visits.append(PageVisit(path, response.status_code, elapsed, parser.title.strip()))
        for href in parser.hrefs:
            target = _internal(path, href, scope)
            if target is not None and target not in seen:
                seen.add(target)
                queue.append(target)
    return visits


def _internal(page: str, href: str, scope: str) -> str | None:
    """The path (and query) of ``href`` when it is a dashboard page worth following."""
    url = urlsplit(urldefrag(urljoin(page, href)).url)
    if url.scheme or url.netloc:  # mailto:, javascript:, another site
        return None
    path = url.path
    if not (path == scope.rstrip("/") or path.startswith(scope)):
        return None
    if any(part in path for part in SKIPPED):
        return None
    return f"{path}?{url.query}" if url.query else path
