"""Push: rows from an application -> the offline log and the online store, in one call."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from cairn.core.errors import DataError
from cairn.core.timeutil import utcnow
from cairn.features.source import PushSource
from cairn.offline import AppliedView
from cairn.offline.entities import arrow_table
from cairn.offline.log import append_to_log


def prepare_push(
    source: PushSource,
    frame: pd.DataFrame | pa.Table,
    views: Mapping[str, AppliedView],
    now: datetime | None = None,
) -> pa.Table:
    """Check pushed rows against the views fed by ``source`` and stamp their created time."""
    table = frame if isinstance(frame, pa.Table) else arrow_table(frame)
    needed = {source.timestamp_field}
    for applied in views.values():
        view = applied.view
        needed |= set(view.join_keys) | {f.name for f in view.schema}
        needed |= {a.column for a in view.aggregations}
    missing = sorted(needed - set(table.column_names))
    if missing:
        raise DataError(
            f"Rows pushed to {source.name!r} lack the column(s) {', '.join(map(repr, missing))}; "
            f"expected {sorted(needed)}; got {table.column_names}."
        )
    ts_type = table.schema.field(source.timestamp_field).type
    if not pa.types.is_timestamp(ts_type) or ts_type.tz is None:
        raise DataError(
            f"Rows pushed to {source.name!r}: column {source.timestamp_field!r} must hold "
            f"timezone-aware UTC timestamps; got {ts_type}."
        )
    created = source.created_timestamp_column
    if created is not None and created not in table.column_names:
        stamp = pd.Timestamp(now or utcnow())
        table = table.append_column(
            created, pa.array([stamp] * table.num_rows, type=pa.timestamp("us", tz="UTC"))
        )
    return table


def push(
    source: PushSource,
    frame: pd.DataFrame | pa.Table,
    views: Mapping[str, AppliedView],
    root: Path,
    now: datetime | None = None,
) -> pa.Table:
    """Append the rows to the source's offline log; returns what was appended."""
    table = prepare_push(source, frame, views, now)
    append_to_log(source.batch_source, root, table)
    return table
