"""Streaming benchmark: Cairn's stream processor beside Quix Streams on the same Kafka broker and
the same events, per backend; and event-to-servable latency (issue 18).

The workload: one feature view keyed by ``customer_id`` (10,000 customers) with five windowed
aggregations of ``amount``: sum 10m (hop 1m), count 1h, mean 30m, max 20m, std 1h (hop 5m for
the last four: Cairn's default under 12 h). Events are JSON objects ``{customer_id, amount,
event_timestamp}`` (event time in ms since the epoch, in order, spread over the two minutes
before they are produced: "now"), keyed by customer.

What is measured (each contender in its own process; nothing is asserted about time):

* drain: ``--events`` events (default 100,000; 20,000 with ``--quick``) are produced to the log
  first (not timed), then the processor drains them: ``open_processor(store, "txns").start()``
  (not timed), then ``step()`` (``max_batch`` 10,000) until a step finds nothing. Reported:
  events/s (wall), events per CPU second of the processor's process (all its threads: the
  "per core" rate), the same with the CPU the broker / Redis server spent meanwhile added (they
  are shared servers: any other client's load on them lands here too), and the latency of each
  batch's atomic commit (``commit_stream``: tiles + checkpoint) p50/p99. Backends: the embedded
  log + SQLite online store (``local``); Redis Streams + the Redis online store (``redis``);
  Kafka + SQLite (``kafka-sqlite``) and Kafka + Redis (``kafka-redis``). A backend whose server
  is not reachable is skipped with the reason printed. After the drain the 1-hour count of 100
  customers is read online and compared with the events produced for them.
* the peer, ``quix``: Quix Streams (``quixstreams==3.28.1``, see below) on the same Kafka
  broker and the same events (a topic of its own, produced the same way), computing the
  same five aggregations as Quix hopping windows (``duration``/``step`` = window/hop; ``.agg``
  with ``Sum``, ``Count``, ``Mean``, ``Max`` and std as a ``Reduce`` over (n, sum, sum of
  squares), count and std sharing the 1h/5m window; ``.current()``), its state in RocksDB with
  changelog topics (the default), the at-least-once guarantee (Tansu, the test broker, speaks
  Kafka but its transactions do not isolate) and ``commit_every`` = the batch size. Its drain
  is timed from the first message processed to the end of the commit after the last one
  (consumer-group start-up excluded and shown apart), its commit latency is that of
  ``Checkpoint.commit``. Cairn/Quix ratios compare the Kafka rows with it. Quix is installed
  without its dependencies (the bench extra lists them): it caps pydantic below the version
  Cairn needs, and runs on it; when it is missing, it is skipped with the reason printed.
* freshness: ``cairn stream run --poll P`` runs in its own process over a project per backend;
  the benchmark produces ``--fresh-batch`` events at a time (one of them for a probe customer)
  and, from the moment the produce call returns, reads the probe's 1-hour count with
  ``get_online_features`` every 1 ms until it shows the new event: p50/p99 of that time (and of
  the time from the call), for each poll interval of ``--poll`` (default the CLI's 0.2 s and
  its minimum 0.01 s: the processor waits that long when it finds the log idle). The events
  are produced with ``FeatureStore.produce``; its time is shown too.

Servers: ``CAIRN_TEST_REDIS_URL`` and ``CAIRN_TEST_KAFKA_URL`` (else what ``scripts/services.sh
env`` prints: start them with ``scripts/services.sh start``). Every key, stream and topic a run
makes is deleted at its end.

Usage: ``DO_NOT_TRACK=1 .venv-bench/bin/python benchmarks/streaming.py [--quick] [--only NAME]
[--events N] [--freshness N] [--poll S,S] [--profile NAME]``. The last line printed is
``BENCH_JSON {...}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _measure import run_in_scratch, self_command, work_folder  # noqa: E402
from _report import (  # noqa: E402
    bench_parser,
    cell,
    load_note,
    machine_info,
    pick_names,
    print_banner,
    print_bench_json,
    print_table,
    read_json,
    run_facts,
    versions_of,
    write_json,
)

ORDER = ("local", "redis", "kafka-sqlite", "kafka-redis", "quix")
CAIRN = ORDER[:-1]
FRESH_DEFAULT = ("local", "redis", "kafka-sqlite")
PACKAGES = ("cairn", "quixstreams", "confluent-kafka", "redis", "hiredis", "pyarrow", "orjson")
ENV = {"DO_NOT_TRACK": "1", "PYTHONWARNINGS": "ignore"}
CUSTOMERS = 10_000
SPAN_MS = 120_000
"""Event times are spread over the two minutes before the events are produced."""
SEED = 18
CHECKED_KEYS = 100
MINUTE_MS = 60_000
COUNT_FEATURE = "amount_count_1h"
QUIX_INSTALL = (
    "uv pip install -p .venv-bench --no-deps quixstreams==3.28.1, as scripts/venv.sh does"
)
TOPIC_CONFIG = {"retention.ms": "604800000", "retention.bytes": "-1"}
"""Given when creating every Kafka topic: Tansu's DescribeConfigs returns only the configs a
topic was created with, and Quix derives its changelog topics' config from ``retention.ms``
(a KeyError without it). Kafka itself returns its defaults; the values are Kafka's defaults."""


