"""Checkpoints: the chain head (sequence, hash, time) exported to a place the database's
writers cannot change, one signed JSON line each.

``cairn audit checkpoint --out FILE|URL`` appends one to a file (or POSTs it to an http(s) URL:
a ticket system, WORM storage, another team's log). ``cairn audit verify --checkpoints FILE``
then checks each against the chain: the entry at the checkpoint's ``seq`` must still have that
hash, and the chain must reach that far. A rewritten tail changes the hash at the checkpoint's
``seq`` (every hash covers its predecessor's); a tail cut off with the head moved back leaves
the chain shorter than the checkpoint. Neither needs a signature stored in the database.

A line::

    {"algorithm": "ed25519", "at": "2026-03-01T00:00:00.000000+00:00", "format":
     "cairn.audit.checkpoint/1", "hash": "…", "key_id": "…", "project": "credit", "seq": 42,
     "signature": "…"}

The signature covers the canonical JSON of every other field; ``algorithm`` is ``"none"``
(and ``signature`` empty) when the project signs nothing: such a checkpoint still catches a
rewrite as long as its copy is out of the attacker's reach.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cairn.registry._chain import canonical_json
from cairn.registry.anchor import Anchor
from cairn.registry.errors import RegistryInputError

FORMAT = "cairn.audit.checkpoint/1"
_FIELDS = ("format", "project", "seq", "hash", "at", "algorithm", "key_id", "signature")


@dataclass(frozen=True)
class Checkpoint:
    """One exported chain head.

    Example
    -------
    >>> from cairn.registry.anchor import HmacAnchor
    >>> key = HmacAnchor(b"k" * 32)
    >>> cp = Checkpoint.make("credit", 3, "ab" * 32, "2026-03-01T00:00:00.000000+00:00", key)
    >>> Checkpoint.parse(cp.to_line()) == cp, cp.signed_by(key)
    (True, True)
    """

    project: str
    seq: int
    hash: str
    at: str
    algorithm: str
    key_id: str
    signature: str
    format: str = FORMAT

    @classmethod
    def make(
        cls, project: str, seq: int, head_hash: str, at: str, anchor: Anchor | None
    ) -> Checkpoint:
        """A checkpoint of ``(seq, head_hash)``, signed by ``anchor`` (None: unsigned)."""
        unsigned = cls(project, seq, head_hash, at, "none", "", "")
        if anchor is None:
            return unsigned
        stamped = cls(project, seq, head_hash, at, anchor.algorithm, anchor.key_id, "")
        return cls(
            project,
            seq,
            head_hash,
            at,
            anchor.algorithm,
            anchor.key_id,
            anchor.sign(stamped.message()),
        )

    def message(self) -> bytes:
        """The bytes the signature covers: every field but ``signature``."""
        fields = {k: v for k, v in asdict(self).items() if k != "signature"}
        return canonical_json(fields).encode("utf-8")

    def signed_by(self, anchor: Anchor) -> bool:
        """Whether ``anchor``'s key signed this checkpoint."""
        return (
            self.algorithm == anchor.algorithm
            and self.key_id == anchor.key_id
            and anchor.verify(self.message(), self.signature)
        )

    def to_line(self) -> str:
        """One JSON line (no newline)."""
        return canonical_json(asdict(self))

    @classmethod
    def parse(cls, line: str, *, where: str = "checkpoint") -> Checkpoint:
        """A checkpoint from one JSON line; ``where`` names it in errors (``file.jsonl:3``)."""
        try:
            data: Any = json.loads(line)
        except ValueError as exc:
            raise RegistryInputError(f"{where} is not JSON ({exc}); got {line[:80]!r}.") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise RegistryInputError(
                f"{where} must be a JSON object with format {FORMAT!r}; got {line[:80]!r}."
            )
        missing = [f for f in _FIELDS if f not in data]
        if missing:
            raise RegistryInputError(f"{where} lacks {', '.join(missing)}; got {line[:80]!r}.")
        seq = data["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            raise RegistryInputError(f"{where}: seq must be a whole number >= 0; got {seq!r}.")
        text = [f for f in _FIELDS if f != "seq" and not isinstance(data[f], str)]
        if text:
            raise RegistryInputError(f"{where}: {', '.join(text)} must be text; got {line[:80]!r}.")
        return cls(**{f: data[f] for f in _FIELDS})


def read_checkpoints(path: Path) -> list[Checkpoint]:
    """Every checkpoint of a JSON-lines file (blank lines skipped).

    Example
    -------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> cp = Checkpoint.make("credit", 0, "0" * 64, "2026-03-01T00:00:00.000000+00:00", None)
    >>> write_checkpoint(cp, str(folder / "cp.jsonl"))
    'appended to ...cp.jsonl'
    >>> read_checkpoints(folder / "cp.jsonl") == [cp]
    True
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RegistryInputError(
            f"The checkpoints file {str(path)!r} cannot be read: {exc.strerror}."
        ) from None
    return [
        Checkpoint.parse(line, where=f"{path}:{n}")
        for n, line in enumerate(lines, start=1)
        if line.strip()
    ]


def write_checkpoint(checkpoint: Checkpoint, out: str, *, timeout: float = 10.0) -> str:
    """Append ``checkpoint`` as one line to the file ``out``, or POST it (JSON) to an http(s)
    URL; returns where it went, for the user."""
    if out.startswith(("http://", "https://")):
        import httpx

        from cairn.core.urls import redact_url

        try:
            response = httpx.post(out, json=asdict(checkpoint), timeout=timeout)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise RegistryInputError(
                f"Could not POST the checkpoint to {redact_url(out)}: {exc}."
            ) from None
        return f"posted to {redact_url(out)} (HTTP {response.status_code})"
    path = Path(out).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(checkpoint.to_line() + "\n")
    except OSError as exc:
        raise RegistryInputError(
            f"Could not append the checkpoint to {str(path)!r}: {exc.strerror}."
        ) from None
    return f"appended to {path}"


def for_project(checkpoints: Iterable[Checkpoint], project: str) -> Sequence[Checkpoint]:
    """The checkpoints of one project (a file may hold several projects')."""
    return [c for c in checkpoints if c.project == project]
