"""The contract kit of :class:`~cairn.core.online.OnlineStore`: checks every backend must pass.

Each check is a plain function taking a fresh, empty store and raising :class:`AssertionError`
with a message that says what differed; none needs pytest. :func:`check_online_store` runs them
all; a test suite parametrizes over :data:`ONLINE_STORE_CHECKS` instead, one test per check.
The checks write only to the views in :data:`CHECK_VIEWS`, so a store shared with other data
is cleaned by deleting those views.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cairn.core.online import (
    OnlineStore,
    ReadRequest,
    SnapshotRead,
    SnapshotRecord,
    TileRead,
    TileRecord,
    read_each,
    read_many,
)

OnlineStoreCheck = Callable[[OnlineStore], None]
"""A check: takes a fresh, empty store; raises AssertionError when the contract is broken."""

VIEW = "contract"
OTHER_VIEW = "contract_other"
NESTED_VIEW = "contract:s"
"""A view whose name extends another's with a separator: catches ambiguous key layouts."""
CHECK_VIEWS: tuple[str, ...] = (VIEW, OTHER_VIEW, NESTED_VIEW)
"""Every view the checks write to."""

T = 1_767_225_600_000_000
"""2026-01-01 00:00 UTC in microseconds."""
HOUR = 3_600_000_000
SEED = 20261126

JSON_VALUES: list[Any] = [
    0,
    1,
    -1,
    2**53 + 1,
    2**63 - 1,
    -(2**63),
    0.1,
    -2.5,
    1 / 3,
    1e300,
    5e-324,
    -0.0,
    "",
    "text",
    "ünïcødé 🙂",
    "nul\x00 unit\x1f sep",
    True,
    False,
    None,
    [],
    [1, "a", None, [2.5, [True]]],
    {},
    {"k": [1, 2], "n": None},
]
"""One value of every JSON type (and edge values of each): they must round-trip exactly."""

ODD_KEYS: list[str] = [
    "",
    " ",
    "a\x1fb",
    "42\x1facct:7",
    "x:y:z",
    "s:k",
    "t:1h:k",
    "*",
    "?",
    "[a-z]",
    "\\",
    "%3A",
    ":",
    "ü🙂",
    "tab\tnew\nline",
    "k" * 1000,
]
"""Entity keys holding separators, glob and escape characters, unicode; all distinct."""


def _rec(key: str, ev: int, cr: int, seq: int, values: list[Any] | None = None) -> SnapshotRecord:
    return SnapshotRecord(key, ev, cr, seq, [f"{ev}/{cr}/{seq}"] if values is None else values)


def _tile(
    key: str, start: int, asof: int = T, group: str = "1h", states: dict[str, Any] | None = None
) -> TileRecord:
    return TileRecord(key, group, start, asof, {"count": 1} if states is None else states)


