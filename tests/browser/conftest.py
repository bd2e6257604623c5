"""One real ``cairn serve`` and one headless chromium for the whole package (under ``-n N``,
one per worker that runs some of its tests: each test stands on its own).

The browser tests are skipped, with the reason, only when chromium, chromedriver or Selenium
is missing and ``CAIRN_REQUIRE_BROWSER`` is unset (or 0); ``scripts/test.sh`` (``make test``,
CI) installs the browser and sets it, so there they fail instead. Screenshots go to
``$CAIRN_TEST_ARTIFACTS`` (default ``test-artifacts/dashboard/``, git-ignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cairn.testing.servers import serving
from tests.browser._browser import Browser, missing_reason
from tests.browser._site import TOKENS, build_project, send_traffic, server_env
from tests.tracking._fixtures import mlflow_template

__all__ = ["mlflow_template"]

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Site:
    """The served project: its URL, folder, and how many predictions were answered."""

    url: str
    path: Path
    predictions: int

    def api(self, role: str = "viewer") -> httpx.Client:
        """An HTTP client of the API holding the token of ``role`` (see ``TOKENS``)."""
        headers = {"Authorization": f"Bearer {TOKENS[role][1]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


@pytest.fixture(scope="package")
def chromium_available() -> None:
    """Skip (or, with ``CAIRN_REQUIRE_BROWSER`` set, fail) when no browser can run."""
    reason = missing_reason()
    if reason is None:
        return
    if os.environ.get("CAIRN_REQUIRE_BROWSER", "0") not in ("", "0"):
        pytest.fail(f"CAIRN_REQUIRE_BROWSER is set but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def artifacts() -> Path:
    """Where screenshots go: ``$CAIRN_TEST_ARTIFACTS`` or ``test-artifacts/dashboard/``."""
    folder = Path(os.environ.get("CAIRN_TEST_ARTIFACTS") or ROOT / "test-artifacts" / "dashboard")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="package")
def site(
    chromium_available: None, tmp_path_factory: pytest.TempPathFactory, mlflow_template: Path
) -> Iterator[Site]:
    """``cairn serve`` on the quickstart's credit project, after 40 predictions."""
    path = build_project(tmp_path_factory.mktemp("browser") / "credit", mlflow_template)
    with serving(path, env=server_env()) as (url, _):
        yield Site(url, path, send_traffic(url, "credit", 40))


@pytest.fixture(scope="package")
def browser(site: Site) -> Iterator[Browser]:
    """One headless chromium for every test of the package."""
    driver = Browser(site.url)
    try:
        yield driver
    finally:
        driver.close()
