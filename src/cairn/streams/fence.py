"""Fencing a stream processor's commits: a processor that lost its partition lock cannot land
the batch it had in flight once another processor took the partitions.

A lock says who *should* process a partition; it cannot stop a process that lost it mid-batch
(its lock connection ended, a standby took over) from committing that batch, which the new
owner then reads again from the last checkpoint: the batch would land twice. So a processor
that took its locks claims one fence per partition in the online store with a token of its
own (:meth:`~cairn.core.online.StreamCommitter.claim_stream_fence`), and every commit it makes
checks, in the same atomic step, that each fence still holds its token. The new owner claims
before it reads the checkpoint, so a commit is either before the claim (and the new owner
resumes after it) or refused (:class:`~cairn.core.errors.StreamFencedError`, nothing written).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import cast

from cairn.core.online import (
    EncodedStreamCommitter,
    EncodedTile,
    StreamCommitter,
    StreamFence,
    TileRecord,
)


def partition_fence(namespace: str, source: str, partitions: Iterable[int]) -> StreamFence:
    """A new fence (a fresh token) over ``partitions`` of one stream source.

    Example
    -------
    >>> partition_fence("credit", "txns", [0, 2]).names
    ('credit:txns:0', 'credit:txns:2')
    """
    names = tuple(f"{namespace}:{source}:{p}" for p in partitions)
    return StreamFence(names, uuid.uuid4().bytes)


class FencedCommitter:
    """``store`` whose stream commits all carry ``fence`` (reads pass through). Encoded
    commits are for a ``store`` that takes them (:class:`EncodedStreamCommitter`)."""

    def __init__(self, store: StreamCommitter, fence: StreamFence) -> None:
        self.store = store
        self.fence = fence

    def commit_stream(
        self,
        name: str,
        tiles: Sequence[tuple[str, TileRecord]],
        checkpoint: bytes,
        *,
        fence: StreamFence | None = None,
    ) -> None:
        self.store.commit_stream(name, tiles, checkpoint, fence=fence or self.fence)

    def commit_stream_encoded(
        self,
        name: str,
        tiles: Sequence[EncodedTile],
        checkpoint: bytes,
        *,
        fence: StreamFence | None = None,
    ) -> None:
        encoded = cast(EncodedStreamCommitter, self.store)
        encoded.commit_stream_encoded(name, tiles, checkpoint, fence=fence or self.fence)

    def claim_stream_fence(self, fence: StreamFence) -> None:
        self.store.claim_stream_fence(fence)

    def read_stream_checkpoint(self, name: str) -> bytes | None:
        return self.store.read_stream_checkpoint(name)
