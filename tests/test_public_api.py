"""Every name in every ``__all__`` imports (stale entries are a classic packaging bug)."""

from __future__ import annotations

import importlib
import pkgutil

import cairn


def test_every_public_name_imports() -> None:
    modules = [cairn] + [
        importlib.import_module(m.name)
        for m in pkgutil.walk_packages(cairn.__path__, "cairn.")
        if m.ispkg
    ]
    checked = 0
    for module in modules:
        for name in getattr(module, "__all__", []):
            assert hasattr(module, name), f"{module.__name__}.__all__ lists missing {name!r}"
            checked += 1
    assert checked > 20
