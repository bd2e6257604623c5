"""Online store backends, one per file; each implements :class:`cairn.core.online.OnlineStore`."""

from __future__ import annotations
