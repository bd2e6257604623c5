"""The installed version of Cairn (package metadata; ``0.0.0`` when run from a source tree)."""

from __future__ import annotations

from functools import cache


@cache
def package_version() -> str:
    """The ``cairn`` distribution's version.

    Example
    -------
    >>> package_version().count(".") >= 2
    True
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cairn")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0"
