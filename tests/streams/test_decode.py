"""The columnar decode of a batch equals ``RowBuilder.row`` event by event: the same typed
values, the same dead-letter reasons, the same dtypes fixed on first sight."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cairn.core.types import Dtype
from cairn.features.stream_source import LocalStreamSource
from cairn.streams.decode import decode
from cairn.streams.events import BadEvent, RowBuilder

COLUMNS: dict[str, Dtype | None] = {
    "f": Dtype.FLOAT64,
    "i": Dtype.INT64,
    "s": Dtype.STRING,
    "b": Dtype.BOOL,
    "t": Dtype.TIMESTAMP,
    "open": None,
    "later": None,
}

_value = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 3.0, 2.5, math.nan]),
    st.text(max_size=3),
    st.sampled_from(["2027-01-15T00:00:00+00:00", "2027-01-15T00:00:00", "yesterday"]),
)
_time = st.one_of(
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.sampled_from(["2027-01-15T00:00:00.5+01:00", "2027-01-15 00:00:00", "soon"]),
    st.none(),
    st.booleans(),
)
_floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([math.nan]))
_ints = st.integers(-(2**70), 2**70)
_plain = {  # mostly values of the column's type, now and then one that is not
    "f": st.one_of(st.none(), _floats, _ints, st.booleans()),
    "i": st.one_of(st.none(), _ints, st.booleans(), st.sampled_from([2.0, 2.5])),
    "s": st.one_of(st.none(), st.text(max_size=3), _ints, st.booleans(), _floats),
    "b": st.one_of(st.none(), st.booleans(), st.integers(0, 1)),
    "t": st.one_of(st.none(), _ints, st.sampled_from(["2027-01-15T00:00:00+00:00", 1.5])),
    "open": st.one_of(st.none(), st.none(), st.integers(0, 9), st.text(max_size=2)),
    "later": st.one_of(st.none(), st.none(), st.none(), _floats),
}
_event = st.one_of(
    st.fixed_dictionaries({"ts": st.integers(0, 2**40)}, optional=_plain),
    st.fixed_dictionaries({"ts": st.integers(0, 2**40)}, optional=_plain),
    st.dictionaries(st.sampled_from(["ts", *COLUMNS]), _value | _time, max_size=8),
    st.fixed_dictionaries({"ts": _time}, optional={c: _value for c in COLUMNS}),
)


def _builder(unit: str, timezone: str | None) -> RowBuilder:
    source = LocalStreamSource(
        name="s", timestamp_field="ts", timestamp_unit=unit, timezone=timezone
    )
    return RowBuilder(source, COLUMNS)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return type(a) is type(b) and a == b


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    events=st.lists(_event, max_size=16),
    unit=st.sampled_from(["s", "ms", "us"]),
    timezone=st.sampled_from([None, "Europe/Paris"]),
)
def test_decode_equals_row_by_row(
    events: list[dict[str, Any]], unit: str, timezone: str | None
) -> None:
    one, batch = _builder(unit, timezone), _builder(unit, timezone)
    decoded = decode(batch, events)
    for i, value in enumerate(events):
        try:
            ts, row = one.row(value)
        except BadEvent as exc:
            assert decoded.bad.get(i) == str(exc)
            continue
        assert i not in decoded.bad
        assert _same(decoded.rows.times[i], ts)
        got = decoded.rows.row(i)
        assert got.keys() == row.keys()
        for name, typed in row.items():
            assert _same(got[name], typed), (name, got[name], typed)
    assert batch.dtypes == one.dtypes


def test_a_batch_with_a_mapping_that_is_not_a_dict_is_typed_event_by_event() -> None:
    from types import MappingProxyType

    events = [{"ts": 5, "f": 1}, MappingProxyType({"ts": 6, "f": "x"}), {"ts": 7, "open": True}]
    builder = _builder("ms", None)
    decoded = decode(builder, events)
    assert decoded.rows.times[0] == 5_000 and decoded.rows.columns["f"][0] == 1.0
    assert decoded.bad == {1: "'f' must be float64; got 'x'"}
    assert decoded.rows.columns["open"][2] is True and builder.dtypes["open"] is Dtype.BOOL
