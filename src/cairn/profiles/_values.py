"""Reading one column of a pandas frame or an Arrow table as numbers or as category text.

Profiles and the data compared with them read columns the same way: numbers as float64 with NaN
for null, categories as Arrow strings with nulls. Booleans read ``true``/``false`` everywhere
(as SQL prints them), so a profile built from pandas, Arrow or a quality suite's DuckDB query
names the same categories.

Example
-------
>>> import pandas as pd
>>> frame = pd.DataFrame({"ok": [True, False, None], "n": [1, None, 3]})
>>> text_values(frame, "ok").to_pylist(), numeric_values(frame, "n").tolist()
(['true', 'false', None], [1.0, nan, 3.0])
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cairn.core.errors import DataError

Frame: TypeAlias = pd.DataFrame | pa.Table


def columns_of(data: Frame) -> list[str]:
    """The column names of a pandas frame or an Arrow table."""
    if isinstance(data, pa.Table):
        return list(data.column_names)
    if isinstance(data, pd.DataFrame):
        return [str(c) for c in data.columns]
    raise DataError(
        f"data must be a pyarrow.Table or a pandas.DataFrame; got {type(data).__name__}."
    )


def row_count(data: Frame) -> int:
    """Rows of a pandas frame or an Arrow table."""
    return int(data.num_rows) if isinstance(data, pa.Table) else len(data)


def is_bool(data: Frame, name: str) -> bool:
    """Whether a column holds booleans (profiled as categories ``false``/``true``)."""
    if isinstance(data, pa.Table):
        return bool(pa.types.is_boolean(data.schema.field(name).type))
    return _bools(data[name])


def is_numeric(data: Frame, name: str) -> bool:
    """Whether a column holds numbers (booleans not included)."""
    if isinstance(data, pa.Table):
        kind = data.schema.field(name).type
        return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind)
                    or pa.types.is_decimal(kind) or pa.types.is_null(kind))  # fmt: skip
    dtype = data[name].dtype
    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


def dtype_of(data: Frame, name: str) -> str:
    """The column's type as its library names it."""
    return str(data.schema.field(name).type if isinstance(data, pa.Table) else data[name].dtype)


def numeric_values(data: Frame, name: str) -> npt.NDArray[np.float64]:
    """One column as float64 (NaN for null), or a DataError saying it is not numeric."""
    try:
        if isinstance(data, pa.Table):
            column = data.column(name)
            if pa.types.is_dictionary(column.type):
                column = pc.cast(column, column.type.value_type)
            values: npt.NDArray[np.float64] = np.asarray(
                pc.cast(column, pa.float64()).to_numpy(), dtype=np.float64
            )
            return values
        return np.asarray(data[name].to_numpy(dtype=np.float64, na_value=np.nan))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError, ValueError) as exc:
        raise DataError(
            f"column {name!r} is {dtype_of(data, name)}, not numeric ({_first_line(exc)})."
        ) from None


def text_values(data: Frame, name: str) -> pa.Array:
    """One column as an Arrow string array with nulls (categories compared as text)."""
    if isinstance(data, pa.Table):
        column = data.column(name)
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if _is_text(kind) or pa.types.is_boolean(kind):
            return pc.cast(column, pa.large_string()).combine_chunks()
        series: Any = column.to_pandas()
    else:
        series = data[name]
    inferred = _inferred(series)
    if inferred == "boolean":
        return pc.cast(pa.array(series, type=pa.bool_()), pa.large_string())
    if inferred == "string":  # Python strings (and nulls): Arrow reads them directly
        return pa.array(series, type=pa.large_string(), from_pandas=True)
    return pa.array(series.astype("string"), type=pa.large_string())


def _bools(series: pd.Series) -> bool:
    return _inferred(series) == "boolean"


def _inferred(series: pd.Series) -> str | None:
    """``boolean`` for bool columns, else what pandas infers of an object column's values."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if series.dtype != object:
        return None
    return str(pd.api.types.infer_dtype(series, skipna=True))


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
