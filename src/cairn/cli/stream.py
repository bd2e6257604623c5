"""`cairn stream produce | run | status`: event streams feeding windowed features."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cairn.cli._console import RepoOption, console, one_line_errors
from cairn.cli._output import JsonOption, emit_json
from cairn.cli._project import open_project
from cairn.core.errors import DataError

if TYPE_CHECKING:
    from cairn.app.feature_store import FeatureStore

app = typer.Typer(
    help=(
        "Event streams: produce events to a stream source (embedded log, Redis Streams, "
        "Kafka) and run the processor that keeps its windowed views current, exactly as a "
        "batch recompute over the landed events."
    ),
    no_args_is_help=True,
)


def _rows(file: Path) -> Any:
    """The rows of a CSV, Parquet or JSON-lines file."""
    if not file.is_file():
        raise DataError(
            f"FILE {str(file)!r} does not exist; expected a CSV, Parquet or .jsonl file."
        )
    suffix = file.suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        import orjson

        rows = []
        for n, line in enumerate(file.read_bytes().splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(orjson.loads(line))
                except orjson.JSONDecodeError as exc:
                    raise DataError(f"FILE {str(file)!r} line {n} is not JSON: {exc}.") from None
        return rows
    if suffix in (".csv", ".tsv"):
        from cairn.offline.csv_reader import read_csv

        return read_csv(file)
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        return pq.read_table(file)
    raise DataError(
        f"FILE {str(file)!r} must be .csv, .tsv, .parquet or .jsonl; got {suffix or 'no suffix'!r}."
    )


@app.command()
@one_line_errors
def produce(
    source: Annotated[str, typer.Argument(help="The stream source (as applied).")],
    file: Annotated[Path, typer.Argument(help="Events: a CSV, Parquet or JSON-lines file.")],
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Append the rows of FILE as events to a stream source's log (durable when this returns).

    Each row needs the source's event-time field (ISO 8601 with a zone, or naive in the
    source's timezone); events are keyed by the join keys of the views over the source.

    Example: cairn stream produce card_txns new_txns.csv
    """
    store = open_project(repo).features
    acks = store.produce(source, _rows(file))
    partitions = sorted({p for p, _ in acks})
    result = {"source": source, "events": len(acks), "partitions": partitions}
    emit_json(
        result,
        as_json,
        lambda: console.print(
            f"Produced {len(acks):,} event(s) to {source!r} "
            f"(partitions {', '.join(map(str, partitions)) or '-'})."
        ),
    )


