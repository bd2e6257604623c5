"""The embedded SQLite log keeps the event-log contract every backend shares."""

from __future__ import annotations

import itertools

import pytest

from cairn.streams import LocalLog
from tests.streams._contract import check_event_log


def test_local_log_keeps_the_event_log_contract(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder = tmp_path_factory.mktemp("contract")
    names = itertools.count()
    check_event_log(
        lambda partitions: LocalLog(folder / f"{next(names)}.db", partitions=partitions)
    )