# ----------------------------------------------------------------------------- servers


def service_urls() -> dict[str, str | None]:
    """The Redis and Kafka URLs: the environment, else ``scripts/services.sh env``."""
    urls = {
        "redis": os.environ.get("CAIRN_TEST_REDIS_URL") or None,
        "kafka": os.environ.get("CAIRN_TEST_KAFKA_URL") or None,
    }
    if all(urls.values()):
        return urls
    script = HERE.parent / "scripts" / "services.sh"
    try:
        out = subprocess.run(
            ["bash", str(script), "env"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    for line in out.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        if name == "CAIRN_TEST_REDIS_URL" and not urls["redis"]:
            urls["redis"] = value.strip("'\"") or None
        if name == "CAIRN_TEST_KAFKA_URL" and not urls["kafka"]:
            urls["kafka"] = value.strip("'\"") or None
    return urls


def host_port(url: str) -> tuple[str, int]:
    """Host and port of a ``redis://`` URL or a ``host:port`` bootstrap list (first entry)."""
    if "://" in url:
        parts = urlsplit(url)
        return parts.hostname or "127.0.0.1", parts.port or 6379
    host, _, port = url.split(",")[0].rpartition(":")
    return host or "127.0.0.1", int(port)


def unreachable(what: str, url: str | None) -> str | None:
    """Why the server at ``url`` cannot be used (None: it accepts connections)."""
    if not url:
        return f"no {what} server (set CAIRN_TEST_{what.upper()}_URL or scripts/services.sh start)"
    try:
        with socket.create_connection(host_port(url), timeout=2):
            return None
    except OSError as exc:
        return f"{what} at {url} not reachable ({exc})"


def needs(name: str) -> tuple[str, ...]:
    """The servers a contender needs."""
    if name == "local":
        return ()
    if name == "redis":
        return ("redis",)
    if name == "kafka-redis":
        return ("kafka", "redis")
    return ("kafka",)


def server_pids(urls: dict[str, str | None], wanted: tuple[str, ...]) -> dict[str, int]:
    """The pid listening on each wanted server's port (when on this machine and visible)."""
    import psutil

    ports = {host_port(u)[1]: n for n, u in urls.items() if n in wanted and u}
    out: dict[str, int] = {}
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.pid is not None:
                name = ports.get(conn.laddr.port)
                if name:
                    out[name] = conn.pid
    except (psutil.Error, OSError):
        pass
    return out


def server_cpu(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) each server process has used so far."""
    import psutil

    out = {}
    for name, pid in pids.items():
        try:
            t = psutil.Process(pid).cpu_times()
            out[name] = t.user + t.system
        except psutil.Error:
            pass
    return out


# ----------------------------------------------------------------------------- data


def make_events(n: int, seed: int, now_ms: int) -> tuple[list[dict[str, Any]], list[int]]:
    """``n`` events (in event-time order, over the ``SPAN_MS`` before ``now_ms``) and the
    number of events of each customer."""
    import numpy as np

    rng = np.random.default_rng(seed)
    customers = rng.integers(0, CUSTOMERS, n)
    amounts = np.round(rng.lognormal(3.0, 1.0, n), 2)
    times = now_ms - SPAN_MS + np.arange(n, dtype=np.int64) * SPAN_MS // max(n, 1)
    rows = [
        {"customer_id": c, "amount": a, "event_timestamp": t}
        for c, a, t in zip(customers.tolist(), amounts.tolist(), times.tolist(), strict=True)
    ]
    return rows, np.bincount(customers, minlength=CUSTOMERS).tolist()


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# ----------------------------------------------------------------------------- Kafka topics


def create_topic(url: str, topic: str, partitions: int) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": url})
    new = NewTopic(topic, partitions, 1, config=TOPIC_CONFIG)
    admin.create_topics([new], request_timeout=30)[topic].result(30)


def delete_topics(url: str, containing: str) -> None:
    """Delete every topic whose name contains ``containing`` (best effort)."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": url})
    try:
        names = [t for t in admin.list_topics(timeout=10).topics if containing in t]
        if names:
            for future in admin.delete_topics(names, request_timeout=30).values():
                try:
                    future.result(30)
                except Exception:  # cleanup only
                    pass
    except Exception:  # cleanup only
        pass


