"""Contract kits: the checks every implementation of a core protocol must pass.

A backend proves it honours a protocol by running the kit (see ``tests/contracts/``); the kits
import only ``cairn.core`` and are never imported by production code. :mod:`cairn.testing.servers`
runs a real ``cairn serve`` process for a test (:func:`~cairn.testing.servers.serving`).
"""

from __future__ import annotations

from cairn.testing.online_store import (
    CHECK_VIEWS,
    ONLINE_STORE_CHECKS,
    OnlineStoreCheck,
    check_online_store,
    run_check,
)

__all__ = [
    "CHECK_VIEWS",
    "ONLINE_STORE_CHECKS",
    "OnlineStoreCheck",
    "check_online_store",
    "run_check",
]
