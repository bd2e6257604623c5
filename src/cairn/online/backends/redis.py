"""The online store at scale: Redis, a string per snapshot record, a sorted set of tiles per key.

Key layout (``P`` the prefix; ``V`` the view and ``G`` the tile group, both percent-encoded so
they never hold ``:`` or a glob character; the entity key ``K`` comes last and is stored as is)::

    P:V:s:K      string  orjson [event_ts, created_ts, seq, values]
    P:V:t:G:K    zset    score = tile start; member = orjson [start, asof, states]

Reading one key is one ``GET`` and one ``orjson.loads``, many keys one ``MGET``; tiles of any
number of keys come from one Lua call (``ZRANGEBYSCORE`` per key, joined into one JSON array per
key on the server), 1,000 keys per call. :meth:`RedisOnlineStore.read_many` answers the reads of
several views in one round trip: one ``MGET`` of every snapshot key when there is no tile read,
else one pipeline of those ``MGET`` and ``EVALSHA`` calls. Writes are guarded on the server by
Lua scripts (``EVALSHA``), 1,000 records per call, calls pipelined. The scripts read the leading
integers of the stored JSON as decimal strings and compare them exactly (Lua numbers are doubles,
which would confuse orders differing beyond 2**53).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast
from urllib.parse import quote

import orjson

from cairn.core.errors import (
    ConfigError,
    DataError,
    DependencyMissingError,
    OnlineStoreError,
    StreamFencedError,
)
from cairn.core.online import (
    EncodedRecord,
    EncodedTile,
    ReadRequest,
    ReadResult,
    SnapshotRead,
    SnapshotRecord,
    StreamFence,
    TileRead,
    TileRecord,
)
from cairn.core.types import Micros
from cairn.core.urls import redact_url

try:
    import redis
    from redis.backoff import NoBackoff
    from redis.client import Pipeline
    from redis.commands.core import Script
    from redis.retry import Retry
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise DependencyMissingError(
        "The Redis online store needs the optional dependency 'redis'; "
        "install it with: pip install 'cairn[redis]'"
    ) from exc

_INT64 = 1 << 63
_EXACT = 1 << 53
"""Scores are doubles: tile starts within +-2**53 keep their order in a sorted set."""
_BATCH = 1_000
"""Records or keys per script call or MGET: bounds the time the server spends in one call."""
_CALLS_PER_PIPELINE = 50
_Call = tuple[list[str], list[Any]]
"""The keys and arguments of one script call."""

# cmp(a, b): -1, 0 or 1 for two integers written in decimal as orjson does (optional '-', no
# leading zeros), exactly for any length: by sign, then length, then 15 digits at a time.
_LUA_CMP = """
local function cmp(a, b)
  if a == b then return 0 end
  local na, nb = string.byte(a, 1) == 45, string.byte(b, 1) == 45
  if na ~= nb then return na and -1 or 1 end
  local sign = 1
  if na then
    sign, a, b = -1, string.sub(a, 2), string.sub(b, 2)
  end
  if #a ~= #b then return #a < #b and -sign or sign end
  for i = 1, #a, 15 do
    local x, y = tonumber(string.sub(a, i, i + 14)), tonumber(string.sub(b, i, i + 14))
    if x ~= y then return x < y and -sign or sign end
  end
  return 0
end
"""
_WRITE_SNAPSHOTS = (
    _LUA_CMP
    + """
local ORDER = '^%[(%-?%d+),(%-?%d+),(%-?%d+),'
local stored = 0
for i, key in ipairs(KEYS) do
  local value = ARGV[i]
  local current = redis.call('GET', key)
  local newer = not current
  if current then
    local a1, a2, a3 = string.match(value, ORDER)
    local b1, b2, b3 = string.match(current, ORDER)
    local c = cmp(a1, b1)
    if c == 0 then c = cmp(a2, b2) end
    if c == 0 then c = cmp(a3, b3) end
    newer = c > 0
  end
  if newer then
    redis.call('SET', key, value)
    stored = stored + 1
  end
end
return stored
"""
)
# A stored tile of the same start (matched exactly on its decimal start: scores are doubles)
# is replaced unless its asof is greater.
_WRITE_TILES = (
    _LUA_CMP
    + """
