"""The stream processor's checkpoint: committed with the tiles, in the same atomic step.

It says where to resume (the next offset per partition), what is held back (events whose event
time was still ahead, re-read from the log on restart), the commit time of the last batch (the
created time of its landed rows, so a landing cut short by a crash is finished with the same
name and rows), and running counts for ``cairn stream status``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import orjson

COUNTS = ("events", "landed", "skipped", "held", "released", "dead")
"""events: read from the log; landed: appended to the batch source; skipped: older than every
window (landed, no tile); held: waiting for their event time; released: held, then processed;
dead: malformed, written to the dead-letter file."""


def version_of(hashes: Iterable[tuple[str, str]]) -> str:
    """The version string of ``(view, definition hash)`` pairs (sorted, so order-free).

    Example
    -------
    >>> version_of([("b", "2e"), ("a", "1f")])
    'a=1f,b=2e'
    """
    return ",".join(sorted(f"{name}={h}" for name, h in hashes))


@dataclass(frozen=True)
class Checkpoint:
    """Where a processor of one source stands."""

    offsets: dict[int, int] = field(default_factory=dict)
    """Per partition: the next offset to read."""
    commit_us: int = 0
    """Commit time of the last batch (µs since the epoch; strictly increasing)."""
    held: tuple[tuple[int, int], ...] = ()
    """``(partition, offset)`` of events held until their event time."""
    counts: dict[str, int] = field(default_factory=dict)
    batch_events: int = 0
    """Events read by the last batch (for events/s)."""
    batch_seconds: float = 0.0
    """Wall time of the last batch, read to commit."""
    version: str = ""
    """``view=hash,...`` (sorted, see :func:`version_of`): the definitions whose tiles the
    processor keeps current, the *live* ones reads use."""
    layout: int = 2
    """How tiles are stored: 2, one storage per definition; 1 (checkpoints written before
    versioned storage), one per view name, rebuilt at the next start."""
    retired: tuple[str, ...] = ()
    """Storages of definitions replaced by the last switch, deleted by the processor once
    no read can still be planned on them."""

    def to_bytes(self) -> bytes:
        """The checkpoint as JSON bytes."""
        return orjson.dumps(
            {
                "offsets": {str(p): o for p, o in sorted(self.offsets.items())},
                "commit_us": self.commit_us,
                "held": [list(h) for h in self.held],
                "counts": self.counts,
                "batch_events": self.batch_events,
                "batch_seconds": self.batch_seconds,
                "version": self.version,
                "layout": self.layout,
                "retired": list(self.retired),
            }
        )

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> Checkpoint:
        """Parse :meth:`to_bytes` output (an empty checkpoint for None).

        Example
        -------
        >>> c = Checkpoint({0: 5}, 10, ((0, 3),), {"events": 5})
        >>> Checkpoint.from_bytes(c.to_bytes()) == c
        True
        """
        if raw is None:
            return cls()
        data = orjson.loads(raw)
        return cls(
            offsets={int(p): int(o) for p, o in data["offsets"].items()},
            commit_us=int(data["commit_us"]),
            held=tuple((int(p), int(o)) for p, o in data["held"]),
            counts={k: int(v) for k, v in data.get("counts", {}).items()},
            batch_events=int(data.get("batch_events", 0)),
            batch_seconds=float(data.get("batch_seconds", 0.0)),
            version=str(data.get("version", "")),
            layout=int(data.get("layout", 1)),
            retired=tuple(str(r) for r in data.get("retired", ())),
        )

    def view_hashes(self) -> dict[str, str]:
        """View name -> definition hash of the live definitions (empty before any commit).

        Example
        -------
        >>> Checkpoint(version="a=1f,b=2e").view_hashes()
        {'a': '1f', 'b': '2e'}
        """
        return dict(part.split("=", 1) for part in self.version.split(",") if part)

    def count(self, name: str) -> int:
        """One running count (0 when never counted)."""
        return self.counts.get(name, 0)

    def advanced(self, **changes: object) -> Checkpoint:
        """A copy with ``changes``."""
        return replace(self, **changes)  # type: ignore[arg-type]
