"""Point-in-time SQL for snapshot views (DESIGN §3.1).

A row is visible at ``t`` iff ``event_ts < t`` and ``created_ts <= t``, i.e. iff
``avail = max(event_ts + 1µs, created_ts) <= t``. The winner at ``t`` is the greatest
``order = (event_ts, created_ts, seq)`` among visible rows.

Rows that can never win are dropped first: ordered by ``(avail, order)`` within a key, a row can
win only if it is the last of its ``avail`` group and its event time is the running maximum
(an equal event time with a later ``avail`` implies a later created time, hence a greater
order). The survivors' orders increase with ``avail``, so a plain ASOF join on ``avail`` finds
the winner, and with a TTL only the winner needs checking (every other visible row is older).
Both tests share one window (one sort), which is what keeps this near a raw ASOF join.
"""

from __future__ import annotations

from collections.abc import Sequence

from cairn.core.types import Dtype
from cairn.features.feature_view import FeatureView
from cairn.offline.connection import quote


def snapshot_cte(view: FeatureView, source_view: str, features: Sequence[str]) -> str:
    """A relation with the join keys, ``__avail``, ``__ev`` and the features: the rows that
    win at some time, at most one per key and ``__avail``."""
    keys = ", ".join(quote(k) for k in view.join_keys)
    not_null = " AND ".join(f"{quote(k)} IS NOT NULL" for k in view.join_keys)
    values = ", ".join(
        f"CAST({quote(f)} AS {Dtype.parse(view.field(f).dtype).sql}) AS {quote(f)}"
        for f in features
    )
    src = quote(source_view)
    if view.source.created_timestamp_column is None:
        # avail = event_ts + 1µs: only ties on (key, event_ts) need settling, by file order.
        return (
            f"SELECT {keys}, __ev AS __avail, __ev, {values} FROM {src} WHERE {not_null} "
            f"QUALIFY __seq = max(__seq) OVER (PARTITION BY {keys}, __ev)"
        )
    return (
        f"SELECT {keys}, __avail, __ev, {values} "
        f"FROM (SELECT *, greatest(__ev + 1, __cr) AS __avail FROM {src} WHERE {not_null}) "
        f"WINDOW w AS (PARTITION BY {keys} ORDER BY __avail, __ev, __cr, __seq) "
        f"QUALIFY (lead(__avail) OVER w) IS DISTINCT FROM __avail "
        f"AND __ev = max(__ev) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    )


def snapshot_join(view: FeatureView, alias: str) -> str:
    """The ASOF join clause attaching ``alias`` (a :func:`snapshot_cte`) to entity rows ``e``."""
    on = " AND ".join(f"e.{quote(k)} = {alias}.{quote(k)}" for k in view.join_keys)
    bound = (
        f"e.__t > {alias}.__ev"
        if view.source.created_timestamp_column is None
        else f"e.__t >= {alias}.__avail"
    )
    return f"ASOF LEFT JOIN {alias} ON {on} AND {bound}"


def snapshot_value(view: FeatureView, alias: str, feature: str) -> str:
    """The output expression of one feature, with the TTL check when the view has one."""
    value = f"{alias}.{quote(feature)}"
    ttl = view.ttl_us
    if ttl is None:
        return value
    return f"CASE WHEN {alias}.__ev >= e.__t - {ttl} THEN {value} END"