local HEAD = '^%[(%-?%d+),(%-?%d+),'
local stored = 0
for i, key in ipairs(KEYS) do
  local member = ARGV[i]
  local start, asof = string.match(member, HEAD)
  local same, keep = {}, true
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', key, start, start)) do
    local s, a = string.match(m, HEAD)
    if s == start then
      if cmp(a, asof) > 0 then
        keep = false
        break
      end
      same[#same + 1] = m
    end
  end
  if keep then
    if #same > 0 then redis.call('ZREM', key, unpack(same)) end
    redis.call('ZADD', key, start, member)
    stored = stored + 1
  end
end
return stored
"""
)
# A stream processor's commit: every tile replaced (the one of the same start removed, the new
# one added) and the checkpoint set, in one atomic script. KEYS[1] is the checkpoint, KEYS[i>1]
# a tile's sorted set; ARGV[1] the checkpoint, then (start, member) per tile.
# KEYS: the checkpoint, ARGV[2] fences, then the tiles; ARGV: the checkpoint, the number of
# fences, the fence token, then (start, member) per tile. Refused (-1, nothing written) when a
# fence does not hold the token.
_COMMIT_STREAM = """
local fences = tonumber(ARGV[2])
for i = 2, fences + 1 do
  if redis.call('GET', KEYS[i]) ~= ARGV[3] then return -1 end
end
for i = fences + 2, #KEYS do
  local t = i - fences - 1
  local start, member = ARGV[2 * t + 2], ARGV[2 * t + 3]
  redis.call('ZREMRANGEBYSCORE', KEYS[i], start, start)
  redis.call('ZADD', KEYS[i], start, member)
end
redis.call('SET', KEYS[1], ARGV[1])
return #KEYS - 1 - fences
"""
# One JSON array of [start, asof, states] per key: one bulk reply per key instead of one per
# tile, which halves the client's parsing of many keys.
_READ_TILES = """
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = '[' .. table.concat(redis.call('ZRANGEBYSCORE', key, ARGV[1], ARGV[2]), ',') .. ']'
end
return out
"""


class RedisOnlineStore:
    """Online store in a Redis server (standalone; ``redis://``, ``rediss://`` or ``unix://``).

    Parameters
    ----------
    url:
        The server, e.g. ``redis://:password@host:6379/0``. Nothing connects until first use.
    timeout_ms:
        Socket connect and read timeout; an unreachable server fails within it with
        :class:`~cairn.core.errors.OnlineStoreError`.
    prefix:
        Start of every key, so that several projects (or tests) can share one database.

    Attributes
    ----------
    url:
        The URL with its password replaced by ``***``, safe to log.

    Example
    -------
    >>> store = RedisOnlineStore("redis://:s3cret@localhost:6379/0", timeout_ms=200)
    >>> store.url
    'redis://:***@localhost:6379/0'
    >>> store.close()
    """

    def __init__(self, url: str, *, timeout_ms: int = 1000, prefix: str = "cairn") -> None:
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int) or timeout_ms <= 0:
            raise ConfigError(
                f"RedisOnlineStore timeout_ms must be a positive number of milliseconds; "
                f"got {timeout_ms!r}."
            )
        if not prefix:
            raise ConfigError("RedisOnlineStore prefix must be a non-empty string; got ''.")
        self.url = redact_url(url)
        self.timeout_ms = timeout_ms
        self.prefix = prefix
        seconds = timeout_ms / 1000
        try:
            self._client: redis.Redis = redis.Redis.from_url(
                url,
                socket_connect_timeout=seconds,
                socket_timeout=seconds,
                # One immediate retry heals a pooled connection the server closed; a timeout is
                # not retried, so an unreachable server fails within timeout_ms.
                retry=Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,)),
                decode_responses=False,
            )
        except ValueError as exc:
            raise ConfigError(f"online.url {self.url!r} is not a valid Redis URL: {exc}") from None
        self._write_script = self._client.register_script(_WRITE_SNAPSHOTS)
        self._tile_script = self._client.register_script(_WRITE_TILES)
        self._read_tiles_script = self._client.register_script(_READ_TILES)
        self._commit_script = self._client.register_script(_COMMIT_STREAM)
        self._namespaces: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"RedisOnlineStore({self.url!r}, prefix={self.prefix!r})"

    def write(self, view: str, records: Sequence[SnapshotRecord]) -> int:
        if not records:
            return 0
        base = self._namespace(view) + "s:"
        for r in records:
            _check_ints(r.key, r.event_ts, r.created_ts, r.seq)
        keys = [base + r.key for r in records]
        values = [_json(r.key, [r.event_ts, r.created_ts, r.seq, r.values]) for r in records]
        calls = [
            (keys[i : i + _BATCH], values[i : i + _BATCH]) for i in range(0, len(keys), _BATCH)
        ]
        return sum(int(n) for n in self._run(self._write_script, calls))

    def write_encoded(self, view: str, rows: Sequence[EncodedRecord]) -> int:
        if not rows:
            return 0
        base = self._namespace(view) + "s:"
        for key, ev, cr, seq, _ in rows:
            _check_ints(key, ev, cr, seq)
        keys = [base + row[0] for row in rows]
        values = [b"[%d,%d,%d,%s]" % (ev, cr, seq, blob) for _, ev, cr, seq, blob in rows]
        calls = [
            (keys[i : i + _BATCH], values[i : i + _BATCH]) for i in range(0, len(keys), _BATCH)
        ]
        return sum(int(n) for n in self._run(self._write_script, calls))

    def read(self, view: str, keys: Sequence[str]) -> list[SnapshotRecord | None]:
        return cast(list[SnapshotRecord | None], self.read_many([SnapshotRead(view, keys)])[0])

    def write_tiles(self, view: str, tiles: Sequence[TileRecord]) -> int:
        if not tiles:
            return 0
        base = self._namespace(view) + "t:"
        groups: dict[str, str] = {}
        keys: list[str] = []
        members: list[bytes] = []
        for t in tiles:
            _check_ints(t.key, t.start, t.asof)
            prefix = groups.get(t.group)
            if prefix is None:
                prefix = groups[t.group] = base + _part(t.group) + ":"
            keys.append(prefix + t.key)
            members.append(_json(t.key, [t.start, t.asof, t.states]))
        calls = [
            (keys[i : i + _BATCH], members[i : i + _BATCH]) for i in range(0, len(keys), _BATCH)
        ]
        return sum(int(n) for n in self._run(self._tile_script, calls))

    def read_tiles(
        self, view: str, group: str, keys: Sequence[str], start: Micros, end: Micros
    ) -> list[list[TileRecord]]:
        request = TileRead(view, group, keys, start, end)
        return cast(list[list[TileRecord]], self.read_many([request])[0])

    def read_many(self, requests: Sequence[ReadRequest]) -> list[ReadResult]:
        """The answer to each request from one round trip: one ``GET`` or ``MGET`` of every
        snapshot key, or a pipeline with tile reads (:meth:`read` and :meth:`read_tiles` are
        reads of one request)."""
        names: list[str] = []  # every snapshot key of every request, in request order
        tile_calls: list[_Call] = []
        for r in requests:
            if isinstance(r, SnapshotRead):
                base = self._namespace(r.view) + "s:"
                names.extend(base + k for k in r.keys)
            elif r.keys:
                base = f"{self._namespace(r.view)}t:{_part(r.group)}:"
                keys = [base + k for k in r.keys]
                bounds: list[Any] = [r.start, r.end]
                tile_calls.extend(
                    (keys[i : i + _BATCH], bounds) for i in range(0, len(keys), _BATCH)
                )
        raws: list[Any] = []
        replies: list[Any] = []
        if not tile_calls and len(names) <= _BATCH:
            try:
                if len(names) == 1:  # GET: a little cheaper than MGET of one key
                    raws = [self._client.get(names[0])]
                else:
                    raws = self._client.mget(names) if names else []
            except redis.RedisError as exc:
                raise self._failure(exc) from None
        elif not names and len(tile_calls) == 1:
            replies = self._run(self._read_tiles_script, tile_calls)
        else:
            replies = self._read_pipeline(names, tile_calls)
            n_mget = len(replies) - len(tile_calls)
            raws = [raw for chunk in replies[:n_mget] for raw in chunk]
            replies = replies[n_mget:]
        out: list[ReadResult] = []
        at = 0
        calls = iter(replies)
        for r in requests:
            if isinstance(r, SnapshotRead):
                chunk = raws[at : at + len(r.keys)]
                at += len(r.keys)
                out.append(
                    [
                        None if raw is None else _snapshot(key, raw)
                        for key, raw in zip(r.keys, chunk, strict=True)
                    ]
                )
            else:
                blobs = [blob for _ in range(0, len(r.keys), _BATCH) for blob in next(calls)]
                out.append(_tiles(r.keys, r.group, r.start, r.end, blobs))
        return out

    def _read_pipeline(self, names: list[str], tile_calls: list[_Call]) -> list[Any]:
        """``MGET`` of ``names`` (1,000 at a time) then the tile script once per call, in one
        pipeline; the replies in that order. Loads the script when the server lacks it (new
        server, restart, ``SCRIPT FLUSH``) and runs the pipeline again."""

        def run() -> list[Any]:
            pipe = self._client.pipeline(transaction=False)
            for i in range(0, len(names), _BATCH):
                pipe.mget(names[i : i + _BATCH])
            for keys, args in tile_calls:
                pipe.evalsha(self._read_tiles_script.sha, len(keys), *keys, *args)
            return pipe.execute()

        try:
            try:
                return run()
            except redis.exceptions.NoScriptError:
                self._client.script_load(_READ_TILES)
                return run()
        except redis.RedisError as exc:
            raise self._failure(exc) from None

    def commit_stream(
        self,
        name: str,
        tiles: Sequence[tuple[str, TileRecord]],
        checkpoint: bytes,
        *,
        fence: StreamFence | None = None,
    ) -> None:
        """Replace the tiles and set the checkpoint in one script call (atomic, like
        MULTI/EXEC, in one command), after checking the fences. Replacing (not merging) makes
        the commit idempotent, so a retry after a lost reply changes nothing."""
        rows = [
            (view, t.group, t.key, t.start, t.asof, _json(t.key, t.states)) for view, t in tiles
        ]
        self.commit_stream_encoded(name, rows, checkpoint, fence=fence)

    def claim_stream_fence(self, fence: StreamFence) -> None:
        try:
            self._client.mset({self._fence_key(n): fence.token for n in fence.names})
        except redis.RedisError as exc:
            raise self._failure(exc) from None

    def commit_stream_encoded(
        self,
        name: str,
        tiles: Sequence[EncodedTile],
        checkpoint: bytes,
        *,
        fence: StreamFence | None = None,
    ) -> None:
        """:meth:`commit_stream` of encoded tiles: each stored value is the JSON array
        ``[start, asof, states]``, as ``orjson.dumps`` writes it."""
        keys = [self._checkpoint_key(name)]
        args: list[bytes | int] = [checkpoint, 0, b""]
        if fence is not None:
            keys += [self._fence_key(n) for n in fence.names]
            args[1:] = [len(fence.names), fence.token]
        prefixes: dict[tuple[str, str], str] = {}
        low, high = -_INT64, _INT64
        for view, group, key, start, asof, states in tiles:
            if not (
                type(start) is int
                and type(asof) is int
                and low <= start < high
                and low <= asof < high
            ):  # the common case checked inline; anything else gets the full check (may raise)
                _check_ints(key, start, asof)
            prefix = prefixes.get((view, group))
            if prefix is None:
                prefix = prefixes[view, group] = f"{self._namespace(view)}t:{_part(group)}:"
            keys.append(prefix + key)
            args += (start, b"[%d,%d,%s]" % (start, asof, states))
        try:
            written = self._commit_script(keys=keys, args=args)
        except redis.RedisError as exc:
            raise self._failure(exc) from None
        if written == -1:
            raise StreamFencedError(
                f"Stream commit {name!r} refused by the online store at {self.url}: another "
                f"processor claimed its partitions since."
            )

    def read_stream_checkpoint(self, name: str) -> bytes | None:
        try:
            value = self._client.get(self._checkpoint_key(name))
        except redis.RedisError as exc:
            raise self._failure(exc) from None
        if value is None:
            return None
        return value.encode() if isinstance(value, str) else bytes(value)

    def _checkpoint_key(self, name: str) -> str:
        return f"{self.prefix}:__stream__:{_part(name)}"

    def _fence_key(self, name: str) -> str:
        return f"{self.prefix}:__fence__:{_part(name)}"

    def delete_view(self, view: str) -> None:
        pattern = f"{_glob_escape(self.prefix)}:{_part(view)}:*"
        try:
            batch: list[bytes] = []
            for name in self._client.scan_iter(match=pattern, count=_BATCH):
                batch.append(name)
                if len(batch) >= _BATCH:
                    self._client.unlink(*batch)
                    batch = []
            if batch:
                self._client.unlink(*batch)
        except redis.RedisError as exc:
            raise self._failure(exc) from None

    def ping(self) -> None:
        try:
            self._client.ping()
        except redis.RedisError as exc:
            raise self._failure(exc) from None

    def close(self) -> None:
        self._client.close()

    def _namespace(self, view: str) -> str:
        ns = self._namespaces.get(view)
        if ns is None:
            ns = self._namespaces[view] = f"{self.prefix}:{_part(view)}:"
        return ns

    def _run(self, script: Script, calls: list[_Call]) -> list[Any]:
        """Run a script once per batch of keys: one call directly, more through pipelines."""
        try:
            if len(calls) == 1:
                keys, args = calls[0]
                return [script(keys=keys, args=args)]  # reloads the script on NOSCRIPT
            results: list[Any] = []
            for i in range(0, len(calls), _CALLS_PER_PIPELINE):
                chunk = calls[i : i + _CALLS_PER_PIPELINE]
                try:
                    results.extend(self._pipeline(script, chunk).execute())
                except redis.exceptions.NoScriptError:
                    # Scripts flushed (restart, failover) between the pipeline's check and run.
                    results.extend(self._pipeline(script, chunk).execute())
            return results
        except redis.RedisError as exc:
            raise self._failure(exc) from None

    def _pipeline(self, script: Script, calls: list[_Call]) -> Pipeline:
        pipe = self._client.pipeline(transaction=False)
        for keys, args in calls:
            script(keys=keys, args=args, client=pipe)
        return pipe

    def _failure(self, exc: redis.RedisError) -> OnlineStoreError:
        if isinstance(exc, redis.TimeoutError):
            return OnlineStoreError(
                f"Cannot reach the online store at {self.url}: "
                f"no answer within {self.timeout_ms} ms"
            )
        if isinstance(exc, redis.AuthenticationError):
            return OnlineStoreError(
                f"The online store at {self.url} refused the credentials: {exc}"
            )
        if isinstance(exc, redis.ConnectionError):
            return OnlineStoreError(f"Cannot reach the online store at {self.url}: {_reason(exc)}")
        return OnlineStoreError(f"The online store at {self.url} failed: {exc}")


#: The URL with any password hidden (kept here for old imports; the helper is
#: :func:`cairn.core.urls.redact_url`).
redact = redact_url


def _part(name: str) -> str:
    """A view or group name as a key segment: no ``:`` and no glob character, one-to-one."""
    return quote(name, safe="")


def _glob_escape(text: str) -> str:
    return "".join("\\" + c if c in "\\*?[]" else c for c in text)


def _check_ints(key: str, *values: int) -> None:
    for v in values:
        exact = type(v) is int or (isinstance(v, int) and not isinstance(v, bool))
        if not exact or not -_INT64 <= v < _INT64:
            raise DataError(
                f"Online record {key!r}: timestamps, seq and tile starts must be 64-bit "
                f"integers; got {v!r} ({type(v).__name__})."
            )


def _json(key: str, value: object) -> bytes:
    try:
        return orjson.dumps(value)
    except TypeError as exc:
        raise DataError(f"Online record {key!r}: value is not JSON-serializable: {exc}") from None


def _tiles(
    keys: Sequence[str], group: str, start: Micros, end: Micros, blobs: list[bytes]
) -> list[list[TileRecord]]:
    """Decode the tile script's replies (one JSON array of ``[start, asof, states]`` per key)."""
    out = [
        [TileRecord(key, group, *tile) for tile in orjson.loads(blob)]
        for key, blob in zip(keys, blobs, strict=True)
    ]
    if -_EXACT <= start and end <= _EXACT:
        return out
    # Beyond 2**53 scores round: the server's range is a superset and ties sort by bytes.
    return [
        sorted((t for t in tiles if start <= t.start <= end), key=lambda t: t.start)
        for tiles in out
    ]


def _snapshot(key: str, raw: bytes) -> SnapshotRecord:
    ev, cr, seq, values = orjson.loads(raw)
    return SnapshotRecord(key, ev, cr, seq, values)


def _reason(exc: BaseException) -> str:
    """The operating system's reason (``Connection refused``) when there is one."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror
        seen = seen.__cause__ or seen.__context__
    return str(exc).rstrip(".") or type(exc).__name__