@app.command()
@one_line_errors
def run(
    views: Annotated[
        list[str] | None,
        typer.Argument(help="Views over stream sources (default: every one).", show_default=False),
    ] = None,
    repo: RepoOption = Path("."),
    until_idle: Annotated[
        bool,
        typer.Option("--until-idle", help="Stop once every event in the log is processed."),
    ] = False,
    max_batch: Annotated[
        int | None,
        typer.Option(
            "--max-batch", min=1, help="Most events per micro-batch (default: streaming.max_batch)."
        ),
    ] = None,
    poll: Annotated[
        float | None,
        typer.Option(
            "--poll",
            min=0.01,
            help="Seconds to wait when the log is idle (default: streaming.poll_seconds).",
        ),
    ] = None,
    refresh: Annotated[
        float | None,
        typer.Option(
            "--refresh",
            min=0.1,
            help="Seconds between re-reads of the applied definitions "
            "(default: streaming.refresh_seconds).",
        ),
    ] = None,
    instances: Annotated[
        int | None,
        typer.Option(
            "--instances",
            min=1,
            help="How many of each source's streaming.processors this process runs (default: "
            "all); the first free ones are taken, the rest wait as standbys.",
        ),
    ] = None,
    reject_future: Annotated[
        bool,
        typer.Option(
            "--reject-future",
            help="Dead-letter events whose event time is ahead (default: streaming.future_events).",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Consume the stream sources of VIEWS and keep their hop tiles current: each
    micro-batch commits tiles and checkpoint atomically, then lands its events in the batch
    source (created time = commit time). Restarts resume from the checkpoint; one processor
    per source is active (a second waits and takes over); with streaming.processors = N, N
    processors share its partitions (`--instances` of them in this process). A view applied
    with a changed definition is backfilled beside the live one and served once it caught up
    (see `cairn stream status`). Stop with Ctrl-C.

    Example: cairn stream run card_velocity --until-idle
    """
    from cairn.app.streaming import run_any_instance, stream_sources
    from cairn.streams.processor import ProcessorSettings

    store = open_project(repo).features
    sources = stream_sources(store, views or [])
    if not sources:
        raise DataError("No feature view reads a stream source; apply one first.")
    configured = store.settings.streaming
    settings = ProcessorSettings(
        max_batch=max_batch or configured.max_batch,
        future_events="reject" if reject_future else configured.future_events,
        max_future_us=round(configured.max_future_seconds * 1_000_000),
    )
    poll = poll or configured.poll_seconds
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    totals: dict[str, dict[str, int]] = {}
    errors: list[BaseException] = []

    count = configured.processors
    slots = min(instances or count, count)
    guard = threading.Lock()

    def work(name: str) -> None:
        try:
            processor = run_any_instance(
                store,
                name,
                stop,
                settings=settings,
                poll_s=poll,
                until_idle=until_idle,
                refresh_s=refresh or configured.refresh_seconds,
                on_batch=None if as_json else _printer(name),
            )
            if processor is None:
                return
            with guard:
                total = totals.setdefault(name, {})
                for key, n in processor.checkpoint.counts.items():
                    total[key] = total.get(key, 0) + n
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            stop.set()

    threads = [
        threading.Thread(target=work, args=(s.name,), daemon=True)
        for s in sources
        for _ in range(slots)
    ]
    try:
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.2)
    except KeyboardInterrupt:
        stop.set()
        for t in threads:
            t.join()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if errors:
        raise errors[0]
    emit_json(
        totals,
        as_json,
        lambda: console.print(
            "Stopped. "
            + "; ".join(f"{n}: {c.get('events', 0):,} events" for n, c in totals.items())
        ),
    )


def _printer(name: str) -> Any:
    def show(result: Any) -> None:
        console.print(
            f"{name}: {result.events:,} events, {result.landed:,} landed, "
            f"{result.tiles:,} tiles, {result.held} held, {result.dead} dead letters "
            f"in {result.seconds * 1000:.1f} ms"
        )

    return show


@app.command()
@one_line_errors
def status(
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Per stream source: its views, the checkpoint against the log's end (lag in events and
    seconds), events/s of the last batch, held / skipped / dead-letter counts, and the state
    of the definitions: current, backfilling (a changed view built beside the live one, with
    how far behind it is; reads switch once it caught up), stale (changed, no processor yet).

    Example: cairn stream status --json
    """
    from cairn.app.stream_status import stream_status

    store: FeatureStore = open_project(repo).features
    rows = stream_status(store)

    def show() -> None:
        from rich.table import Table

        table = Table(
            "source",
            "views",
            "lag (events)",
            "lag (s)",
            "events/s",
            "events",
            "held",
            "skipped",
            "dead",
            "definitions",
            title=f"Streams of {store.project!r}",
        )
        for r in rows:
            table.add_row(r["source"], ", ".join(r["views"]), *_figures(r))
            parts = r.get("processors", [])
            for part in parts if len(parts) > 1 else []:  # each processor's own figures
                where = "partitions " + ", ".join(map(str, part["partitions"]))
                table.add_row(f"  processor {part['instance']}", where, *_figures(part))
        console.print(table)

    emit_json(rows, as_json, show)


def _figures(row: dict[str, Any]) -> list[str]:
    """The status columns after source and views, of a source or of one of its processors."""
    counts = row["counts"]
    return [
        f"{row['lag_events']:,}",
        "-" if row["lag_seconds"] is None else f"{row['lag_seconds']:.1f}",
        f"{row['events_per_second']:,.0f}",
        f"{counts.get('events', 0):,}",
        str(row["held_now"]),
        f"{counts.get('skipped', 0):,}",
        f"{counts.get('dead', 0):,}",
        _definitions(row),
    ]


def _definitions(row: dict[str, Any]) -> str:
    """The definitions column: ``backfilling`` shows how far the new definition is behind."""
    state = str(row["version_state"])
    if state != "backfilling":
        return state
    lag = row.get("backfill_lag_events")
    return "backfilling (first pass)" if lag is None else f"backfilling ({lag:,} events behind)"
