"""Name what happened to a damaged chain: which entry was edited, deleted, inserted, reordered,
or cut off the tail, so ``verify`` reports the first entry that breaks the chain and not its
innocent successors.

The rules, in the order they are applied (each row is explained at most once):

1. A row whose hash does not match its content at its own ``seq`` is searched for the ``seq`` it
   *was* written at (its predecessor's position + 1, its neighbours, other damaged positions).
   Found: the row was moved; not found: it was **edited** (hash mismatch).
2. A run of moved rows sharing one offset and linking to each other is one act:
   shifted up by ``d`` with ``d`` self-consistent rows in front that the run does not link to:
   those ``d`` rows were **inserted** (the attacker renumbered the rest to make room);
   shifted down with its first link pointing at nothing stored: entries were **deleted** and the
   rest renumbered to close the gap; anything else: each row was **reordered**.
3. A gap in the stored ``seq`` values: the missing entries were **deleted**.
4. Between two self-consistent neighbours whose link is broken: a row that links to neither
   neighbour was **inserted** in place of the original; a single broken link blames the row in
   front of it: it was **edited** with a recomputed hash (its successor links to a different one).
5. The head record names the last entry; rows past it were **inserted** after the head, a head
   past the last row means the tail was **truncated**. (A tail cut off *and* the head moved back
   is invisible here: the head signature and checkpoints catch that, see
   :mod:`cairn.registry.anchor`.)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from cairn.registry._chain import GENESIS_HASH, StoredEntry, canonical_json

ProblemKind = Literal[
    "edited",
    "deleted",
    "inserted",
    "reordered",
    "truncated",
    "head",
    "signature",
    "checkpoint",
    "reconcile",
]
_MAX_CANDIDATES = 256
_NEAR = 8


@dataclass(frozen=True)
class ChainProblem:
    """One finding of ``verify``: its ``kind``, the entry it names (``seq``; None for a problem
    of the head, a signature or a checkpoint as a whole) and a sentence.

    Example
    -------
    >>> str(ChainProblem("edited", 7, "entry 7 was edited (hash mismatch)"))
    'entry 7 was edited (hash mismatch)'
    """

    kind: ProblemKind
    seq: int | None
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class _Row:
    seq: int
    hash: str
    prev_hash: str
    computed: str | None
    state: Literal["ok", "moved", "edited"]
    written: int


def classify(
    entries: Iterable[StoredEntry], head: tuple[int, str] | None
) -> tuple[int, list[ChainProblem], tuple[int, str] | None]:
    """Check rows (in ``seq`` order) against each other and the head record.

    Returns the number of rows, the problems in chain order (entry problems by ``seq``, then
    those of the head), and the last row's ``(seq, hash)`` (None for an empty log).
    """
    rows: list[_Row] = []
    damaged: dict[int, StoredEntry] = {}
    problems: list[ChainProblem] = []
    for entry in entries:
        computed = entry.hash_as(entry.seq)
        if computed is None:
            problems.append(
                ChainProblem(
                    "edited",
                    entry.seq,
                    f"entry {entry.seq} was edited (details are not valid JSON)",
                )
            )
            rows.append(_Row(entry.seq, entry.hash, entry.prev_hash, None, "edited", entry.seq))
            continue
        if computed == entry.hash:
            if entry.details != canonical_json(json.loads(entry.details)):
                problems.append(
                    ChainProblem(
                        "edited",
                        entry.seq,
                        f"entry {entry.seq} was edited (details were rewritten)",
                    )
                )
            rows.append(_Row(entry.seq, entry.hash, entry.prev_hash, computed, "ok", entry.seq))
        else:
            damaged[len(rows)] = entry
            rows.append(_Row(entry.seq, entry.hash, entry.prev_hash, computed, "edited", entry.seq))
    _find_moves(rows, damaged)
    explained: set[int] = set()
    for i in damaged:
        if rows[i].state == "edited":
            explained.add(i)
            problems.append(
                ChainProblem(
                    "edited", rows[i].seq, f"entry {rows[i].seq} was edited (hash mismatch)"
                )
            )
    problems.extend(_runs(rows, explained))
    problems.extend(_gaps(rows))
    past_head = head[0] if head is not None else None
    problems.extend(_links(rows, explained, past_head))
    problems.sort(key=lambda p: p.seq if p.seq is not None else 1 << 62)
    problems.extend(_head(rows, head))
    last = (rows[-1].seq, rows[-1].hash) if rows else None
    return len(rows), problems, last


def find_problems(
    rows: Iterable[StoredEntry], head: tuple[int, str] | None
) -> tuple[int, list[str]]:
    """Check a project's rows (in ``seq`` order) against each other and the head record.

    Returns the number of rows and one message per problem, each naming the entry (the
    messages of :func:`classify`).

    Example
    -------
    >>> from cairn.registry._chain import entry_hash
    >>> at = "2026-03-01T00:00:00.000000+00:00"
    >>> h1 = entry_hash(1, "p", at, "ana", "a", "s", {}, GENESIS_HASH)
    >>> row = StoredEntry(1, "p", at, "ana", "a", "s", "{}", GENESIS_HASH, h1)
    >>> find_problems([row], (1, h1))
    (1, [])
    >>> find_problems([], (1, h1))
    (0, ['the chain head was truncated: entry 1 is missing (the head records entry 1)'])
    """
    count, problems, _ = classify(rows, head)
    return count, [p.message for p in problems]


def _find_moves(rows: list[_Row], damaged: dict[int, StoredEntry]) -> None:
    """Give each damaged row the ``seq`` it hashes at, when there is one (rule 1)."""
    by_hash = {r.hash: i for i, r in enumerate(rows)}
    by_hash.update({r.computed: i for i, r in enumerate(rows) if r.computed and r.state != "ok"})
    elsewhere = [rows[i].seq for i in damaged][:_MAX_CANDIDATES]
    gaps: list[int] = []
    for before, after in pairwise(rows):
        gaps.extend(range(before.seq + 1, min(after.seq, before.seq + 1 + _MAX_CANDIDATES)))
    for i, entry in damaged.items():
        row = rows[i]
        tries: list[int] = []
        if row.prev_hash == GENESIS_HASH:
            tries.append(1)
        elif (pred := by_hash.get(row.prev_hash)) is not None:
            tries.append(rows[pred].written + 1)
        for d in range(1, _NEAR + 1):
            tries.extend((row.seq - d, row.seq + d))
        tries.extend(elsewhere)
        tries.extend(gaps[:_MAX_CANDIDATES])
        for seq in dict.fromkeys(tries):
            if seq != row.seq and seq >= 1 and entry.hash_as(seq) == row.hash:
                row.state, row.written = "moved", seq
                break


def _runs(rows: list[_Row], explained: set[int]) -> list[ChainProblem]:
    """Rule 2: runs of moved rows are one insertion, one deletion, or reorders."""
    out: list[ChainProblem] = []
    at = {r.seq: i for i, r in enumerate(rows)}
    hashes = {r.hash for r in rows}
    i = 0
    while i < len(rows):
        if rows[i].state != "moved":
            i += 1
            continue
        a, shift = i, rows[i].seq - rows[i].written
        b = a
        while (
            b + 1 < len(rows)
            and rows[b + 1].state == "moved"
            and rows[b + 1].seq == rows[b].seq + 1
            and rows[b + 1].seq - rows[b + 1].written == shift
            and rows[b + 1].prev_hash == rows[b].hash
        ):
            b += 1
        run = range(a, b + 1)
        first, last = rows[a], rows[b]
        renumbered = (
            f"entries {first.written}-{last.written} were renumbered to {first.seq}-{last.seq}"
            if a != b
            else f"entry {first.written} was renumbered to {first.seq}"
        )
        block = [at.get(s) for s in range(first.seq - shift, first.seq)] if shift > 0 else []
        before = first.seq - shift - 1
        if (
            block
            and all(k is not None and rows[k].state == "ok" and k not in explained for k in block)
            and first.prev_hash == (GENESIS_HASH if before == 0 else _hash_at(rows, at, before))
        ):
            names = _span(first.seq - shift, first.seq - 1)
            out.append(
                ChainProblem(
                    "inserted",
                    first.seq - shift,
                    f"{names} inserted ({renumbered} to make room; entry {first.seq} "
                    f"links to {'the genesis hash' if before == 0 else f'entry {before}'}, "
                    "not to it)",
                )
            )
            explained.update(k for k in block if k is not None)
        elif shift < 0 and first.prev_hash not in hashes and first.prev_hash != GENESIS_HASH:
            prior = rows[a - 1].written if a > 0 else 0
            if prior + 1 <= first.written - 1:
                names = _span(prior + 1, first.written - 1)
                out.append(
                    ChainProblem(
                        "deleted",
                        prior + 1,
                        f"{names} deleted ({renumbered} to close the gap)",
                    )
                )
            else:
                out.extend(_reordered(rows, run))
        else:
            out.extend(_reordered(rows, run))
        explained.update(run)
        i = b + 1
    return out


def _reordered(rows: list[_Row], run: range) -> list[ChainProblem]:
    return [
        ChainProblem(
            "reordered",
            rows[k].seq,
            f"entry {rows[k].seq} was reordered (it was written as entry {rows[k].written})",
        )
        for k in run
    ]


def _hash_at(rows: list[_Row], at: dict[int, int], seq: int) -> str | None:
    k = at.get(seq)
    return None if k is None else rows[k].hash


def _span(first: int, last: int) -> str:
    return f"entry {first} was" if first == last else f"entries {first}-{last} were"


def _gaps(rows: list[_Row]) -> list[ChainProblem]:
    """Rule 3: stored ``seq`` values that skip, or start below 1."""
    out: list[ChainProblem] = []
    prev = 0
    for row in rows:
        if row.seq < 1:
            out.append(
                ChainProblem(
                    "inserted",
                    row.seq,
                    f"entry {row.seq} was inserted (sequence numbers start at 1)",
                )
            )
            continue
        if row.seq > prev + 1:
            missing = (
                f"entry {prev + 1} is missing"
                if row.seq - prev == 2
                else f"entries {prev + 1}-{row.seq - 1} are missing"
            )
            out.append(
                ChainProblem("deleted", prev + 1, f"{missing} (sequence gap {prev} -> {row.seq})")
            )
        prev = row.seq
    return out


def _links(rows: list[_Row], explained: set[int], head_seq: int | None) -> list[ChainProblem]:
    """Rule 4: broken links between self-consistent neighbours (rows past the head are named
    by rule 5)."""
    broken: list[int] = []
    for i, row in enumerate(rows):
        if row.state != "ok" or i in explained or row.seq < 1:
            continue
        if head_seq is not None and row.seq > head_seq:
            continue
        if i == 0:
            if row.seq == 1 and row.prev_hash != GENESIS_HASH:
                broken.append(i)
            continue
        prev = rows[i - 1]
        if prev.seq != row.seq - 1 or prev.state != "ok" or i - 1 in explained:
            continue
        if row.prev_hash not in (prev.hash, prev.computed):
            broken.append(i)
    out: list[ChainProblem] = []
    blamed: set[int] = set()
    for i in broken:
        if i in blamed:
            continue
        seq = rows[i].seq
        if i + 1 in broken:
            blamed.add(i + 1)
            after = "the genesis hash" if seq == 1 else f"entry {seq - 1}"
            out.append(
                ChainProblem(
                    "inserted",
                    seq,
                    f"entry {seq} was inserted in place of the original (its prev_hash does not "
                    f"match {after}, and entry {seq + 1} does not link to it)",
                )
            )
        elif i == 0:
            out.append(
                ChainProblem(
                    "inserted",
                    seq,
                    f"entry {seq} was inserted (its prev_hash is not the genesis hash)",
                )
            )
        else:
            out.append(
                ChainProblem(
                    "edited",
                    seq - 1,
                    f"entry {seq - 1} was edited or replaced, its hash recomputed (entry {seq} "
                    f"links to a different entry {seq - 1})",
                )
            )
    return out


def _head(rows: list[_Row], head: tuple[int, str] | None) -> list[ChainProblem]:
    """Rule 5: the last row against the head record."""
    if head is None:
        if not rows:
            return []
        return [
            ChainProblem(
                "head",
                None,
                f"the chain head record is missing (the log holds {len(rows)} entries)",
            )
        ]
    head_seq, head_hash = head
    last = rows[-1] if rows else None
    if any(r.state == "moved" and (r.written, r.hash) == head for r in rows):
        return []  # the head names a moved entry where it was written: named by rule 2
    last_seq = 0 if last is None else last.seq
    if last_seq < head_seq:
        gone = (
            f"entry {head_seq} is missing"
            if last_seq + 1 == head_seq
            else f"entries {last_seq + 1}-{head_seq} are missing"
        )
        return [
            ChainProblem(
                "truncated",
                last_seq + 1,
                f"the chain head was truncated: {gone} (the head records entry {head_seq})",
            )
        ]
    if last_seq > head_seq:
        extra = _span(head_seq + 1, last_seq)
        return [
            ChainProblem(
                "inserted",
                head_seq + 1,
                f"{extra} inserted after the chain head (the head records entry {head_seq})",
            )
        ]
    if last is not None and last.hash != head_hash:
        return [
            ChainProblem(
                "edited",
                head_seq,
                f"the chain head does not match entry {head_seq} (its hash differs: entry "
                f"{head_seq} was replaced with a recomputed hash, or the head record was edited)",
            )
        ]
    return []
