"""The stream processor: events -> hop tiles in the online store, exactly once, batch-equal.

One micro-batch (:meth:`StreamProcessor.step`):

1. take the commit time ``c`` (strictly after the last one); read events from the checkpoint's
   offsets; an event whose event time is not before ``c`` is *held* (kept in the checkpoint,
   released by the first batch after it is due) or, by configuration or when it is too far
   ahead, rejected to the dead-letter file; a malformed event goes there too, with its reason;
2. fold every due event into its tiles with the aggregation library (order
   ``(event time, c, position in the batch)``); an event older than every window of a tile
   family (``event < floor(c, hop) - longest window``) touches no tile: no read at or after
   ``c`` can count it, and the batch engine does not either;
3. stage the batch's rows (created time ``c``) beside the batch source, commit the touched tiles
   and the checkpoint in one atomic step, then publish the staged rows.

So for any time ``t``, the online value equals the batch engine's over the landed rows at ``t``:
a tile holds exactly the events with created time ``c <= t`` and event time ``< c <= t``, which
are the rows the point-in-time rules count. There is no watermark and no grace period: a late
event is counted whenever it arrives, in both executions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast

import orjson

from cairn.core.errors import CairnError, StreamFencedError
from cairn.core.online import (
    EncodedStreamCommitter,
    OnlineStore,
    StreamCommitter,
    StreamFence,
    TileRecord,
    encode_key,
    partition_of,
)
from cairn.core.types import Micros
from cairn.features.aggregates import AggregateFunction, get_function, tile_start
from cairn.features.feature_view import FeatureView
from cairn.features.stream_source import StreamSource
from cairn.online.materialize import hop_groups, storage_name, tile_size, versioned_storage
from cairn.streams import landing
from cairn.streams.checkpoint import COUNTS, Checkpoint, version_of
from cairn.streams.collector import collector_paused
from cairn.streams.decode import Rows, decode
from cairn.streams.event_log import EventLog, ValueReader
from cairn.streams.events import RowBuilder, landed_columns
from cairn.streams.fence import FencedCommitter
from cairn.streams.fold import States, TileKey, Touch, fold, plan

FutureEvents = Literal["hold", "reject"]


class StreamError(CairnError):
    """A processor that cannot run as configured."""


Instance = tuple[int, int]
"""``(i, n)``: processor ``i`` of the ``n`` that share a source's partitions (partition ``p``
belongs to processor ``p % n``)."""


def checkpoint_name(namespace: str, source: str, instance: Instance = (0, 1)) -> str:
    """The name a source's processor commits its checkpoint under in the online store.

    Example
    -------
    >>> checkpoint_name("credit", "transactions")
    'credit.__stream__.transactions'
    >>> checkpoint_name("credit", "transactions", (1, 2))
    'credit.__stream__.transactions#1/2'
    """
    name = storage_name(namespace, f"__stream__.{source}")
    return name if instance[1] == 1 else f"{name}#{instance[0]}/{instance[1]}"


def processor_checkpoints(
    store: StreamCommitter, namespace: str, source: str, count: int, suffix: str = ""
) -> list[Checkpoint]:
    """The checkpoints of the ``count`` processors sharing ``source``, in instance order (an
    empty one for a processor that never committed); with ``suffix`` ``"#next"``, the records
    of their backfills."""
    return [
        Checkpoint.from_bytes(
            store.read_stream_checkpoint(checkpoint_name(namespace, source, (i, count)) + suffix)
        )
        for i in range(count)
    ]


def landing_tag(source: str, instance: Instance = (0, 1)) -> str:
    """The tag of the batches a processor lands (in their file names), one per instance.

    Example
    -------
    >>> landing_tag("txns"), landing_tag("txns", (0, 2))
    ('txns', 'txns.0of2')
    """
    return source if instance[1] == 1 else f"{source}.{instance[0]}of{instance[1]}"


def owned_partitions(partitions: int, instance: Instance = (0, 1), source: str = "") -> list[int]:
    """The partitions processor ``instance`` reads.

    Example
    -------
    >>> owned_partitions(5, (1, 2))
    [1, 3]
    """
    i, n = instance
    if not 0 <= i < n:
        raise StreamError(f"processor instance {i} of {n} does not exist (0 <= i < {n}).")
    if n > partitions:
        raise StreamError(
            f"{n} processors cannot share the {partitions} partition(s) of "
            f"{source or 'the source'!r}: each needs at least one (streaming.processors must "
            f"be at most the source's partitions)."
        )
    return [p for p in range(partitions) if p % n == i]


def now_us() -> Micros:
    """The wall clock in µs since the epoch."""
    return time.time_ns() // 1000


@dataclass(frozen=True)
class ProcessorSettings:
    """How a processor batches and treats early events."""

    max_batch: int = 10_000
    """Most events read per micro-batch (over all partitions)."""
    future_events: FutureEvents = "hold"
    """``hold``: keep an event until its event time has passed; ``reject``: dead-letter it."""
    max_future_us: Micros = 3_600_000_000
    """An event further ahead than this is dead-lettered even when holding."""


@dataclass(frozen=True)
class _Group:
    storage: str
    name: str
    size: Micros
    longest: Micros
    keys: tuple[str, ...]
    aggs: tuple[tuple[str, str, AggregateFunction], ...]
    """(feature name, source column, function)."""


@dataclass
class BatchResult:
    """What one micro-batch did."""

    events: int = 0
    landed: int = 0
    skipped: int = 0
    held: int = 0
    released: int = 0
    dead: int = 0
    tiles: int = 0
    commit_us: Micros = 0
    seconds: float = 0.0
    dead_letters: list[dict[str, Any]] = field(default_factory=list)


class _At(NamedTuple):
    """Where an event is in the log, and its value (a held or dead-lettered event)."""

    partition: int
    offset: int
    value: Any


@dataclass
class _Read:
    """The events of a micro-batch as columns (``partitions[i]``, ``offsets[i]``, ``values[i]``
    is event ``i``): a batch of 10^4 events as 10^4 :class:`Event` objects cost a seventh of
    the processor's time to build and free, and it needs only these three fields."""

    partitions: list[int] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)

    def at(self, i: int) -> _At:
        return _At(self.partitions[i], self.offsets[i], self.values[i])


