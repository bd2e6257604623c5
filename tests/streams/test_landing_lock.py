"""Landing one processor's batches is serialized across processes: a processor that lost its
partitions may still publish a committed batch while the one that took them over repairs
(publishes) the same staged file at start-up; the batch lands once, on Parquet and Delta."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cairn.features.source import FileSource
from cairn.streams import landing

ROWS = pa.table({"customer_id": [1, 2, 3], "amount": [1.0, 2.0, 3.0]})


def _at_once(*calls: Callable[[], object]) -> list[BaseException]:
    """Run ``calls`` in threads released together; the exceptions they raised."""
    start = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        start.wait()
        try:
            call()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.parametrize("file_format", ["parquet", "delta"])
def test_two_processes_publishing_one_batch_land_it_once(file_format: str, tmp_path: Path) -> None:
    batch = FileSource(name="landed", path="landed", file_format=file_format)
    if file_format == "parquet":
        (tmp_path / "landed").mkdir()
    for commit in range(1_000, 1_005):  # each: one staged batch, published by two at once
        landing.stage(batch, tmp_path, "txns", commit, ROWS)
        errors = _at_once(
            # the old processor, right after its commit
            partial(landing.publish, batch, tmp_path, "txns", commit),
            # the new one's start-up repair, which read that commit in the checkpoint
            partial(landing.repair, batch, tmp_path, "txns", commit),
        )
        assert errors == []
    if file_format == "delta":
        from deltalake import DeltaTable

        landed = DeltaTable(str(tmp_path / "landed")).to_pyarrow_table()
    else:
        landed = pq.read_table(tmp_path / "landed")
    assert landed.num_rows == 5 * ROWS.num_rows  # every batch once
    assert not list(landing.staging_dir(batch, tmp_path).glob(".stream-*.pending*"))


def test_a_repair_never_deletes_a_batch_being_staged(tmp_path: Path) -> None:
    # The old processor stages (its commit will be refused) while the new one repairs: the
    # repair waits for the staging file to be whole, then deletes it; no half-written file.
    batch = FileSource(name="landed", path="landed")
    (tmp_path / "landed").mkdir()
    big = pa.table({"customer_id": list(range(200_000)), "amount": [0.5] * 200_000})
    errors: list[BaseException] = []

    def stage() -> None:
        try:
            landing.stage(batch, tmp_path, "txns", 7, big)
        except BaseException as exc:
            errors.append(exc)

    staging = threading.Thread(target=stage)
    staging.start()
    while staging.is_alive():
        landing.repair(batch, tmp_path, "txns", committed_us=6)  # 7 was never committed
    staging.join()
    assert errors == []
    landing.repair(batch, tmp_path, "txns", committed_us=6)
    assert not list((tmp_path / "landed").glob(".stream-*.pending*"))
