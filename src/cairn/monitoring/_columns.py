"""Reading one column of the current data (pandas or Arrow) the way the reference was profiled.

Numeric columns become float64 numpy arrays with NaN for null; categorical columns become Arrow
string arrays with nulls, their text as the training profile made it (pandas
``astype("string")``: Arrow strings and dictionaries are used as they are, anything else goes
through pandas so booleans read ``True``/``False`` on both sides).
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
        f"current data must be a pyarrow.Table or a pandas.DataFrame; got {type(data).__name__}."
    )


def row_count(data: Frame) -> int:
    """Rows of a pandas frame or an Arrow table."""
    return int(data.num_rows) if isinstance(data, pa.Table) else len(data)


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
        kind = data.schema.field(name).type if isinstance(data, pa.Table) else data[name].dtype
        raise DataError(f"column {name!r} is {kind}, not numeric ({_first_line(exc)}).") from None


def text_values(data: Frame, name: str) -> pa.Array:
    """One column as an Arrow string array with nulls (categories compared as text)."""
    if isinstance(data, pa.Table):
        column = data.column(name)
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if _is_text(kind):
            return pc.cast(column, pa.large_string()).combine_chunks()
        series: Any = column.to_pandas()
    else:
        series = data[name]
    return pa.array(series.astype("string"), type=pa.large_string())


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
