"""What the Redis online store adds to the contract: failures, secrets, key layout, recovery.

The contract itself (semantics shared with SQLite) runs in ``tests/contracts``. The tests in
the second half use the real test server (``CAIRN_TEST_REDIS_URL``); the first half needs none.
"""

from __future__ import annotations

import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from cairn.core.errors import ConfigError, DataError, OnlineStoreError
from cairn.core.online import (
    ReadRequest,
    SnapshotRead,
    SnapshotRecord,
    TileRead,
    TileRecord,
    read_each,
)
from cairn.online.backends.redis import RedisOnlineStore, redact
from tests._services import own_redis, redis_url_or_skip

T = 1_767_225_600_000_000


@pytest.fixture
def server_url() -> str:
    """URL of the real test server (skips without one, fails under CI)."""
    return redis_url_or_skip()


@pytest.fixture
def admin(server_url: str) -> Iterator[redis.Redis]:
    """A plain client of the test server, to look at what the store wrote."""
    client = redis.Redis.from_url(server_url)
    yield client
    client.close()


@pytest.fixture
def make_store(server_url: str) -> Iterator[Callable[..., RedisOnlineStore]]:
    """Stores on the test server with prefixes unique to the test; their views are deleted."""
    made: list[tuple[RedisOnlineStore, list[str]]] = []

    def make(prefix: str | None = None, views: tuple[str, ...] = ("v",)) -> RedisOnlineStore:
        store = RedisOnlineStore(server_url, prefix=prefix or f"cairn-test-{uuid.uuid4().hex[:12]}")
        made.append((store, list(views)))
        return store

    yield make
    for store, views in made:
        for view in views:
            store.delete_view(view)
        store.close()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


OPERATIONS: dict[str, Callable[[RedisOnlineStore], object]] = {
    "ping": lambda s: s.ping(),
    "read one": lambda s: s.read("v", ["k"]),
    "read many": lambda s: s.read("v", ["k", "j"]),
    "write": lambda s: s.write("v", [SnapshotRecord("k", T, T, 0, [1])]),
    "write_tiles": lambda s: s.write_tiles("v", [TileRecord("k", "1h", T, T, {"n": 1})]),
    "read_tiles": lambda s: s.read_tiles("v", "1h", ["k", "j"], 0, T),
    "delete_view": lambda s: s.delete_view("v"),
    "read_many snapshots": lambda s: s.read_many(
        [SnapshotRead("v", ["k"]), SnapshotRead("w", ["k"])]
    ),
    "read_many mixed": lambda s: s.read_many(
        [SnapshotRead("v", ["k"]), TileRead("v", "1h", ["k"], 0, T)]
    ),
}


# ---------------------------------------------------------------- without a server


def test_the_constructor_does_not_connect(closed_port: int) -> None:
    started = time.monotonic()
    store = RedisOnlineStore(f"redis://127.0.0.1:{closed_port}/0", timeout_ms=100)
    store.close()
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_a_refused_connection_names_the_url(operation: str, closed_port: int) -> None:
    url = f"redis://127.0.0.1:{closed_port}/0"
    store = RedisOnlineStore(url, timeout_ms=300)
    started = time.monotonic()
    with pytest.raises(OnlineStoreError) as info:
        OPERATIONS[operation](store)
    elapsed = time.monotonic() - started
    store.close()
    assert str(info.value) == f"Cannot reach the online store at {url}: Connection refused"
    assert isinstance(info.value, ConnectionError)
    assert elapsed < 3.0, f"a refused connection took {elapsed:.2f} s (retries with backoff?)"


@pytest.mark.parametrize("operation", ["ping", "read one", "write"])
def test_a_silent_server_fails_after_the_timeout(operation: str, silent_port: int) -> None:
    url = f"redis://127.0.0.1:{silent_port}/0"
    store = RedisOnlineStore(url, timeout_ms=200)
    started = time.monotonic()
    with pytest.raises(OnlineStoreError) as info:
        OPERATIONS[operation](store)
    elapsed = time.monotonic() - started
    store.close()
    assert str(info.value) == f"Cannot reach the online store at {url}: no answer within 200 ms"
    assert 0.15 < elapsed < 3.0


