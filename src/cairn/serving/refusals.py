"""Model versions a server refused to load, for ``/readyz`` and ``/metrics``.

When a deployment's reference (``NAME@ALIAS`` or ``NAME/VERSION``) resolves to a version the
loader refuses — its artifact's SHA-256 differs from the one the audit chain recorded
(:class:`~cairn.core.errors.ArtifactTamperedError`), or it fails to load or warm — the server
keeps serving what it has loaded and remembers the refusal here, per reference, until that
reference loads a version or points back at the loaded one. ``/readyz`` lists them
(``refused``) and ``/metrics`` exports ``cairn_model_refused{deployment,model,version}`` = 1
for each (:class:`RefusalCollector`).

Example
-------
>>> book = Refusals()
>>> book.record("credit-default@champion", "2", ValueError("bad file"))
>>> [(r.model, r.version, r.reason) for r in book.current().values()]
[('credit-default', '2', 'ValueError: bad file')]
>>> book.clear("credit-default@champion"); book.current()
{}
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from cairn.core.errors import CairnError
from cairn.core.predictions import ModelRef

__all__ = ["Refusal", "RefusalCollector", "Refusals", "refused_rows"]

REASON_CHARS = 500
"""Refusal reasons are cut to this many characters."""


@dataclass(frozen=True)
class Refusal:
    """One reference whose newest version was refused."""

    ref: str
    model: str
    version: str
    reason: str
    at: float
    """When it was last refused (seconds since the epoch)."""


class Refusals:
    """Reference -> its latest :class:`Refusal` (thread-safe; read as a copy)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_ref: dict[str, Refusal] = {}

    def record(self, ref: str, version: str, exc: BaseException) -> None:
        """Remember that ``version`` of ``ref`` was refused because of ``exc``."""
        text = str(exc) if isinstance(exc, CairnError) else f"{type(exc).__name__}: {exc}"
        refusal = Refusal(ref, ModelRef.parse(ref).name, version, text[:REASON_CHARS], time.time())
        with self._lock:
            self._by_ref[ref] = refusal

    def clear(self, ref: str) -> None:
        """``ref`` serves the version it points at: forget its refusal."""
        with self._lock:
            self._by_ref.pop(ref, None)

    def current(self) -> dict[str, Refusal]:
        """Every remembered refusal, by reference."""
        with self._lock:
            return dict(self._by_ref)


def refused_rows(
    refusals: Mapping[str, Refusal],
    deployments: Mapping[str, Sequence[str]],
    serving: Mapping[str, str | None],
) -> list[dict[str, Any]]:
    """One JSON row per (deployment, refused reference), sorted: what ``/readyz`` lists.

    ``deployments`` gives each deployment's references; ``serving`` the version each reference
    serves now (None: nothing loaded).

    Example
    -------
    >>> r = Refusal("m@champion", "m", "2", "tampered", 0.0)
    >>> refused_rows({"m@champion": r}, {"credit": ["m@champion"]}, {"m@champion": "1"})
    [{'deployment': 'credit', 'ref': 'm@champion', 'model': 'm', 'version': '2', 'reason': \
'tampered', 'serving': '1'}]
    """
    rows = []
    for deployment in sorted(deployments):
        for ref in sorted(set(deployments[deployment])):
            refusal = refusals.get(ref)
            if refusal is None:
                continue
            rows.append(
                {
                    "deployment": deployment,
                    "ref": ref,
                    "model": refusal.model,
                    "version": refusal.version,
                    "reason": refusal.reason,
                    "serving": serving.get(ref),
                }
            )
    return rows


class RefusalCollector(Collector):
    """``cairn_model_refused{deployment,model,version}`` = 1 per refused version, at scrape."""

    def __init__(self, rows: Callable[[], list[dict[str, Any]]]) -> None:
        self._rows = rows

    def describe(self) -> Iterator[Metric]:
        """The metric's name (registration reads no state)."""
        yield self._family()

    def collect(self) -> Iterator[Metric]:
        """One sample per refused (deployment, model, version)."""
        family = self._family()
        seen: set[tuple[str, str, str]] = set()
        for row in self._rows():
            key = (str(row["deployment"]), str(row["model"]), str(row["version"]))
            if key not in seen:
                seen.add(key)
                family.add_metric(list(key), 1)
        yield family

    @staticmethod
    def _family() -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "cairn_model_refused",
            "1 for each model version this server refused to load (tampered artifact or load "
            "failure); the deployment keeps serving what it has loaded.",
            labels=["deployment", "model", "version"],
        )