def _expect(actual: object, expected: object, what: str) -> None:
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def _same(a: Any, b: Any) -> bool:
    """Equal with equal types all the way down (``1 != 1.0 != True``; ``-0.0 != 0.0``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


def _starts(tiles: Sequence[TileRecord]) -> list[int]:
    return [t.start for t in tiles]


def check_protocol(store: OnlineStore) -> None:
    """The store satisfies the protocol, names its URL and answers ``ping``."""
    if not isinstance(store, OnlineStore):
        raise AssertionError(f"{type(store).__name__} does not implement OnlineStore")
    if not isinstance(store.url, str) or not store.url:
        raise AssertionError(f"store.url must be a non-empty string; got {store.url!r}")
    store.ping()


def check_empty_inputs(store: OnlineStore) -> None:
    """Nothing to write stores nothing; nothing to read returns empty lists."""
    _expect(store.write(VIEW, []), 0, "write of no records")
    _expect(store.write_tiles(VIEW, []), 0, "write_tiles of no tiles")
    _expect(store.read(VIEW, []), [], "read of no keys")
    _expect(store.read_tiles(VIEW, "1h", [], 0, T), [], "read_tiles of no keys")


def check_encoded_writes_equal_plain_writes(store: OnlineStore) -> None:
    """The bulk path (values pre-encoded as a JSON array) stores exactly what write() does,
    with the same order guard."""
    import orjson

    values: list[Any] = [1.5, None, "é\u2603", True, 7]
    assert store.write_encoded(VIEW, [("k", 10, 11, 1, orjson.dumps(values))]) == 1
    got = store.read(VIEW, ["k"])[0]
    assert got is not None and got.values == values and got.order == (10, 11, 1)
    assert store.write_encoded(VIEW, [("k", 10, 11, 0, b"[0]")]) == 0  # older: ignored
    assert store.write_encoded(VIEW, [("k", 10, 12, 0, b"[2]")]) == 1
    again = store.read(VIEW, ["k"])[0]
    assert again is not None and again.values == [2]
    store.delete_view(VIEW)


def check_round_trip(store: OnlineStore) -> None:
    """A written record reads back equal."""
    record = _rec("k1", T, T + 5, 3, [1, 2.5, "a", True, None])
    _expect(store.write(VIEW, [record]), 1, "write of one new record")
    _expect(store.read(VIEW, ["k1"]), [record], "read after write")
    _expect(store.read(VIEW, ["absent"]), [None], "read of a key never written")


def check_read_keeps_key_order(store: OnlineStore) -> None:
    """``read`` answers in the order of the keys asked, duplicates kept, None for missing."""
    a, b, c = (_rec(k, T, T, 0, [k]) for k in "abc")
    _expect(store.write(VIEW, [a, b, c]), 3, "write of three new records")
    _expect(
        store.read(VIEW, ["c", "missing", "a", "a", "b"]),
        [c, None, a, a, b],
        "read of ['c', 'missing', 'a', 'a', 'b']",
    )


def check_older_never_overwrites(store: OnlineStore) -> None:
    """A record with a smaller ``(event_ts, created_ts, seq)`` is ignored, whatever its parts."""
    newest = _rec("k", T, T, 5)
    store.write(VIEW, [newest])
    for older in (_rec("k", T - 1, T + HOUR, 99), _rec("k", T, T - 1, 99), _rec("k", T, T, 4)):
        _expect(store.write(VIEW, [older]), 0, f"write of older order {older.order}")
        _expect(store.read(VIEW, ["k"]), [newest], f"read after writing older {older.order}")


def check_greater_order_wins(store: OnlineStore) -> None:
    """Orders compare lexicographically: event_ts, then created_ts, then seq."""
    store.write(VIEW, [_rec("k", T, T, 0)])
    for newer in (_rec("k", T, T, 1), _rec("k", T, T + 1, 0), _rec("k", T + 1, T - HOUR, 0)):
        _expect(store.write(VIEW, [newer]), 1, f"write of greater order {newer.order}")
        _expect(store.read(VIEW, ["k"]), [newer], f"read after writing {newer.order}")


def check_equal_order_is_a_no_op(store: OnlineStore) -> None:
    """Writing the same order again stores nothing and keeps the first values."""
    first = _rec("k", T, T, 0, ["first"])
    store.write(VIEW, [first])
    _expect(store.write(VIEW, [_rec("k", T, T, 0, ["second"])]), 0, "write of an equal order")
    _expect(store.read(VIEW, ["k"]), [first], "read after writing an equal order")


def check_one_write_keeps_the_greatest(store: OnlineStore) -> None:
    """Several records of one key in one call: applied in turn, so the greatest order stays."""
    new, old = _rec("x", T, T, 1), _rec("x", T, T, 0)
    _expect(store.write(VIEW, [new, old]), 1, "write of [newer, older] for one key")
    _expect(store.read(VIEW, ["x"]), [new], "read after [newer, older]")
    old, new = _rec("y", T, T, 0), _rec("y", T, T, 1)
    _expect(store.write(VIEW, [old, new]), 2, "write of [older, newer] for one key")
    _expect(store.read(VIEW, ["y"]), [new], "read after [older, newer]")


def check_extreme_orders(store: OnlineStore) -> None:
    """Any 64-bit integers order exactly: negative times, and steps of 1 beyond 2**53."""
    low = _rec("k", -5, -(2**63), 0)
    _expect(store.write(VIEW, [low]), 1, "write of a pre-1970 record")
    _expect(store.read(VIEW, ["k"]), [low], "read of a pre-1970 record")
    steps = [
        _rec("k", -5, -(2**63), 2**63 - 1),
        _rec("k", 2**60, 0, 0),
        _rec("k", 2**60 + 1, 0, 0),
        _rec("k", 2**60 + 1, 2**62 + 1, 0),
        _rec("k", 2**63 - 1, 2**63 - 1, 2**63 - 1),
    ]
    for newer in steps:
        _expect(store.write(VIEW, [newer]), 1, f"write of greater order {newer.order}")
    for older in (_rec("k", 2**63 - 1, 2**63 - 1, 2**63 - 2), _rec("k", 2**60, 2**63 - 1, 0)):
        _expect(store.write(VIEW, [older]), 0, f"write of older order {older.order}")
    _expect(store.read(VIEW, ["k"]), [steps[-1]], "read after extreme orders")


def check_json_values_round_trip(store: OnlineStore) -> None:
    """Values and tile states of every JSON type read back with their exact types and values."""
    store.write(VIEW, [_rec("k", T, T, 0, JSON_VALUES)])
    (got,) = store.read(VIEW, ["k"])
    if got is None or not _same(got.values, JSON_VALUES):
        raise AssertionError(
            f"values changed in the store: wrote {JSON_VALUES!r}, "
            f"read {None if got is None else got.values!r}"
        )
    states = {
        "count": 3,
        "sum": 0.1,
        "mean": [0.30000000000000004, 3],
        "min": None,
        "last": ["x", [T, T, 2]],
        "all": JSON_VALUES,
    }
    store.write_tiles(VIEW, [_tile("k", T, states=states)])
    (tiles,) = store.read_tiles(VIEW, "1h", ["k"], T, T)
    if len(tiles) != 1 or not _same(tiles[0].states, states):
        raise AssertionError(f"tile states changed in the store: wrote {states!r}, read {tiles!r}")


def check_keys_with_any_characters(store: OnlineStore) -> None:
    """Entity keys may hold separators, glob characters and unicode; each stays its own."""
    records = [_rec(k, T, T, 0, [i]) for i, k in enumerate(ODD_KEYS)]
    _expect(store.write(VIEW, records), len(records), "write of odd keys")
    _expect(store.read(VIEW, ODD_KEYS), records, "read of odd keys")
    for record in records:
        _expect(store.read(VIEW, [record.key]), [record], f"read of key {record.key!r}")
    tiles = [_tile(k, T, states={"i": i}) for i, k in enumerate(ODD_KEYS)]
    _expect(store.write_tiles(VIEW, tiles), len(tiles), "write_tiles of odd keys")
    _expect(
        store.read_tiles(VIEW, "1h", ODD_KEYS, T, T), [[t] for t in tiles], "read_tiles of odd keys"
    )


def check_views_are_isolated(store: OnlineStore) -> None:
    """The same key in different views (one named like another plus ``:s``) never mixes."""
    store.write(VIEW, [_rec("s:k", T, T, 0, ["trap"])])
    for view in CHECK_VIEWS:
        store.write(view, [_rec("k", T, T, 0, [view])])
        store.write_tiles(view, [_tile("k", T, states={"view": view})])
    for view in CHECK_VIEWS:
        _expect(store.read(view, ["k"]), [_rec("k", T, T, 0, [view])], f"read of view {view!r}")
        _expect(
            store.read_tiles(view, "1h", ["k"], T, T),
            [[_tile("k", T, states={"view": view})]],
            f"read_tiles of view {view!r}",
        )
    store.delete_view(VIEW)
    for view in (OTHER_VIEW, NESTED_VIEW):
        _expect(
            store.read(view, ["k"]),
            [_rec("k", T, T, 0, [view])],
            f"read of view {view!r} after deleting {VIEW!r}",
        )
        _expect(
            len(store.read_tiles(view, "1h", ["k"], T, T)[0]),
            1,
            f"tiles of view {view!r} after deleting {VIEW!r}",
        )


def check_tiles_range_is_inclusive_and_sorted(store: OnlineStore) -> None:
    """``read_tiles`` returns tiles with ``start <= tile.start <= end``, sorted by start."""
    tiles = [_tile("k", T + h * HOUR, states={"h": h}) for h in (3, 0, 5, 1, 4, 2)]
    _expect(store.write_tiles(VIEW, tiles), 6, "write_tiles of six new tiles")
    by_start = sorted(tiles, key=lambda t: t.start)
    _expect(
        store.read_tiles(VIEW, "1h", ["k"], T + HOUR, T + 4 * HOUR),
        [by_start[1:5]],
        "read_tiles [T+1h, T+4h]",
    )
    _expect(
        store.read_tiles(VIEW, "1h", ["k"], T - HOUR, T + 9 * HOUR),
        [by_start],
        "read_tiles over every tile",
    )
    _expect(
        store.read_tiles(VIEW, "1h", ["k"], T + 2 * HOUR, T + 2 * HOUR),
        [[by_start[2]]],
        "read_tiles with start == end",
    )
    _expect(
        store.read_tiles(VIEW, "1h", ["k"], T + 1, T + HOUR - 1),
        [[]],
        "read_tiles between two tiles",
    )
    _expect(store.read_tiles(VIEW, "1h", ["k"], T + 3 * HOUR, T), [[]], "read_tiles start > end")
    got = store.read_tiles(VIEW, "1h", ["k", "missing", "k"], T, T + HOUR)
    _expect(
        [_starts(ts) for ts in got],
        [[T, T + HOUR], [], [T, T + HOUR]],
        "read_tiles of ['k', 'missing', 'k']",
    )


def check_tile_asof_guard(store: OnlineStore) -> None:
    """A tile is replaced unless the stored one has a later ``asof``; equal asof overwrites."""
    first = _tile("k", T, asof=T + 10, states={"count": 3})
    _expect(store.write_tiles(VIEW, [first]), 1, "write_tiles of a new tile")
    older = _tile("k", T, asof=T + 5, states={"count": 99})
    _expect(store.write_tiles(VIEW, [older]), 0, "write_tiles with an older asof")
    _expect(store.read_tiles(VIEW, "1h", ["k"], T, T), [[first]], "tile after an older asof")
    same = _tile("k", T, asof=T + 10, states={"count": 4})
    _expect(store.write_tiles(VIEW, [same]), 1, "write_tiles with an equal asof")
    _expect(store.read_tiles(VIEW, "1h", ["k"], T, T), [[same]], "tile after an equal asof")
    _expect(store.write_tiles(VIEW, [same]), 1, "write_tiles of the identical tile again")
    newer = _tile("k", T, asof=T + 20, states={"count": 5})
    _expect(store.write_tiles(VIEW, [newer, older]), 1, "write_tiles of [newer, older]")
    _expect(
        store.read_tiles(VIEW, "1h", ["k"], T - HOUR, T + HOUR),
        [[newer]],
        "tiles after [newer, older]",
    )


def check_tile_groups_are_isolated(store: OnlineStore) -> None:
    """Groups of one view keep their own tiles, and tiles never touch snapshot records."""
    for group, key in (("1h", "k"), ("0s", "k"), ("1h", "x:k"), ("1h:x", "k")):
        store.write_tiles(VIEW, [_tile(key, T, group=group, states={"g": f"{group}/{key}"})])
    record = _rec("k", T, T, 0)
    store.write(VIEW, [record])
    for group, key in (("1h", "k"), ("0s", "k"), ("1h", "x:k"), ("1h:x", "k")):
        _expect(
            store.read_tiles(VIEW, group, [key], 0, 2 * T),
            [[_tile(key, T, group=group, states={"g": f"{group}/{key}"})]],
            f"read_tiles of group {group!r}, key {key!r}",
        )
    _expect(store.read(VIEW, ["k"]), [record], "snapshot beside tiles of the same key")


def check_exact_window_tiles(store: OnlineStore) -> None:
    """1 µs tiles (group ``"0s"``) at any instant, including negative and beyond 2**53."""
    starts = [T + 1, T + 7, T + 8, T + 1_000_003, -1_000, 2**60, 2**60 + 1, 2**60 + 2]
    tiles = [_tile("k", s, group="0s", states={"s": s}) for s in starts]
    _expect(store.write_tiles(VIEW, tiles), len(tiles), "write_tiles of 1 µs tiles")

    def starts_in(lo: int, hi: int) -> list[int]:
        return _starts(store.read_tiles(VIEW, "0s", ["k"], lo, hi)[0])

    _expect(starts_in(T + 7, T + 8), [T + 7, T + 8], "0s tiles in [T+7, T+8]")
    _expect(starts_in(T + 2, T + 6), [], "0s tiles in [T+2, T+6]")
    _expect(starts_in(T + 8, T + 8), [T + 8], "0s tiles in [T+8, T+8]")
    _expect(starts_in(-(2**62), T + 1), [-1_000, T + 1], "0s tiles up to T+1")
    _expect(starts_in(2**60 + 1, 2**60 + 1), [2**60 + 1], "0s tiles in [2**60+1, 2**60+1]")
    _expect(starts_in(2**60, 2**61), [2**60, 2**60 + 1, 2**60 + 2], "0s tiles beyond 2**60")


def check_delete_view(store: OnlineStore) -> None:
    """``delete_view`` drops records and tiles of that view only; the view is usable after."""
    for view in (VIEW, OTHER_VIEW):
        store.write(view, [_rec("k", T, T, 1)])
        store.write_tiles(view, [_tile("k", T), _tile("k", T, group="0s")])
    store.delete_view(VIEW)
    _expect(store.read(VIEW, ["k"]), [None], "read after delete_view")
    _expect(store.read_tiles(VIEW, "1h", ["k"], 0, 2 * T), [[]], "1h tiles after delete_view")
    _expect(store.read_tiles(VIEW, "0s", ["k"], 0, 2 * T), [[]], "0s tiles after delete_view")
    _expect(store.read(OTHER_VIEW, ["k"]), [_rec("k", T, T, 1)], "other view after delete_view")
    _expect(
        store.read_tiles(OTHER_VIEW, "0s", ["k"], 0, 2 * T),
        [[_tile("k", T, group="0s")]],
        "other view's tiles after delete_view",
    )
    store.delete_view("contract_never_written")
    _expect(store.write(VIEW, [_rec("k", T, T, 0)]), 1, "write of an older order after delete")


def check_bulk_write_then_read(store: OnlineStore) -> None:
    """10,000 records, and 10,000 tiles of 2,000 keys, in one call each read back whole."""
    rng = random.Random(SEED)
    records = [_rec(f"user-{i}", T + i, T + i, 0, [i, i / 7, f"v{i}"]) for i in range(10_000)]
    _expect(store.write(VIEW, records), 10_000, "write of 10,000 new records")
    order = list(range(10_000))
    rng.shuffle(order)
    _expect(
        store.read(VIEW, [records[i].key for i in order]),
        [records[i] for i in order],
        "read of 10,000 keys in shuffled order",
    )
    _expect(store.write(VIEW, records), 0, "rewrite of the same 10,000 records")
    newer = [_rec(r.key, r.event_ts, r.created_ts, 1, ["new"]) for r in records[::2]]
    _expect(store.write(VIEW, newer), 5_000, "write of 5,000 newer records")
    _expect(
        store.read(VIEW, [r.key for r in records[:4]]),
        [newer[0], records[1], newer[1], records[3]],
        "read after the partial rewrite",
    )
    tiles = [
        _tile(f"user-{k}", T + h * HOUR, states={"sum": k * h})
        for h in range(5)
        for k in range(2_000)
    ]
    rng.shuffle(tiles)
    _expect(store.write_tiles(VIEW, tiles), 10_000, "write_tiles of 10,000 new tiles")
    keys = [f"user-{k}" for k in order if k < 2_000]
    got = store.read_tiles(VIEW, "1h", keys, T, T + 4 * HOUR)
    _expect(
        [_starts(ts) for ts in got],
        [[T + h * HOUR for h in range(5)]] * 2_000,
        "tile starts of 2,000 keys",
    )
    _expect(
        [ts[3].states for ts in got[:3]],
        [{"sum": int(k[5:]) * 3} for k in keys[:3]],
        "states of hour 3 of the first three keys",
    )


def check_read_many_equals_single_reads(store: OnlineStore) -> None:
    """:func:`~cairn.core.online.read_many` over mixed snapshot and tile reads of several views
    answers each request exactly as its own ``read`` / ``read_tiles`` does, in request order
    (missing keys, repeated keys, empty key lists, 1,001 keys, empty and inverted ranges)."""
    many = [f"m{i}" for i in range(1_001)]
    store.write(VIEW, [_rec("k", T, T, 0), _rec("a:b", T, T, 1, [1.5, None])])
    store.write(VIEW, [_rec(k, T, T, 2, [i]) for i, k in enumerate(many[::2])])
    store.write(OTHER_VIEW, [_rec("k", T + 1, T, 0, ["other"])])
    store.write_tiles(VIEW, [_tile("k", T + h * HOUR, states={"sum": h}) for h in range(4)])
    store.write_tiles(VIEW, [_tile("k", T, group="0s"), _tile("a:b", T + HOUR)])
    store.write_tiles(OTHER_VIEW, [_tile(k, T) for k in many[::3]])
    batches: list[list[ReadRequest]] = [
        [],
        [SnapshotRead(VIEW, [])],
        [SnapshotRead(VIEW, ["k"]), SnapshotRead(OTHER_VIEW, ["k"])],
        [TileRead(VIEW, "1h", ["k", "missing"], T, T + HOUR)],
        [TileRead(VIEW, "1h", ["k"], T, T + 2 * HOUR), TileRead(VIEW, "0s", ["k"], 0, 2 * T)],
        [
            SnapshotRead(VIEW, ["k", "missing", "a:b", "k"]),
            TileRead(VIEW, "1h", ["missing", "k", "a:b"], T + HOUR, T + 3 * HOUR),
            SnapshotRead(OTHER_VIEW, []),
            TileRead(VIEW, "1h", [], 0, 2 * T),
            SnapshotRead(NESTED_VIEW, ["k"]),
            TileRead(VIEW, "1h", ["k"], T + 3 * HOUR, T),
            TileRead(VIEW, "0s", ["k", "a:b"], 0, 2 * T),
            SnapshotRead(OTHER_VIEW, ["missing", "k"]),
        ],
        [SnapshotRead(VIEW, many), TileRead(OTHER_VIEW, "1h", many, T, T), SnapshotRead(VIEW, [])],
        [TileRead(OTHER_VIEW, "1h", many, 0, 2 * T), TileRead(VIEW, "1h", ["k"], T, T)],
    ]
    for requests in batches:
        what = f"read_many of {[(type(r).__name__, r.view, len(r.keys)) for r in requests]}"
        _expect(read_many(store, requests), read_each(store, requests), what)


def check_concurrent_writers(store: OnlineStore) -> None:
    """Writers in several threads, interleaved in any order: each key keeps its greatest order."""
    keys = [f"c{i}" for i in range(20)]
    work = [_rec(k, T, T, seq) for k in keys for seq in range(40)]
    random.Random(SEED).shuffle(work)

    def writer(part: list[SnapshotRecord]) -> None:
        for i in range(0, len(part), 5):
            store.write(VIEW, part[i : i + 5])

    with ThreadPoolExecutor(max_workers=4) as pool:
        for future in [pool.submit(writer, work[i::4]) for i in range(4)]:
            future.result()
    _expect(
        store.read(VIEW, keys),
        [_rec(k, T, T, 39) for k in keys],
        "records after concurrent writers",
    )


ONLINE_STORE_CHECKS: tuple[OnlineStoreCheck, ...] = (
    check_encoded_writes_equal_plain_writes,
    check_protocol,
    check_empty_inputs,
    check_round_trip,
    check_read_keeps_key_order,
    check_older_never_overwrites,
    check_greater_order_wins,
    check_equal_order_is_a_no_op,
    check_one_write_keeps_the_greatest,
    check_extreme_orders,
    check_json_values_round_trip,
    check_keys_with_any_characters,
    check_views_are_isolated,
    check_tiles_range_is_inclusive_and_sorted,
    check_tile_asof_guard,
    check_tile_groups_are_isolated,
    check_exact_window_tiles,
    check_delete_view,
    check_bulk_write_then_read,
    check_read_many_equals_single_reads,
    check_concurrent_writers,
)
"""Every check, in a stable order (use ``check.__name__`` as a test id)."""


def run_check(check: OnlineStoreCheck, make_store: Callable[[], OnlineStore]) -> None:
    """Run one check on a fresh store, then delete :data:`CHECK_VIEWS` and close the store.

    A failure is re-raised as :class:`AssertionError` naming the check and the store's URL.
    """
    store = make_store()
    try:
        check(store)
    except AssertionError as exc:
        raise AssertionError(f"{check.__name__} failed on {store.url}: {exc}") from None
    finally:
        try:
            for view in CHECK_VIEWS:
                store.delete_view(view)
        finally:
            store.close()


def check_online_store(make_store: Callable[[], OnlineStore]) -> None:
    """Run every check of :data:`ONLINE_STORE_CHECKS`, each on a fresh store from ``make_store``.

    Parameters
    ----------
    make_store:
        Returns a store without data in :data:`CHECK_VIEWS` each time it is called (e.g. a
        SQLite file, or a Redis store with a prefix no other data uses); each store is closed
        after its check, and those views are deleted.

    Example
    -------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from cairn.online.backends.sqlite import SqliteOnlineStore
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     check_online_store(lambda: SqliteOnlineStore(Path(folder) / "online.db"))
    """
    for check in ONLINE_STORE_CHECKS:
        run_check(check, make_store)