def delete_redis_keys(url: str, containing: str) -> None:
    """Delete every Redis key whose name contains ``containing`` (best effort)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        batch = []
        for key in client.scan_iter(match=f"*{containing}*", count=10_000):
            batch.append(key)
            if len(batch) >= 10_000:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
    except redis.RedisError:
        pass
    finally:
        client.close()


# ----------------------------------------------------------------------------- Cairn


def aggregations() -> list[Any]:
    from cairn import Aggregation

    return [
        Aggregation("amount", "sum", "10m", hop="1m"),
        Aggregation("amount", "count", "1h"),
        Aggregation("amount", "mean", "30m"),
        Aggregation("amount", "max", "20m"),
        Aggregation("amount", "std", "1h"),
    ]


def cairn_project(root: Path, backend: str, run_id: str, urls: dict[str, Any], parts: int) -> Any:
    """A project in ``root`` whose view reads the backend's stream source, applied."""
    from cairn import (
        Entity,
        FeatureStore,
        FeatureView,
        Field,
        KafkaSource,
        LocalStreamSource,
        RedisStreamSource,
    )

    config = f"project: {run_id}\n"
    if backend in ("redis", "kafka-redis"):
        config += f"online:\n  url: {urls['redis']}\n"
    root.mkdir(parents=True, exist_ok=True)
    (root / "cairn.yaml").write_text(config)
    common: dict[str, Any] = {
        "name": "txns",
        "timestamp_field": "event_timestamp",
        "timestamp_unit": "ms",
        "partitions": parts,
        "schema": [Field(name="customer_id", dtype="int64"), Field(name="amount", dtype="float64")],
    }
    source: Any
    if backend == "local":
        source = LocalStreamSource(**common)
    elif backend == "redis":
        source = RedisStreamSource(**common, stream=f"{run_id}-txns", url=urls["redis"])
    else:
        create_topic(urls["kafka"], f"{run_id}-txns", parts)
        source = KafkaSource(**common, topic=f"{run_id}-txns", bootstrap_servers=urls["kafka"])
    store = FeatureStore(str(root))
    view = FeatureView(
        name="velocity",
        entities=[Entity(name="customer", join_keys=["customer_id"])],
        source=source,
        aggregations=aggregations(),
    )
    store.apply([view])
    return store


def cleanup(backend: str, run_id: str, urls: dict[str, Any]) -> None:
    if "redis" in backend and urls.get("redis"):
        delete_redis_keys(urls["redis"], run_id)
    if backend.startswith("kafka") and urls.get("kafka"):
        delete_topics(urls["kafka"], run_id)


def produce_all(store: Any, rows: list[dict[str, Any]], chunk: int = 10_000) -> float:
    """Produce ``rows`` in chunks through ``FeatureStore.produce``; seconds taken."""
    t0 = time.perf_counter()
    for i in range(0, len(rows), chunk):
        store.produce("txns", rows[i : i + chunk])
    return time.perf_counter() - t0


def online_counts(store: Any, keys: list[int]) -> list[Any]:
    out = store.get_online_features(
        [f"velocity:{COUNT_FEATURE}"], [{"customer_id": k} for k in keys]
    ).to_dict()
    return list(out[COUNT_FEATURE])


