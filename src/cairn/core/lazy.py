"""Names a package exports but loads on first use (PEP 562), so importing it stays cheap.

``cairn``, ``cairn.rollouts`` and ``cairn.quickstart`` hand their public names on this way:
the CLI imports them at start-up without paying for pandas, SQLAlchemy or MLflow.

Example
-------
>>> load = lazy_exports("demo", {"sqrt": "math"})
>>> load("sqrt")(9.0)
3.0
>>> load("nope")
Traceback (most recent call last):
...
AttributeError: module 'demo' has no attribute 'nope'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports each name of ``homes`` (name ->
    the module defining it) when first asked for."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(homes[name]), name)

    return __getattr__