def test_the_password_never_shows(closed_port: int) -> None:
    url = f"redis://reader:s3cret-pw@127.0.0.1:{closed_port}/0"
    store = RedisOnlineStore(url, timeout_ms=300)
    assert store.url == f"redis://reader:***@127.0.0.1:{closed_port}/0"
    assert "s3cret-pw" not in repr(store)
    with pytest.raises(OnlineStoreError) as info:
        store.read("v", ["k"])
    store.close()
    assert str(info.value) == (
        f"Cannot reach the online store at redis://reader:***@127.0.0.1:{closed_port}/0: "
        "Connection refused"
    )
    printed = "".join(traceback.format_exception(info.value))
    assert "s3cret-pw" not in printed
    assert "redis.exceptions" not in printed  # one message, not a chained redis traceback


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:pw@host:6379/1", "redis://:***@host:6379/1"),
        ("rediss://user:p%40ss:w@host/2", "rediss://user:***@host/2"),
        ("redis://user@host/0", "redis://user@host/0"),
        ("unix:///run/redis.sock?db=1&password=pw", "unix:///run/redis.sock?db=1&password=***"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout_ms": 0}, "timeout_ms must be a positive number of milliseconds; got 0"),
        ({"timeout_ms": 1.5}, "timeout_ms must be a positive number of milliseconds; got 1.5"),
        ({"prefix": ""}, "prefix must be a non-empty string"),
    ],
)
def test_invalid_settings_are_named(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RedisOnlineStore("redis://127.0.0.1:6379/0", **kwargs)  # type: ignore[arg-type]


def test_a_url_that_is_not_redis_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"'http://:\*\*\*@host/0' is not a valid Redis URL"):
        RedisOnlineStore("http://:pw@host/0")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (SnapshotRecord("k", 1.5, T, 0, []), r"'k'.*64-bit integers; got 1.5 \(float\)"),  # type: ignore[arg-type]
        (SnapshotRecord("k", T, True, 0, []), r"got True \(bool\)"),
        (SnapshotRecord("k", T, T, 2**63, []), r"got 9223372036854775808 \(int\)"),
        (SnapshotRecord("k", T, T, 0, [object()]), r"'k': value is not JSON-serializable"),
    ],
)
def test_bad_records_are_data_errors_before_any_io(
    record: SnapshotRecord, message: str, closed_port: int
) -> None:
    store = RedisOnlineStore(f"redis://127.0.0.1:{closed_port}/0")
    with pytest.raises(DataError, match=message):
        store.write("v", [record])
    store.close()


# ---------------------------------------------------------------- on the real server


def test_key_layout(make_store: Callable[..., RedisOnlineStore], admin: redis.Redis) -> None:
    store = make_store(views=("v", "a:b*"))
    p = store.prefix
    store.write("v", [SnapshotRecord("42\x1facct:7", T, T + 1, 2, [1.5, "x"])])
    store.write_tiles("v", [TileRecord("42", "1h", T, T + 9, {"n": 1})])
    store.write("a:b*", [SnapshotRecord("k", T, T, 0, [])])
    keys = {k.decode() for k in admin.scan_iter(match=f"{p}:*")}
    assert keys == {f"{p}:v:s:42\x1facct:7", f"{p}:v:t:1h:42", f"{p}:a%3Ab%2A:s:k"}
    assert admin.get(f"{p}:v:s:42\x1facct:7") == f'[{T},{T + 1},2,[1.5,"x"]]'.encode()
    assert admin.zrange(f"{p}:v:t:1h:42", 0, -1, withscores=True) == [
        (f'[{T},{T + 9},{{"n":1}}]'.encode(), float(T))
    ]


def test_delete_view_removes_every_key_and_nothing_else(
    make_store: Callable[..., RedisOnlineStore], admin: redis.Redis
) -> None:
    mine, other = make_store(views=("v", "v2")), make_store()
    for store in (mine, other):
        store.write("v", [SnapshotRecord(f"k{i}", T, T, 0, [i]) for i in range(2_500)])
        store.write_tiles("v", [TileRecord(f"k{i}", "0s", T + i, T, {}) for i in range(2_500)])
    mine.write("v2", [SnapshotRecord("k", T, T, 0, [])])
    mine.delete_view("v")
    assert list(admin.scan_iter(match=f"{mine.prefix}:v:*")) == []
    assert mine.read("v2", ["k"])[0] is not None
    assert sum(1 for _ in admin.scan_iter(match=f"{other.prefix}:v:*", count=1000)) == 5_000