def child_cairn(backend: str, args: argparse.Namespace, work: Path, tag: str) -> dict[str, Any]:
    from cairn.app.streaming import open_processor
    from cairn.core.online import EncodedStreamCommitter
    from cairn.streams.processor import ProcessorSettings

    urls = {"redis": args.redis_url, "kafka": args.kafka_url}
    run_id = f"bench_stream_{uuid.uuid4().hex[:10]}"
    try:
        store = cairn_project(Path.cwd() / "repo", backend, run_id, urls, args.partitions)
        rows, per_key = make_events(args.events, SEED, now_ms())
        produce_s = produce_all(store, rows)
        processor = open_processor(
            store, "txns", settings=ProcessorSettings(max_batch=args.max_batch)
        )
        processor.start()
        online = processor.store
        commits: list[float] = []
        # the processor commits encoded tiles where the store takes them
        method = (
            "commit_stream_encoded"
            if isinstance(online, EncodedStreamCommitter)
            else "commit_stream"
        )
        commit = getattr(online, method)

        def timed_commit(*a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return commit(*a, **k)
            finally:
                commits.append(time.perf_counter() - t0)

        setattr(online, method, timed_commit)
        pids = server_pids(urls, needs(backend))
        profiler = None
        if args.profile_out:
            import cProfile

            profiler = cProfile.Profile(time.process_time)  # CPU: the box may be shared
        (work / f"{tag}.started").touch()
        servers0 = server_cpu(pids)
        c0, w0 = cpu_s(), time.perf_counter()
        if profiler is not None:
            profiler.enable()
        events = batches = tiles = 0
        batch_s: list[float] = []
        while True:
            result = processor.step()
            if result.events == 0 and result.released == 0:
                break
            events += result.events
            tiles += result.tiles
            batches += 1
            batch_s.append(result.seconds)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile_out)
        wall, cpu = time.perf_counter() - w0, cpu_s() - c0
        servers1 = server_cpu(pids)
        counts = dict(processor.checkpoint.counts)
        processor.log.close()
        keys = list(range(0, CUSTOMERS, CUSTOMERS // CHECKED_KEYS))
        got = online_counts(store, keys)
        wrong = [k for k, v in zip(keys, got, strict=True) if (v or 0) != per_key[k]]
        return {
            "events": events,
            "produced": len(rows),
            "produce_s": produce_s,
            "wall_s": wall,
            "cpu_s": cpu,
            "server_cpu_s": {n: servers1[n] - servers0[n] for n in servers1 if n in servers0},
            "batches": batches,
            "tiles": tiles,
            "batch_s": batch_s,
            "commit_s": commits,
            "counts": counts,
            "checked_keys": len(keys),
            "wrong_keys": wrong[:10],
            "profiled": profiler is not None,
        }
    finally:
        cleanup(backend, run_id, urls)


# ----------------------------------------------------------------------------- Quix


def produce_kafka(url: str, topic: str, rows: list[dict[str, Any]], parts: int) -> float:
    """Produce ``rows`` as Cairn's Kafka log does (orjson values, the customer as key, the
    CRC-32 partition, idempotent, acks=all), with confluent-kafka alone; seconds taken."""
    import zlib

    import orjson
    from confluent_kafka import Producer

    producer = Producer(
        {"bootstrap.servers": url, "linger.ms": 5, "enable.idempotence": True, "acks": "all"}
    )
    t0 = time.perf_counter()
    stamp = str(time.time_ns() // 1000).encode()
    for i, row in enumerate(rows):
        key = str(row["customer_id"]).encode()
        ts = row["event_timestamp"]
        while True:
            try:
                producer.produce(
                    topic,
                    value=orjson.dumps(row),
                    key=key,
                    partition=zlib.crc32(key) % parts,
                    timestamp=ts,
                    headers=[("t", str(ts * 1000).encode()), ("a", stamp)],
                )
                break
            except BufferError:
                producer.poll(0.1)
        if i % 10_000 == 0:
            producer.poll(0)
    left = producer.flush(60)
    if left:
        raise RuntimeError(f"{left} events not acknowledged by the broker")
    return time.perf_counter() - t0


def child_quix(args: argparse.Namespace, work: Path, tag: str) -> dict[str, Any]:
    import quixstreams.checkpointing.checkpoint as checkpoint_module
    from quixstreams import Application
    from quixstreams.dataframe.windows.aggregations import Count, Max, Mean, Reduce, Sum

    url = args.kafka_url
    run_id = f"bench_stream_{uuid.uuid4().hex[:10]}"
    topic = f"{run_id}-txns"
    n = args.events
    try:
        create_topic(url, topic, args.partitions)
        rows, _ = make_events(n, SEED, now_ms())
        produce_s = produce_kafka(url, topic, rows, args.partitions)
        del rows
        state: dict[str, Any] = {"seen": 0, "first": None, "cpu0": None, "late": 0}
        commits: list[float] = []
        last_commit: list[tuple[float, float]] = []
        original_commit = checkpoint_module.Checkpoint.commit

        def timed_commit(self: Any, *a: Any, **k: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original_commit(self, *a, **k)
            finally:
                end = time.perf_counter()
                commits.append(end - t0)
                last_commit.append((end, cpu_s()))

        checkpoint_module.Checkpoint.commit = timed_commit  # type: ignore[method-assign]
        app: Any = None

        def processed(topic_name: str, partition: int, offset: int) -> None:
            state["seen"] += 1
            if state["first"] is None:
                state["first"], state["cpu0"] = time.perf_counter(), cpu_s()
            if state["seen"] >= n:
                app.stop()

        def on_late(*_: Any) -> bool:
            state["late"] += 1
            return False

        app = Application(
            broker_address=url,
            consumer_group=f"{run_id}-quix",
            auto_offset_reset="earliest",
            processing_guarantee="at-least-once",
            commit_every=args.max_batch,
            state_dir=str(Path.cwd() / "quix-state"),
            loglevel="WARNING",
            on_message_processed=processed,
        )
        source = app.topic(
            topic,
            value_deserializer="json",
            timestamp_extractor=lambda value, headers, ts, kind: value["event_timestamp"],
        )
        sdf = app.dataframe(source)
        sq = (
            lambda s, v: (s[0] + 1, s[1] + v["amount"], s[2] + v["amount"] ** 2),
            lambda v: (1, v["amount"], v["amount"] ** 2),
        )
        windows = (
            (10, 1, {"amount_sum_10m": Sum("amount")}),
            (60, 5, {"amount_count_1h": Count(), "amount_std_1h": Reduce(*sq)}),
            (30, 5, {"amount_mean_30m": Mean("amount")}),
            (20, 5, {"amount_max_20m": Max("amount")}),
        )
        for duration, step, ops in windows:
            window = sdf.hopping_window(duration * MINUTE_MS, step * MINUTE_MS, on_late=on_late)
            window.agg(**ops).current()
        pids = server_pids({"kafka": url}, ("kafka",))
        servers0 = server_cpu(pids)
        (work / f"{tag}.started").touch()
        t_run = time.perf_counter()
        app.run()
        servers1 = server_cpu(pids)
        if state["first"] is None or not last_commit:
            raise RuntimeError(f"Quix processed {state['seen']} of {n} messages")
        end, cpu_end = last_commit[-1]
        return {
            "events": state["seen"],
            "produced": n,
            "produce_s": produce_s,
            "startup_s": state["first"] - t_run,
            "wall_s": end - state["first"],
            "cpu_s": cpu_end - state["cpu0"],
            "server_cpu_s": {k: servers1[k] - servers0[k] for k in servers1 if k in servers0},
            "batches": len(commits),
            "commit_s": commits,
            "late": state["late"],
        }
    finally:
        delete_topics(url, run_id)


# ----------------------------------------------------------------------------- freshness


def child_fresh(backend: str, args: argparse.Namespace, work: Path, tag: str) -> dict[str, Any]:
    import random

    urls = {"redis": args.redis_url, "kafka": args.kafka_url}
    run_id = f"bench_stream_{uuid.uuid4().hex[:10]}"
    root = Path.cwd() / "repo"
    cli = Path(sys.executable).parent / "cairn"
    rng = random.Random(SEED)
    out: dict[str, Any] = {}
    try:
        store = cairn_project(root, backend, run_id, urls, args.partitions)
        counts: dict[int, int] = {}
        (work / f"{tag}.started").touch()
        for poll in args.polls:
            cmd = [str(cli), "stream", "run", "--repo", str(root), "--poll", str(poll), "--json"]
            with (Path.cwd() / f"processor-{poll}.log").open("wb") as output:
                proc = subprocess.Popen(cmd, stdout=output, stderr=subprocess.STDOUT)
                try:
                    out[str(poll)] = fresh_samples(store, proc, poll, counts, args, rng)
                finally:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        proc.wait(60)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        proc.wait()
        return out
    finally:
        cleanup(backend, run_id, urls)


def fresh_samples(
    store: Any,
    proc: subprocess.Popen[bytes],
    poll: float,
    counts: dict[int, int],
    args: argparse.Namespace,
    rng: Any,
) -> dict[str, Any]:
    """Produce a batch, then read until the probe's count shows it; one sample per batch.
    ``counts``: each probe's events so far (kept across calls)."""
    from cairn.core.errors import CairnError

    def send(rows: list[dict[str, Any]]) -> None:
        store.produce("txns", rows)

    def batch(probe: int) -> list[dict[str, Any]]:
        t = now_ms()
        others = [rng.randrange(CUSTOMERS - 1000) + 1000 for _ in range(args.fresh_batch - 1)]
        return [
            {"customer_id": k, "amount": round(rng.uniform(1, 100), 2), "event_timestamp": t}
            for k in [probe, *others]
        ]

    def wait_for(probe: int, timeout_s: float, warm: bool = False) -> float | None:
        t0 = time.perf_counter()
        while True:
            try:
                got = online_counts(store, [probe])[0] or 0
            except CairnError:  # the warm-up may read before the first batch has landed
                if not warm:
                    raise
                got = 0
            if got >= counts[probe]:
                return time.perf_counter() - t0
            if time.perf_counter() - t0 > timeout_s or proc.poll() is not None:
                return None
            time.sleep(0.001)

    probes = list(range(1000))  # the other events' keys never collide with a probe
    # warm-up: the processor's start (project, log connection, first batch), the producer's
    send(batch(probes[0]))
    counts[probes[0]] = counts.get(probes[0], 0) + 1
    if wait_for(probes[0], 120.0, warm=True) is None:
        raise RuntimeError(f"the processor never served the warm-up event (poll {poll})")
    fresh: list[float | None] = []
    produce_s: list[float] = []
    for i in range(args.freshness):
        time.sleep(rng.uniform(0, poll))  # not in step with the processor's idle waits
        probe = probes[1 + i % (len(probes) - 1)]
        rows = batch(probe)
        t0 = time.perf_counter()
        send(rows)
        produce_s.append(time.perf_counter() - t0)
        counts[probe] = counts.get(probe, 0) + 1
        fresh.append(wait_for(probe, 30.0))
    return {"fresh_s": fresh, "produce_s": produce_s}


# ----------------------------------------------------------------------------- parent


@dataclass
class Drain:
    """One contender's drain."""

    name: str
    status: str
    detail: str = ""
    events: int | None = None
    wall_s: float | None = None
    cpu_s: float | None = None
    server_cpu_s: dict[str, float] = field(default_factory=dict)
    events_per_s: float | None = None
    events_per_cpu_s: float | None = None
    events_per_cpu_s_with_servers: float | None = None
    batches: int | None = None
    commit_p50_ms: float | None = None
    commit_p99_ms: float | None = None
    commit_share: float | None = None
    produce_per_s: float | None = None
    startup_s: float | None = None
    peak_rss_mb: float | None = None
    ratio_vs_quix_wall: float | None = None
    ratio_vs_quix_cpu: float | None = None
    check: str = ""


@dataclass
class Fresh:
    """One backend's freshness at one poll interval."""

    backend: str
    poll_s: float
    status: str
    detail: str = ""
    samples: int = 0
    timeouts: int = 0
    produce_p50_ms: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    max_ms: float | None = None
    from_call_p50_ms: float | None = None
    from_call_p99_ms: float | None = None


def pct(values: list[float], q: float) -> float | None:
    import statistics

    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 10) - 1]


def child_args(args: argparse.Namespace, urls: dict[str, str | None]) -> list[str]:
    out = [
        "--events", str(args.events), "--partitions", str(args.partitions),
        "--max-batch", str(args.max_batch), "--freshness", str(args.freshness),
        "--fresh-batch", str(args.fresh_batch), "--poll", ",".join(map(str, args.polls)),
    ]  # fmt: skip
    for name in ("redis", "kafka"):
        if urls.get(name):
            out += [f"--{name}-url", str(urls[name])]
    return out


def run_drain(
    name: str, args: argparse.Namespace, work: Path, urls: dict[str, str | None], profile: bool
) -> tuple[Drain, dict[str, Any]]:
    tag = f"{name}-profile" if profile else name
    cmd = self_command(
        __file__, "--child", name, "--work", str(work), "--tag", tag, *child_args(args, urls)
    )
    if profile:
        cmd += ["--profile-out", str(work / f"{tag}.prof")]
    print(f"running {tag:<20}", end=" ", flush=True)
    outcome = run_in_scratch(cmd, work=work, name=tag, timeout_s=args.timeout, env=ENV)
    data = read_json(work / f"{tag}.json")
    d = Drain(name, outcome.status if data else f"{outcome.status}, no report")
    d.peak_rss_mb = outcome.peak_rss_mb
    if outcome.status != "ok" or not data:
        d.detail = outcome.last_line(300)
        print(f"{d.status}: {d.detail}")
        return d, data
    d.events, d.wall_s, d.cpu_s = data["events"], data["wall_s"], data["cpu_s"]
    d.server_cpu_s = data.get("server_cpu_s", {})
    d.events_per_s = d.events / d.wall_s
    d.events_per_cpu_s = d.events / d.cpu_s
    if d.server_cpu_s:
        d.events_per_cpu_s_with_servers = d.events / (d.cpu_s + sum(d.server_cpu_s.values()))
    d.batches = data["batches"]
    commits = data["commit_s"]
    d.commit_p50_ms = (pct(commits, 50) or 0) * 1000 if commits else None
    d.commit_p99_ms = (pct(commits, 99) or 0) * 1000 if commits else None
    d.commit_share = sum(commits) / d.wall_s if commits else None
    d.produce_per_s = data["produced"] / data["produce_s"] if data.get("produce_s") else None
    d.startup_s = data.get("startup_s")
    if d.events != data["produced"]:
        d.status = "incomplete"
        d.detail = f"processed {d.events} of {data['produced']} events"
    if name == "quix":
        d.check = f"{data.get('late', 0)} late (dropped) events"
    else:
        wrong = data.get("wrong_keys", [])
        d.check = (
            f"count_1h of {data['checked_keys']} keys = produced"
            if not wrong
            else f"count_1h differs for keys {wrong}"
        )
        if wrong:
            d.status = "wrong"
    print(
        f"{d.events:,} events in {d.wall_s:.2f} s: {d.events_per_s:,.0f}/s, "
        f"{d.events_per_cpu_s:,.0f} per CPU-s, peak {d.peak_rss_mb:,.0f} MB"
        + (" (profiled: slower)" if profile else "")
    )
    return d, data


def run_fresh(
    name: str, args: argparse.Namespace, work: Path, urls: dict[str, str | None]
) -> list[Fresh]:
    tag = f"fresh-{name}"
    cmd = self_command(
        __file__, "--fresh", name, "--work", str(work), "--tag", tag, *child_args(args, urls)
    )
    print(f"running {tag:<20}", end=" ", flush=True)
    outcome = run_in_scratch(cmd, work=work, name=tag, timeout_s=args.timeout, env=ENV)
    data = read_json(work / f"{tag}.json")
    out = []
    for poll in args.polls:
        got = data.get(str(poll))
        f = Fresh(name, poll, outcome.status if got else f"{outcome.status}, no report")
        if not got:
            f.detail = outcome.last_line(300)
            out.append(f)
            continue
        ms = [x * 1000 for x in got["fresh_s"] if x is not None]
        f.samples, f.timeouts = len(got["fresh_s"]), sum(x is None for x in got["fresh_s"])
        f.produce_p50_ms = (pct(got["produce_s"], 50) or 0) * 1000
        f.p50_ms, f.p90_ms, f.p99_ms = pct(ms, 50), pct(ms, 90), pct(ms, 99)
        f.max_ms = max(ms) if ms else None
        whole = [
            (x + p) * 1000
            for x, p in zip(got["fresh_s"], got["produce_s"], strict=True)
            if x is not None
        ]
        f.from_call_p50_ms, f.from_call_p99_ms = pct(whole, 50), pct(whole, 99)
        out.append(f)
    shown = ", ".join(f"poll {f.poll_s:g}: p50 {cell(f.p50_ms, '.1f')} ms" for f in out)
    print(shown if outcome.status == "ok" else f"{outcome.status}: {outcome.last_line(300)}")
    return out


def profile_top(path: Path, top: int = 10) -> list[str]:
    """The ``top`` entries in src/cairn by cumulative time, as lines."""
    import pstats

    stats = pstats.Stats(str(path))
    src = str(HERE.parent / "src" / "cairn")
    rows = [
        (ct, tt, nc, f"{file.removeprefix(str(HERE.parent) + '/')}:{line}({fn})")
        for (file, line, fn), (_, nc, tt, ct, _) in stats.stats.items()  # type: ignore[attr-defined]
        if file.startswith(src)
    ]
    rows.sort(reverse=True)
    total = max((r[0] for r in rows), default=0.0)
    return [
        f"{ct:8.2f} s cum ({ct / total:5.1%})  {tt:7.2f} s own  {nc:>9,} calls  {where}"
        for ct, tt, nc, where in rows[:top]
    ]


def add_ratios(drains: list[Drain]) -> None:
    quix = next((d for d in drains if d.name == "quix" and d.status == "ok"), None)
    if quix is None or not quix.events_per_s or not quix.events_per_cpu_s:
        return
    for d in drains:
        if d.name.startswith("kafka") and d.events_per_s and d.events_per_cpu_s:
            d.ratio_vs_quix_wall = d.events_per_s / quix.events_per_s
            d.ratio_vs_quix_cpu = d.events_per_cpu_s / quix.events_per_cpu_s


def print_drains(drains: list[Drain], args: argparse.Namespace) -> None:
    header = [
        "contender", "events/s", "events/CPU-s", "+servers", "wall s", "CPU s", "batches",
        "commit p50 ms", "commit p99 ms", "commit share", "Cairn/Quix", "Cairn/Quix CPU",
        "peak RSS MB", "status",
    ]  # fmt: skip
    rows = [
        [
            d.name,
            cell(d.events_per_s, ",.0f"),
            cell(d.events_per_cpu_s, ",.0f"),
            cell(d.events_per_cpu_s_with_servers, ",.0f"),
            cell(d.wall_s, ".2f"),
            cell(d.cpu_s, ".2f"),
            cell(d.batches, "d"),
            cell(d.commit_p50_ms, ".1f"),
            cell(d.commit_p99_ms, ".1f"),
            cell(None if d.commit_share is None else 100 * d.commit_share, ".0f", "%"),
            cell(d.ratio_vs_quix_wall, ".1f", "x"),
            cell(d.ratio_vs_quix_cpu, ".1f", "x"),
            cell(d.peak_rss_mb, ",.0f"),
            d.status,
        ]
        for d in drains
    ]
    details = []
    for d in drains:
        if d.detail:
            details.append(f"{d.name}: {d.detail}")
        if d.check:
            details.append(f"{d.name}: {d.check}")
        if d.server_cpu_s:
            spent = ", ".join(f"{k} {v:.2f} CPU-s" for k, v in d.server_cpu_s.items())
            details.append(f"{d.name}: servers meanwhile: {spent}")
        if d.produce_per_s:
            extra = f"; consumer-group start-up {d.startup_s:.1f} s" if d.startup_s else ""
            details.append(
                f"{d.name}: pre-produced at {d.produce_per_s:,.0f} events/s (not timed){extra}"
            )
    print()
    print_table(
        f"Drain of {args.events:,} events (5 aggregations, {CUSTOMERS:,} customers, "
        f"{args.partitions} partition(s), batches of {args.max_batch:,})",
        header,
        rows,
        details,
    )


def print_fresh(fresh: list[Fresh], args: argparse.Namespace) -> None:
    header = ["backend", "poll s", "samples", "timeouts", "produce p50 ms", "p50 ms",
              "p90 ms", "p99 ms", "max ms", "from call p50", "from call p99", "status"]  # fmt: skip
    rows = [
        [
            f.backend,
            f"{f.poll_s:g}",
            str(f.samples),
            str(f.timeouts),
            cell(f.produce_p50_ms, ".1f"),
            cell(f.p50_ms, ".1f"),
            cell(f.p90_ms, ".1f"),
            cell(f.p99_ms, ".1f"),
            cell(f.max_ms, ".1f"),
            cell(f.from_call_p50_ms, ".1f"),
            cell(f.from_call_p99_ms, ".1f"),
            f.status,
        ]
        for f in fresh
    ]
    details = [f"{f.backend} (poll {f.poll_s:g}): {f.detail}" for f in fresh if f.detail]
    details += [
        "p50..max: from produce() returning; from call: from produce() being called (the",
        "processor may serve an event before produce() returns: it is durable earlier).",
    ]
    print()
    print_table(
        f"Freshness: produce() returned -> get_online_features shows it ({args.fresh_batch} "
        f"event(s) per produce, reads every 1 ms, `cairn stream run --poll P` in its own process)",
        header,
        rows,
        details,
    )


def parent_main(args: argparse.Namespace) -> int:
    names, unknown = pick_names(args.only, ORDER)
    if unknown:
        print(f"unknown contender(s): {', '.join(unknown)}; known: {', '.join(ORDER)}")
        return 2
    machine = machine_info()
    print_banner("streaming", "quick" if args.quick else "full size", machine)
    urls = service_urls()
    reasons = {s: unreachable(s, urls[s]) for s in ("redis", "kafka")}
    for s, why in reasons.items():
        print(f"{s}: {why or urls[s]}")
    fresh_names = [n for n in (args.fresh_only or FRESH_DEFAULT) if n in names]
    drains: list[Drain] = []
    fresh: list[Fresh] = []
    profile_lines: list[str] = []
    raw: dict[str, Any] = {}
    with work_folder("cairn_bench_streaming_", args.keep) as work:
        load_before = os.getloadavg()
        for name in names:
            missing = [reasons[s] for s in needs(name) if reasons[s]]
            if name == "quix" and importlib.util.find_spec("quixstreams") is None:
                missing.append(f"quixstreams is not installed ({QUIX_INSTALL})")
            if missing:
                drains.append(Drain(name, "skipped", "; ".join(x for x in missing if x)))
                print(f"skipping {name}: {drains[-1].detail}")
                continue
            d, data = run_drain(name, args, work, urls, profile=False)
            drains.append(d)
            raw[name] = {k: v for k, v in data.items() if k not in ("batch_s", "commit_s")}
        if args.freshness > 0:
            for name in fresh_names:
                missing = [reasons[s] for s in needs(name) if reasons[s]]
                if missing:
                    why = "; ".join(x for x in missing if x)
                    fresh += [Fresh(name, p, "skipped", why) for p in args.polls]
                    print(f"skipping fresh-{name}: {'; '.join(x for x in missing if x)}")
                    continue
                fresh += run_fresh(name, args, work, urls)
        if args.profile:
            d, _ = run_drain(args.profile, args, work, urls, profile=True)
            prof = work / f"{args.profile}-profile.prof"
            if d.status == "ok" and prof.exists():
                profile_lines = profile_top(prof)
        load_after = os.getloadavg()
    add_ratios(drains)
    print_drains(drains, args)
    if fresh:
        print_fresh(fresh, args)
    if profile_lines:
        print(f"\ncProfile (CPU time) of one {args.profile} drain: top 10 in src/cairn, cumulative")
        for line in profile_lines:
            print(f"  {line}")
    print("\nNotes:")
    print("  events/CPU-s: events over the CPU seconds of the contender's process (all threads)")
    print("  during the drain: the rate one core sustains. +servers adds the CPU the broker and")
    print("  Redis used meanwhile (shared servers: other clients' load counts too).")
    print("  Cairn/Quix: a Kafka row's events/s (and events/CPU-s) over Quix's on the same")
    print("  broker and events (above 1: Cairn is faster).")
    print("  Cairn also lands every event in the Parquet batch source and commits tiles and")
    print("  checkpoint atomically per batch; Quix keeps window state in RocksDB, writes every")
    print("  state change to its changelog topics and commits offsets (at-least-once).")
    print("  Quix hopping windows update duration/step windows per event (10+12+6+4 = 32 here);")
    print("  Cairn updates one tile per hop group (2 here) and combines tiles when read.")
    print("  Kafka topics are created with retention.ms/retention.bytes set: Tansu's")
    print("  DescribeConfigs returns only a topic's creation configs and Quix needs retention.ms.")
    print(load_note(load_before, load_after))
    print_bench_json(
        {
            "benchmark": "streaming",
            "quick": args.quick,
            "events": args.events,
            "customers": CUSTOMERS,
            "partitions": args.partitions,
            "max_batch": args.max_batch,
            "servers": {s: urls[s] if not reasons[s] else reasons[s] for s in urls},
            **run_facts(machine, versions_of(PACKAGES), (load_before, load_after)),
            "drain": [asdict(d) for d in drains],
            "freshness": [asdict(f) for f in fresh],
            "profile_top": profile_lines,
            "raw": raw,
        }
    )
    bad = [d for d in drains if d.name != "quix" and d.status not in ("ok", "skipped")]
    bad_fresh = [f for f in fresh if f.status not in ("ok", "skipped")]
    return 1 if bad or bad_fresh else 0


# ----------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = bench_parser(__doc__, quick="20,000 events, 30 freshness samples", only=", ".join(ORDER))
    p.add_argument("--events", type=int, default=None, help="events per drain (100,000)")
    p.add_argument("--partitions", type=int, default=1, help="partitions of every log")
    p.add_argument("--max-batch", type=int, default=10_000, help="events per micro-batch")
    p.add_argument("--freshness", type=int, default=None, help="samples per poll (100; 0: none)")
    p.add_argument("--fresh-batch", type=int, default=100, help="events per produce (freshness)")
    p.add_argument("--fresh-only", action="append", choices=CAIRN, help="freshness backends")
    p.add_argument("--poll", default="0.2,0.01", help="processor idle waits, s (freshness)")
    p.add_argument("--profile", choices=CAIRN, help="also profile one drain of this backend")
    p.add_argument("--timeout", type=float, default=3600.0, help="wall limit per child, s")
    p.add_argument("--keep", action="store_true", help="keep the work folder")
    p.add_argument("--child", choices=ORDER, help=argparse.SUPPRESS)
    p.add_argument("--fresh", choices=CAIRN, help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    p.add_argument("--tag", help=argparse.SUPPRESS)
    p.add_argument("--redis-url", help=argparse.SUPPRESS)
    p.add_argument("--kafka-url", help=argparse.SUPPRESS)
    p.add_argument("--profile-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.events is None:
        args.events = 20_000 if args.quick else 100_000
    if args.freshness is None:
        args.freshness = 30 if args.quick else 100
    args.polls = [float(x) for x in str(args.poll).split(",") if x.strip()]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child or args.fresh:
        work, tag = Path(args.work), args.tag
        if args.child == "quix":
            report = child_quix(args, work, tag)
        elif args.child:
            report = child_cairn(args.child, args, work, tag)
        else:
            report = child_fresh(args.fresh, args, work, tag)
        write_json(work / f"{tag}.json", report)
        return 0
    return parent_main(args)


if __name__ == "__main__":
    sys.exit(main())
