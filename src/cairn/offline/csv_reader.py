"""The one CSV reader of Cairn: empty fields are null, declared types survive an empty column.

Quality suites, offline sources and entity files all read CSV through :func:`read_csv`, so the
same file means the same data everywhere (and the same as its Parquet twin):

* an **empty field is null** in every column, text included (``pyarrow.csv`` reads it as an
  empty string in a text column by default, so a not-null check would pass on CSV and fail on
  Parquet); only the empty field is null: ``NA`` or ``null`` stay text;
* a column with no value at all (a header-only file, or an all-empty column) is typed ``null``
  by inference; ``types`` names the type it keeps then (a source's timestamp columns, an entity
  file's ``event_timestamp``). A column that holds values keeps its inferred type;
* ``.tsv`` files are tab-separated.

Example
-------
>>> import pathlib, tempfile, pyarrow as pa
>>> path = pathlib.Path(tempfile.mkdtemp()) / "rows.csv"
>>> _ = path.write_text("id,name,seen\\n1,,\\n2,bob,\\n")
>>> table = read_csv(path, types={"seen": pa.timestamp("us", tz="UTC")})
>>> table.column("name").to_pylist(), table.schema.field("seen").type
([None, 'bob'], TimestampType(timestamp[us, tz=UTC]))
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from cairn.core.errors import SourceError

NULL_VALUES = ("",)
"""Field values read as null (only the empty field: ``NA`` may be a country code)."""


def read_csv(path: str | Path, *, types: Mapping[str, pa.DataType] | None = None) -> pa.Table:
    """Read a CSV (or ``.tsv``) file into Arrow with empty fields as null.

    Parameters
    ----------
    path:
        The file.
    types:
        Column -> the Arrow type it keeps when it holds no value (inferred ``null``).
    """
    file = Path(path)
    delimiter = "\t" if file.suffix.lower() == ".tsv" else ","
    convert = pacsv.ConvertOptions(
        null_values=list(NULL_VALUES), strings_can_be_null=True, quoted_strings_can_be_null=True
    )
    try:
        table = pacsv.read_csv(
            file, parse_options=pacsv.ParseOptions(delimiter=delimiter), convert_options=convert
        )
    except (pa.ArrowInvalid, OSError) as exc:
        raise SourceError(f"Cannot read the CSV file {file}: {exc}") from None
    for name, kind in (types or {}).items():
        if name in table.column_names and pa.types.is_null(table.schema.field(name).type):
            index = table.column_names.index(name)
            table = table.set_column(index, name, pa.nulls(table.num_rows, kind))
    return table
