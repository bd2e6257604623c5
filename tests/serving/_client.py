"""Starlette's TestClient, whichever HTTP client backs it.

Starlette 1.x prefers ``httpx2`` and warns (an error under our strict pytest settings) when it
falls back to ``httpx``; the client behaves the same on both.
"""

from __future__ import annotations

import warnings

from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", "Using `httpx` with `starlette.testclient`", StarletteDeprecationWarning
    )
    from starlette.testclient import TestClient

__all__ = ["TestClient"]
