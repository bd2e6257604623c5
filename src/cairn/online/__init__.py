"""The online store: materialized features served in milliseconds, equal to the offline join.

Backends (``backends/``) implement :class:`cairn.core.online.OnlineStore`; materialization
writes snapshot winners and hop tiles; reads merge tiles at request time.
"""

from __future__ import annotations

from cairn.online.backends.sqlite import SqliteOnlineStore
from cairn.online.materialize import Materializer, MaterializeResult, Range
from cairn.online.response import OnlineResponse

__all__ = ["MaterializeResult", "Materializer", "OnlineResponse", "Range", "SqliteOnlineStore"]