@pytest.fixture
def flushable(tmp_path: Path) -> Iterator[tuple[RedisOnlineStore, redis.Redis]]:
    """A store and an admin client on a Redis server of the test's own: ``SCRIPT FLUSH`` is
    server-wide, so on the shared server it would make a test running beside this one (on
    another xdist worker) reload its scripts, e.g. in the middle of counting round trips."""
    with own_redis(tmp_path) as (_, url):
        store = RedisOnlineStore(url, prefix="cairn-test")
        admin = redis.Redis.from_url(url)
        yield store, admin
        admin.close()
        store.close()


def test_writes_survive_a_script_flush(flushable: tuple[RedisOnlineStore, redis.Redis]) -> None:
    store, admin = flushable
    assert store.write("v", [SnapshotRecord("a", T, T, 0, [])]) == 1
    admin.script_flush()  # as after a restart or a failover: the server forgot the scripts
    assert store.write("v", [SnapshotRecord("a", T, T, 1, [])]) == 1
    admin.script_flush()
    many = [SnapshotRecord(f"k{i}", T, T, 0, []) for i in range(2_500)]  # pipelined calls
    assert store.write("v", many) == 2_500
    admin.script_flush()
    assert store.read_tiles("v", "1h", ["a"], 0, T) == [[]]


def test_read_many_survives_a_script_flush(
    flushable: tuple[RedisOnlineStore, redis.Redis],
) -> None:
    store, admin = flushable
    store.write("v", [SnapshotRecord("a", T, T, 0, [1])])
    store.write_tiles("v", [TileRecord("a", "1h", T, T, {"n": 1})])
    requests: list[ReadRequest] = [
        SnapshotRead("v", ["a", "b"]),
        TileRead("v", "1h", ["a", "b"], 0, T),
    ]
    expected = read_each(store, requests)
    for _ in range(2):
        admin.script_flush()  # the pipeline's EVALSHA fails with NOSCRIPT: load, run again
        assert store.read_many(requests) == expected
    assert expected[1] == [[TileRecord("a", "1h", T, T, {"n": 1})], []]


@pytest.mark.parametrize("tiles", [0, 1, 2])
def test_read_many_is_one_round_trip(
    tiles: int, make_store: Callable[..., RedisOnlineStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(views=("v", "w"))
    store.write("v", [SnapshotRecord("a", T, T, 0, [1])])
    store.write_tiles("w", [TileRecord("a", "1h", T, T, {"n": 1})])
    requests: list[ReadRequest] = [
        SnapshotRead("v", ["a"]),
        SnapshotRead("w", ["a", "b"]),
        SnapshotRead("v", []),
    ]
    requests += [TileRead("w", "1h", ["a"], 0, T)] * tiles
    expected = read_each(store, requests)
    sent: list[object] = []
    send = redis.connection.AbstractConnection.send_packed_command

    def counting(conn: redis.connection.AbstractConnection, *args: object, **kw: object) -> None:
        sent.append(args[0])
        send(conn, *args, **kw)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
    assert store.read_many(requests) == expected
    assert len(sent) == 1, f"read_many sent {len(sent)} times"


def test_a_dropped_connection_heals(
    make_store: Callable[..., RedisOnlineStore], admin: redis.Redis
) -> None:
    store = make_store()
    store.write("v", [SnapshotRecord("a", T, T, 0, [1])])
    name = f"cairn-test-{uuid.uuid4().hex[:8]}"
    store._client.client_setname(name)  # the pool holds one idle connection: name it
    killed = 0
    for client in admin.client_list():
        if client.get("name") == name:
            killed += admin.client_kill_filter(_id=client["id"])
    assert killed == 1
    assert store.read("v", ["a"]) == [SnapshotRecord("a", T, T, 0, [1])]


def test_wrong_credentials_are_named_without_the_password(
    server_url: str, admin: redis.Redis
) -> None:
    user = f"cairn-test-{uuid.uuid4().hex[:8]}"
    admin.acl_setuser(user, enabled=True, passwords=["+right-pw"], commands=["+@all"], keys=["*"])
    try:
        host = server_url.split("://", 1)[1]
        store = RedisOnlineStore(f"redis://{user}:wrong-pw@{host}", timeout_ms=500)
        with pytest.raises(OnlineStoreError) as info:
            store.ping()
        store.close()
        message = str(info.value)
        assert message.startswith(f"The online store at redis://{user}:***@{host} refused the ")
        assert "wrong-pw" not in message and "right-pw" not in message
    finally:
        admin.acl_deluser(user)
