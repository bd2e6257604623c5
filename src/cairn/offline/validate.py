"""Checks of a feature view against the columns its source really has."""

from __future__ import annotations

from cairn.core.errors import SourceError
from cairn.core.types import Dtype, dtype_of_sql, sql_type_fits
from cairn.features.aggregates import get_function
from cairn.features.feature_view import FeatureView


def check_view(view: FeatureView, columns: dict[str, str]) -> dict[str, Dtype]:
    """Raise a SourceError when ``view`` does not fit its source; return source column dtypes."""
    where = f"FeatureView {view.name!r} (source {view.source.name!r} at {view.source.path})"
    listing = ", ".join(f"{c} {t}" for c, t in columns.items())
    for key in view.join_keys:
        if key not in columns:
            raise SourceError(
                f"{where}: entity join key {key!r} is not a column of the source; "
                f"columns are {listing}."
            )
        if dtype_of_sql(columns[key]) not in (Dtype.INT64, Dtype.STRING):
            raise SourceError(
                f"{where}: join key {key!r} must be an integer or string column; "
                f"got {columns[key]}."
            )
    for f in view.schema:
        if f.name not in columns:
            raise SourceError(
                f"{where}: schema field {f.name!r} is not a column of the source; "
                f"columns are {listing}."
            )
        dtype = Dtype.parse(f.dtype)
        if not sql_type_fits(dtype, columns[f.name]):
            raise SourceError(
                f"{where}: field {f.name!r} is declared {dtype.value} but the "
                f"source column is {columns[f.name]}."
            )
    for agg in view.aggregations:
        if agg.column not in columns:
            raise SourceError(
                f"{where}: aggregation column {agg.column!r} is not a column of the "
                f"source; columns are {listing}."
            )
        fn = get_function(agg.function)
        kind = dtype_of_sql(columns[agg.column])
        if kind is None or (fn.numeric_only and kind not in (Dtype.INT64, Dtype.FLOAT64)):
            raise SourceError(
                f"{where}: {agg.function} of {agg.column!r} needs a numeric column; "
                f"the source column is {columns[agg.column]}."
            )
    return {c: d for c, t in columns.items() if (d := dtype_of_sql(t)) is not None}
