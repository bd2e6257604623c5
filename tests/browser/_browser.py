"""Headless Debian chromium driven by Selenium through Debian's chromedriver.

Selenium is given both binaries' paths, so Selenium Manager never runs and nothing is ever
downloaded: :func:`binaries` finds ``chromium`` and ``chromedriver`` on ``PATH`` (or
``$CAIRN_CHROMIUM`` / ``$CAIRN_CHROMEDRIVER``), which ``scripts/services.sh browser`` installs
with apt. :class:`Browser` loads pages, tells each page's HTTP status (from Chrome's network
log), the console's severe entries, the page's internal links, and saves full-page
screenshots.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

__all__ = ["WIDTH", "Browser", "Visit", "binaries", "missing_reason"]

WIDTH = 1280
"""The window's width in CSS pixels (the README screenshot's width)."""
HEIGHT = 900
MAX_HEIGHT = 6000
"""A full-page screenshot is cut at this height."""


def binaries() -> tuple[str, str] | None:
    """``(chromium, chromedriver)``, or None when either is missing."""
    chromium = shutil.which(os.environ.get("CAIRN_CHROMIUM") or "chromium")
    driver = shutil.which(os.environ.get("CAIRN_CHROMEDRIVER") or "chromedriver")
    if chromium is None or driver is None:
        return None
    return chromium, driver


def missing_reason() -> str | None:
    """Why the browser tests cannot run here (None: they can)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (it is in the dev extra: make venv)"
    if binaries() is None:
        return (
            "no chromium/chromedriver on PATH: scripts/services.sh browser installs them "
            "(apt: chromium chromium-driver); make test does"
        )
    return None


@dataclass(frozen=True)
class Visit:
    """One page load: where it ended, its HTTP status, title, severe console entries and how
    long the browser took to load it (ms, from the request to the load event)."""

    url: str
    status: int | None
    title: str
    console: list[str] = field(default_factory=list)
    ms: float | None = None


class Browser:
    """One headless chromium (a fresh profile) for a ``cairn serve`` at ``base``."""

    def __init__(self, base: str) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        found = binaries()
        if found is None:
            raise RuntimeError(missing_reason())
        chromium, driver = found
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in (
            "--headless=new",
            "--no-sandbox",  # root in a container
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            f"--window-size={WIDTH},{HEIGHT}",
        ):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        # the driver's path is given, so Selenium Manager (which downloads) is never asked
        self.driver = webdriver.Chrome(options=options, service=Service(executable_path=driver))
        self.driver.set_page_load_timeout(30)
        self.base = base.rstrip("/")

    def close(self) -> None:
        """Quit chromium and its driver."""
        self.driver.quit()

    def get(self, path: str) -> Visit:
        """Load ``path`` (relative to ``base``) as a top-level navigation."""
        self._drain()
        began = time.perf_counter()
        self.driver.get(urljoin(self.base + "/", path.lstrip("/")))
        ms = (time.perf_counter() - began) * 1000
        visit = self.settle()
        return Visit(visit.url, visit.status, visit.title, visit.console, ms)

    def settle(self) -> Visit:
        """What the browser shows now: the newest document's status and the console's severe
        entries since the last call (htmx's requests count as documents too)."""
        status = None
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") != "Network.responseReceived":
                continue
            params = message["params"]
            if params.get("type") in ("Document", "XHR", "Fetch"):
                status = int(params["response"]["status"])
        return Visit(self.driver.current_url, status, self.driver.title, self.console_errors())

    def console_errors(self) -> list[str]:
        """The console's SEVERE entries since the last call."""
        return [e["message"] for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def sign_in(self, token: str) -> Visit:
        """Sign in at ``/ui/login`` with ``token`` (a fresh session: cookies cleared first)."""
        from selenium.webdriver.common.by import By

        self.get("/ui/login")
        self.driver.delete_all_cookies()
        self.get("/ui/login")
        self.driver.find_element(By.NAME, "token").send_keys(token)
        self.driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
        self.wait_for(lambda d: urlsplit(d.current_url).path == "/ui/")
        return self.settle()

    def links(self) -> list[str]:
        """The page's links into the dashboard (path and query, no fragment), in page order."""
        hrefs: list[str] = self.driver.execute_script(
            "return Array.from(document.querySelectorAll('a[href]'), a => a.href);"
        )
        base = urlsplit(self.base)
        found: list[str] = []
        for href in hrefs:
            url = urlsplit(urldefrag(href)[0])
            if (url.scheme, url.netloc) != (base.scheme, base.netloc):
                continue
            if not url.path.startswith("/ui/") or url.path.startswith("/ui/static/"):
                continue
            link = url.path + (f"?{url.query}" if url.query else "")
            if link not in found:
                found.append(link)
        return found

    def table(self, table_id: str) -> list[list[str]]:
        """The text of every data row of the table with id ``table_id``, as rendered."""
        from selenium.webdriver.common.by import By

        rows = self.driver.find_elements(By.CSS_SELECTOR, f"table#{table_id} tr")
        cells = [r.find_elements(By.TAG_NAME, "td") for r in rows]
        return [[" ".join(c.text.split()) for c in row] for row in cells if row]

    def text(self, css: str) -> str:
        """The rendered text of the first element matching ``css``, whitespace collapsed."""
        from selenium.webdriver.common.by import By

        return " ".join(self.driver.find_element(By.CSS_SELECTOR, css).text.split())

    def wait_for(self, condition: Any, timeout: float = 15) -> Any:
        """Wait until ``condition(driver)`` is truthy (Selenium's WebDriverWait)."""
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout).until(condition)

    def screenshot(self, path: Path, *, full: bool = True) -> Path:
        """Save the page as a PNG: the whole page (cut at ``MAX_HEIGHT``) or the window."""
        path.parent.mkdir(parents=True, exist_ok=True)
        clip = None
        if full:
            size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            height = min(max(int(size["height"]), HEIGHT), MAX_HEIGHT)
            clip = {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1}
        shot = self.driver.execute_cdp_cmd(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": full, **({"clip": clip} if clip else {})},
        )
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def _drain(self) -> None:
        self.driver.get_log("performance")

    @staticmethod
    def slug(link: str) -> str:
        """A file name for a page's link: ``/ui/models/x?page=2`` -> ``models-x-page-2``."""
        name = re.sub(r"[^A-Za-z0-9@.]+", "-", unquote(link.removeprefix("/ui"))).strip("-")
        return name or "overview"
