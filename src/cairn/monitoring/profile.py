"""The reference profile monitoring compares live traffic with: moved to :mod:`cairn.profiles`.

Kept so ``from cairn.monitoring.profile import ReferenceProfile`` goes on working (removed in
0.3); new code imports :class:`cairn.profiles.ReferenceProfile`, the one profile that quality,
training and monitoring build, store and read.
"""

from __future__ import annotations

from cairn.profiles.profile import ReferenceProfile

__all__ = ["ReferenceProfile"]
