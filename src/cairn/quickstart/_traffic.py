"""Client traffic for the quickstart's server steps: predictions for the example's customers,
every answer counted, and waits for the server to apply a rollout version."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import httpx

from cairn.core.errors import CairnError

DEPLOYMENT = "credit"
WAIT_S = 30.0


class Traffic:
    """Client threads posting predictions for the demo's customers; every answer is counted."""

    def __init__(self, url: str, customers: list[int], deployment: str = DEPLOYMENT) -> None:
        self.deployment = deployment
        self.client = httpx.Client(base_url=url, timeout=10.0)
        self.customers = customers
        self.next = 0
        self.answered: list[dict[str, Any]] = []
        self.failed = 0
        self.lock = threading.Lock()

    def _one(self, _: int) -> None:
        with self.lock:
            customer = self.customers[self.next % len(self.customers)]
            self.next += 1
        try:
            r = self.client.post(
                f"/v1/predict/{self.deployment}", json={"entities": {"customer_id": customer}}
            )
            ok = r.status_code == 200
        except httpx.HTTPError:
            ok = False
        with self.lock:
            if ok:
                self.answered.append({"customer_id": customer, **r.json()})
            else:
                self.failed += 1

    def send(self, n: int) -> None:
        """Send ``n`` predictions over 4 connections."""
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(self._one, range(n)))

    def until(self, done: Callable[[], bool], *, batch: int = 50, timeout: float = WAIT_S) -> None:
        """Send batches until ``done()`` or ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                raise CairnError(f"The demo did not see its outcome in {timeout:.0f} s.")
            self.send(batch)


def applied(
    url: str, version: int, *, deployment: str = DEPLOYMENT, timeout: float = WAIT_S
) -> None:
    """Wait until the server serves rollout ``version`` (it polls the store every 0.2 s and
    loads and warms a new rollout's models before switching to it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        served = httpx.get(f"{url}/v1/deployments", timeout=5).json()["deployments"][deployment]
        if served.get("rollout", {}).get("version", 0) >= version:
            return
        time.sleep(0.1)
    raise CairnError(f"The server did not apply rollout version {version} in {timeout:.0f} s.")


def customers(root: Path) -> list[int]:
    """The example's customers, in a fixed pseudo-random order."""
    with duckdb.connect() as con:
        rows = con.execute(
            "SELECT DISTINCT customer_id FROM read_parquet(?) ORDER BY hash(customer_id)",
            [str(root / "data" / "applications.parquet")],
        ).fetchall()
    return [int(r[0]) for r in rows]