def _encode(states: dict[str, Any]) -> bytes:
    """The stored JSON of a tile's states, in a bytes object of its own size: ``orjson.dumps``
    returns its 4 KiB output buffer, which the tile cache would otherwise keep per tile."""
    return bytes(memoryview(orjson.dumps(states)))


class StreamProcessor:
    """Keeps the windowed views of one stream source current in an online store.

    Parameters
    ----------
    source:
        The stream source.
    views:
        The windowed views over it with their definition hashes: each is stored under its
        versioned name (:func:`~cairn.online.materialize.versioned_storage`), and the
        checkpoint records them as the live definitions.
    log:
        The source's event log.
    store:
        The online store; it must support atomic stream commits (SQLite, Redis).
    root:
        The project folder (where relative batch-source paths resolve).
    namespace:
        The online-store namespace of the project.
    """

    def __init__(
        self,
        source: StreamSource,
        views: Sequence[tuple[FeatureView, str]],
        log: EventLog,
        store: OnlineStore,
        root: Path,
        *,
        namespace: str = "",
        settings: ProcessorSettings | None = None,
        clock: Callable[[], Micros] = now_us,
        dead_letter: Path | None = None,
        instance: Instance = (0, 1),
        fence: StreamFence | None = None,
    ) -> None:
        if not isinstance(store, StreamCommitter):
            raise StreamError(
                f"The online store at {store.url} cannot commit stream batches atomically; "
                f"use the SQLite or Redis online store for streaming views."
            )
        self.source = source
        self.views = [v for v, _ in views]
        self.hashes = {v.name: h for v, h in views}
        """View name -> definition hash of the views kept current."""
        self.version = version_of(self.hashes.items())
        self.log = log
        self._committer: StreamCommitter = store
        self.store: StreamCommitter = store if fence is None else FencedCommitter(store, fence)
        self.root = root
        self.settings = settings or ProcessorSettings()
        self.clock = clock
        self.instance = instance
        self.name_space = namespace
        self.owned = owned_partitions(log.partitions, instance, source.name)
        self._joins = sorted({v.join_keys for v in self.views})
        self.name = checkpoint_name(namespace, source.name, instance)
        self.tag = landing_tag(source.name, instance)
        self.dead_letter = dead_letter
        self.groups = [
            _Group(
                versioned_storage(namespace, v.name, h),
                group,
                tile_size(aggs),
                max(a.window_us for a in aggs),
                v.join_keys,
                tuple((a.name, a.column, get_function(a.function)) for a in aggs),
            )
            for v, h in views
            for group, aggs in hop_groups(v).items()
        ]
        self.rows = RowBuilder(source, landed_columns(source, self.views))
        self.checkpoint = Checkpoint()
        self._held: list[tuple[_At, int, dict[str, Any]]] = []
        self._tiles: dict[TileKey, bytes] = {}
        """The states of the tiles this processor committed or read, as stored (JSON): bytes
        are no work for the garbage collector, where dicts and lists of ~10^5 tiles made
        every full collection (about one per batch) cost a tenth of a second."""
        self._horizon: Micros | None = None
        self._evicted: dict[tuple[str, str], Micros] = {}
        self._online = store

    # -- start-up ---------------------------------------------------------------------------

    @property
    def fence(self) -> StreamFence | None:
        """The partitions' fence every commit carries (None: commits are not fenced)."""
        return self.store.fence if isinstance(self.store, FencedCommitter) else None

    def claim(self, fence: StreamFence) -> None:
        """Claim ``fence`` over the partitions this processor holds the locks of (before
        :meth:`start`), and fence every commit from now on: once another processor claims
        them, a commit of this one is refused (:mod:`cairn.streams.fence`)."""
        self._committer.claim_stream_fence(fence)
        self.store = FencedCommitter(self._committer, fence)

    def start(self) -> Checkpoint:
        """Load the checkpoint, finish a landing a crash cut short, restore held events."""
        raw = self.store.read_stream_checkpoint(self.name)
        batch = self.source.batch
        raw = self._newest_layout(raw)  # another number of processors since: their offsets
        if raw is None:  # a new online store: resume from the last landed batch, if any
            landed = landing.last_checkpoint(batch, self.root, self.tag)
            if landed is not None:
                raw = Checkpoint.from_bytes(landed).advanced(version="").to_bytes()
        self.checkpoint = Checkpoint.from_bytes(raw)
        ends = self.log.end_offsets()
        ahead = {p: o for p, o in self.checkpoint.offsets.items() if o > ends.get(p, 0)}
        if ahead:
            p, o = next(iter(ahead.items()))
            raise StreamError(
                f"The checkpoint of {self.source.name!r} is ahead of its log {self.log.url}: "
                f"partition {p} resumes at offset {o}, the log ends at {ends.get(p, 0)}. Was "
                f"the log replaced or emptied? Move the landed batches of the old log out of "
                f"{batch.path!r} (and reset the online store) to start over."
            )
        landing.repair(batch, self.root, self.tag, self.checkpoint.commit_us)
        self.rows.fix(landing.existing_schema(batch, self.root))
        self._held = []
        for partition, offset in self.checkpoint.held:
            found = self.log.read(partition, offset, 1)
            if not found or found[0].offset != offset:
                raise StreamError(
                    f"Held event {partition}/{offset} of {self.source.name!r} is no longer in "
                    f"the log {self.log.url} (retention?); it cannot be processed."
                )
            ts, row = self.rows.row(found[0].value)
            self._held.append((_At(partition, offset, found[0].value), ts, row))
        self._tiles.clear()
        self._horizon = None
        self._evicted.clear()
        return self.checkpoint

    def _newest_layout(self, own: bytes | None) -> bytes | None:
        """This instance's checkpoint, or one pieced together from the checkpoints written
        since by another number of processors sharing the source (each partition from the
        newest checkpoint that read it); ``own`` when no other is newer."""
        mine = None if own is None else Checkpoint.from_bytes(own)
        found: dict[int, Checkpoint] = {}
        for n in range(1, self.log.partitions + 1):
            for i in range(n):
                if (i, n) == self.instance:
                    ck = mine
                else:
                    raw = self.store.read_stream_checkpoint(
                        checkpoint_name(self.name_space, self.source.name, (i, n))
                    )
                    ck = None if raw is None else Checkpoint.from_bytes(raw)
                if ck is None:
                    continue
                for p in self.owned:
                    if p in ck.offsets and (p not in found or found[p].commit_us < ck.commit_us):
                        found[p] = ck
        if not found or all(ck is mine for ck in found.values()):
            return own
        versions = {ck.version for ck in found.values()}
        if len(versions) > 1:
            raise StreamError(
                f"The processors of {self.source.name!r} before this one served different "
                f"definitions ({' / '.join(sorted(versions))}): a backfill was under way. "
                f"Run them until `cairn stream status` says current, then change "
                f"streaming.processors."
            )
        newest = max(found.values(), key=lambda ck: ck.commit_us)
        return Checkpoint(
            offsets={p: ck.offsets[p] for p, ck in found.items()},
            commit_us=max(newest.commit_us, mine.commit_us if mine else 0),
            held=tuple(h for p, ck in found.items() for h in ck.held if h[0] == p),
            counts=dict(mine.counts) if mine else {},
            version=newest.version,
            layout=newest.layout,
        ).to_bytes()

    def misplaced(self, partition: int, row: Mapping[str, Any]) -> str | None:
        """Why an event cannot be processed by this instance: with several processors, a
        key's events must all be in the partition its key hashes to (the one
        ``FeatureStore.produce`` picks), or two processors would update the same tiles."""
        if self.instance[1] == 1:
            return None
        for keys in self._joins:
            values = [row.get(k) for k in keys]
            if any(v is None for v in values):
                continue
            expected = partition_of(encode_key(values), self.log.partitions)
            if expected != partition:
                return (
                    f"its key {encode_key(values)!r} belongs to partition {expected}, not "
                    f"{partition}: with several processors (streaming.processors), events must "
                    f"be keyed by the views' join keys (as `cairn stream produce` does)"
                )
        return None

    # -- one micro-batch ----------------------------------------------------------------------

    def step(self) -> BatchResult:
        """Process one micro-batch; ``events == 0`` and nothing released means idle."""
        with collector_paused():  # see cairn.streams.collector: a full collection per batch
            return self._step()

    def _step(self) -> BatchResult:
        began = time.perf_counter()
        ck = self.checkpoint
        if self._horizon is None:  # the first batch since start (and any tile rebuild)
            self._horizon = ck.commit_us
        commit = max(self.clock(), ck.commit_us + 1)
        result = BatchResult(commit_us=commit)
        released: list[tuple[int, dict[str, Any]]] = []
        still_held: list[tuple[_At, int, dict[str, Any]]] = []
        for event, ts, row in self._held:
            if ts < commit:
                released.append((ts, row))
                result.released += 1
            else:
                still_held.append((event, ts, row))
        offsets = dict(ck.offsets)
        events = self._read(offsets)
        result.events = len(events.values)
        due = self._decode(events, commit, result, still_held)
        if released:
            due = Rows.of(released, list(self.rows.dtypes)).then(due)
        if not due.times and result.events == 0 and result.released == 0:
            return result
        touched = self._fold(due, commit, result)
        result.landed = len(due)
        counts = {name: ck.count(name) + getattr(result, name) for name in COUNTS}
        new = Checkpoint(
            offsets=offsets,
            commit_us=commit,
            held=tuple((e.partition, e.offset) for e, _, _ in still_held),
            counts=counts,
            batch_events=result.events + result.released,
            batch_seconds=time.perf_counter() - began,
            version=self.version,
            retired=ck.retired,
        )
        batch = self.source.batch
        if due.times:
            table = self.rows.columns_table(due.times, due.columns, commit)
            meta = {landing.CHECKPOINT_KEY: new.to_bytes()}
            landing.stage(batch, self.root, self.tag, commit, table.replace_schema_metadata(meta))
        dumps = orjson.dumps  # see _encode
        encoded = {k: bytes(memoryview(dumps(s))) for k, s in touched.items()}
        try:
            self._commit(touched, encoded, commit, new.to_bytes())
        except StreamFencedError:  # another processor owns the partitions now
            if due.times:
                landing.discard(batch, self.root, self.tag, commit)
            raise
        self._tiles.update(encoded)
        self.checkpoint = new
        self._held = still_held
        if due.times:
            landing.publish(batch, self.root, self.tag, commit)
        self._write_dead(result.dead_letters)
        self._evict(commit)
        result.tiles = len(touched)
        result.seconds = time.perf_counter() - began
        return result

    def _commit(
        self,
        touched: dict[TileKey, dict[str, Any]],
        encoded: dict[TileKey, bytes],
        commit: Micros,
        checkpoint: bytes,
    ) -> None:
        """Commit the tiles and the checkpoint atomically (already encoded where the store
        takes them so: the states are encoded once, for the store and the cache)."""
        if isinstance(self._committer, EncodedStreamCommitter):  # the store, fenced or not
            rows = [(*k, commit, b) for k, b in encoded.items()]
            cast(EncodedStreamCommitter, self.store).commit_stream_encoded(
                self.name, rows, checkpoint
            )
        else:
            records = [(k[0], TileRecord(k[2], k[1], k[3], commit, s)) for k, s in touched.items()]
            self.store.commit_stream(self.name, records, checkpoint)

    def _decode(
        self,
        events: _Read,
        commit: Micros,
        result: BatchResult,
        held: list[tuple[_At, int, dict[str, Any]]],
    ) -> Rows:
        """The typed rows of the events that are due at ``commit``, in the events' order; a
        malformed event is dead-lettered, one ahead of ``commit`` held (appended to ``held``)
        or dead-lettered, as the settings say."""
        decoded = decode(self.rows, events.values)
        rows, bad = decoded.rows, decoded.bad
        if self.instance[1] > 1:  # several processors: every key in its own partition
            for i, partition in enumerate(events.partitions):
                if i not in bad:
                    wrong = self.misplaced(partition, rows.row(i))
                    if wrong is not None:
                        bad[i] = wrong
        times = rows.times
        ahead = (
            [i for i, ts in enumerate(times) if ts >= commit]
            if times and max(times) >= commit
            else []
        )
        if not bad and not ahead:
            return rows
        odd = sorted({*bad, *ahead})
        for i in odd:  # in the events' order, as the dead letters are written
            event = events.at(i)
            if i in bad:
                self._dead(result, event, bad[i])
                continue
            ts = times[i]
            early = ts - commit
            if self.settings.future_events == "reject":
                self._dead(result, event, f"event time is {early} µs ahead (rejected)")
            elif early > self.settings.max_future_us:
                self._dead(result, event, f"event time is {early} µs ahead (beyond max)")
            else:
                held.append((event, ts, rows.row(i)))
                result.held += 1
        skip = set(odd)
        return rows.take([i for i in range(len(times)) if i not in skip])

    def _read(self, offsets: dict[int, int]) -> _Read:
        """The next events of the owned partitions (at most ``max_batch``); ``offsets`` is
        advanced past them."""
        out = _Read()
        budget = self.settings.max_batch
        log = self.log
        for partition in self.owned:
            if budget <= 0:
                break
            start = offsets.get(partition, 0)
            if isinstance(log, ValueReader):
                at, values = log.read_values(partition, start, budget)
            else:
                events = log.read(partition, start, budget)
                at, values = [e.offset for e in events], [e.value for e in events]
            if not at:
                continue
            out.partitions += [partition] * len(at)
            out.offsets += at
            out.values += values
            offsets[partition] = at[-1] + 1
            budget -= len(at)
        return out

    def _dead(self, result: BatchResult, event: _At, reason: str) -> None:
        result.dead += 1
        result.dead_letters.append(
            {
                "source": self.source.name,
                "partition": event.partition,
                "offset": event.offset,
                "reason": reason,
                "value": event.value,
            }
        )

    def _write_dead(self, letters: list[dict[str, Any]]) -> None:
        if not letters or self.dead_letter is None:
            return
        self.dead_letter.parent.mkdir(parents=True, exist_ok=True)
        with self.dead_letter.open("ab") as handle:
            for letter in letters:
                handle.write(orjson.dumps(letter) + b"\n")

    def _fold(
        self, due: Rows, commit: Micros, result: BatchResult
    ) -> dict[TileKey, dict[str, Any]]:
        """The states of the tiles the due rows touch, updated (the cache is left as it was:
        it takes them only once they are committed, so a failed commit never counts an event
        twice).

        The fold is columnar (:mod:`cairn.streams.fold`): the tiles are planned with NumPy and
        each aggregation folds a whole batch into its tiles at once, with states equal bit for
        bit to folding the events one by one in the order ``(event time, commit, position)``.
        """
        if not due.times:
            return {}
        planned = plan(self.groups, due, commit)
        result.skipped += planned.skipped
        self._load(planned.touches)
        tiles = self._tiles
        loads = orjson.loads

        def old(keys: list[TileKey]) -> list[States | None]:
            return [None if blob is None else loads(blob) for blob in map(tiles.get, keys)]

        return fold(planned, due, commit, old)

    def _load(self, touches: Sequence[Touch]) -> None:
        """Read the touched tiles that may be in the store but not in the cache.

        A tile starting at or after the checkpoint's commit time when this processor started
        (``_horizon``) cannot be stored yet: every event committed before (by a processor or a
        tile rebuild) is older than that commit time, and since then only this processor wrote
        the source's tiles, and its cache holds every one it committed. Such a tile (most of
        a live stream's) is new, starts empty and costs no read.
        """
        horizon = self._horizon if self._horizon is not None else self.checkpoint.commit_us
        cached = self._tiles
        missing: dict[tuple[str, str], tuple[set[str], list[int]]] = {}
        for touch in touches:
            for storage, name, key, start in touch.tiles:
                if start >= horizon or (storage, name, key, start) in cached:
                    continue
                keys, starts = missing.setdefault((storage, name), (set(), []))
                keys.add(key)
                starts.append(start)
        for (storage, name), (keys, starts) in missing.items():
            ordered = sorted(keys)
            found = self._online.read_tiles(storage, name, ordered, min(starts), max(starts))
            for key, tiles in zip(ordered, found, strict=True):
                for tile in tiles:
                    cached.setdefault((storage, name, key, tile.start), _encode(tile.states))

    def _evict(self, commit: Micros) -> None:
        """Forget tiles no future event can touch (older than every window at ``commit``).

        Only once the cache is large, and only when a family's oldest useful tile moved since
        the last eviction (at most once per hop): scanning a large cache every batch for
        nothing to forget cost as much as a batch's fold.
        """
        if len(self._tiles) < 100_000:
            return
        oldest = {
            (g.storage, g.name): tile_start(commit, g.size) - g.longest - g.size
            for g in self.groups
        }
        if oldest == self._evicted:
            return
        self._evicted = oldest
        self._tiles = {k: t for k, t in self._tiles.items() if k[3] >= oldest.get((k[0], k[1]), 0)}

    # -- status ---------------------------------------------------------------------------------

    def lag(self) -> dict[int, int]:
        """Per partition: events in the log after the checkpoint (offset distance)."""
        ends = self.log.end_offsets()
        return {
            p: max(0, e - self.checkpoint.offsets.get(p, 0))
            for p, e in ends.items()
            if p in self.owned
        }
