"""Prediction traffic for the replica test: clients through the load balancer, and a probe
per replica that says which version that replica answers with.

Every answer is kept as a :class:`Hit` (when, which client, the version and prediction id);
every failure (a transport error or a status other than 200) as text. The balancer's clients
keep their connections open, as real callers do; a probe opens a new connection per request,
so the kernel hands its requests to every worker process of its replica.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import httpx

LIMIT_S = 600.0
"""No client runs longer than this, whatever the test does (the replica test's nine changes
take about a minute on a loaded machine: far below it)."""
TIMEOUT_S = 60.0
"""Seconds a client waits for one answer: a slow answer on a loaded machine is not a failure,
no answer is."""


@dataclass(frozen=True)
class Hit:
    """One answered prediction."""

    at: float
    client: str
    version: str
    prediction_id: str


@dataclass
class Traffic:
    """Client threads posting ``/v1/predict/{deployment}`` until :meth:`stop`.

    Parameters
    ----------
    balancer:
        The load balancer's URL (``clients`` threads with keep-alive connections).
    replicas:
        Replica name -> URL (one probe thread each, a new connection per request).
    """

    balancer: str
    replicas: dict[str, str]
    clients: int = 3
    rate: float = 50.0
    """Requests per second each thread sends at most (a slower answer just slows it)."""
    deployment: str = "credit"
    hits: list[Hit] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        targets = [(f"lb{i}", self.balancer, True) for i in range(self.clients)]
        targets += [(name, url, False) for name, url in self.replicas.items()]
        self._threads = [
            threading.Thread(target=self._run, args=t, name=f"traffic-{t[0]}") for t in targets
        ]

    def _run(self, client: str, url: str, keep_alive: bool) -> None:
        limits = httpx.Limits(max_keepalive_connections=1 if keep_alive else 0)
        begun = time.monotonic()
        deadline = begun + LIMIT_S
        n = 0
        with httpx.Client(base_url=url, timeout=TIMEOUT_S, limits=limits) as c:
            while not self._stop.wait(max(0.0, n / self.rate - (time.monotonic() - begun))):
                if time.monotonic() > deadline:
                    break
                n += 1
                body = {"entities": {"customer_id": n % 3 + 1}, "unit_id": f"{client}-{n}"}
                try:
                    r = c.post(f"/v1/predict/{self.deployment}", json=body)
                except httpx.HTTPError as exc:
                    self._fail(f"{client}: {exc!r}")
                    continue
                if r.status_code != 200:
                    self._fail(f"{client}: {r.status_code} {r.text[:300]}")
                    continue
                answer = r.json()
                hit = Hit(time.monotonic(), client, answer["model"]["version"],
                          answer["prediction_id"])  # fmt: skip
                with self._lock:
                    self.hits.append(hit)

    def _fail(self, text: str) -> None:
        with self._lock:
            self.failures.append(text)

    def start(self) -> Traffic:
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(2 * TIMEOUT_S)

    def of(self, client: str, since: float) -> list[Hit]:
        """The answers ``client`` got from ``since`` on, oldest first."""
        with self._lock:
            return [h for h in self.hits if h.client == client and h.at >= since]

    def settled(self, client: str, since: float, version: str, quiet_s: float) -> float | None:
        """Seconds from ``since`` to the first answer naming ``version`` that no answer naming
        another version followed, once ``client`` has answered only ``version`` for
        ``quiet_s`` seconds (a new connection per probe reaches every worker in that time);
        None until then."""
        hits = self.of(client, since)
        last_other = max((i for i, h in enumerate(hits) if h.version != version), default=-1)
        after = hits[last_other + 1 :]
        if not after or hits[-1].at - after[0].at < quiet_s:
            return None
        return after[0].at - since

    def first(self, client: str, since: float, version: str) -> float | None:
        """Seconds from ``since`` to ``client``'s first answer naming ``version`` (or None)."""
        return next((h.at - since for h in self.of(client, since) if h.version == version), None)
