"""What ``AuditLog.verify`` found: the chain's problems, the head signature, the checkpoints.

The chain itself is checked by :func:`cairn.registry._classify.classify`; this module adds the
two anchors (:mod:`cairn.registry.anchor`, :mod:`cairn.registry.checkpoints`) and the result
type. Every problem names the entry it is about; ``notes`` say what was and was not checked
(an unsigned chain is said to be unsigned, never reported as anchored).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cairn.registry._classify import ChainProblem
from cairn.registry.anchor import Anchor, head_message
from cairn.registry.checkpoints import Checkpoint

HeadSignature = Literal["valid", "invalid", "missing", "other-key", "unchecked", "empty"]
"""The head signature's state: ``unchecked`` when no key is configured (``signing: none``)."""

UNSIGNED_NOTE = (
    "unsigned: audit.signing is none, so someone who can write the database could rewrite "
    "the chain and move its head unnoticed; configure audit.signing (hmac or ed25519) and/or "
    "export checkpoints (`cairn audit checkpoint --out FILE`)"
)


@dataclass(frozen=True)
class AuditVerification:
    """The result of checking a chain: ``ok`` when ``problems`` is empty.

    ``problems`` are sentences, each naming the entry (``"entry 7 was edited (hash
    mismatch)"``), in chain order, so the first names the first entry that breaks the chain;
    ``findings`` are the same as :class:`ChainProblem` values (``kind``, ``seq``).
    ``signing`` is ``"none"``, ``"hmac-sha256"`` or ``"ed25519"``, ``head_signature`` what the
    head's signature was found to be, ``checkpoints`` how many checkpoints were checked, and
    ``notes`` what was (not) checked, in words.
    """

    ok: bool
    entries: int
    problems: list[str]
    findings: list[ChainProblem] = field(default_factory=list)
    signing: str = "none"
    key_id: str | None = None
    head_signature: HeadSignature = "unchecked"
    checkpoints: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def first(self) -> ChainProblem | None:
        """The first problem in chain order (None when the chain is intact)."""
        return self.findings[0] if self.findings else None


def head_signature(
    anchor: Anchor | None, project: str, head: Mapping[str, Any] | None, entries: int
) -> tuple[HeadSignature, list[ChainProblem], list[str]]:
    """Check the head record's signature against ``anchor`` (None: ``signing: none``)."""
    if anchor is None:
        notes = [UNSIGNED_NOTE]
        if head is not None and head.get("signature"):
            notes.append(
                f"the head carries a {head['algorithm']} signature (key {head['key_id']}) that "
                f"was not checked: no key is configured"
            )
        return "unchecked", [], notes
    if head is None:
        if entries == 0:
            return "empty", [], [f"signing with {anchor.describe()}; the log is empty"]
        return "missing", [], []  # the missing head record is already a problem
    seq, digest = head["seq"], head["hash"]
    if not head.get("signature"):
        return (
            "missing",
            [
                ChainProblem(
                    "signature",
                    None,
                    f"the chain head (entry {seq}) is not signed, but audit.signing is "
                    f"{anchor.algorithm}: it was written without the key (by a process with "
                    f"signing off, or by editing the database). If `cairn audit verify` finds "
                    f"nothing else, an admin holding the key can sign it with "
                    f"`cairn audit sign-head --reason ...`",
                )
            ],
            [],
        )
    if head.get("key_id") != anchor.key_id or head.get("algorithm") != anchor.algorithm:
        return (
            "other-key",
            [
                ChainProblem(
                    "signature",
                    None,
                    f"the chain head (entry {seq}) is signed with {head.get('algorithm')} key "
                    f"{head.get('key_id')}, not the configured {anchor.describe()}: configure "
                    f"that key, or (after a key rotation) sign the head with the new one",
                )
            ],
            [],
        )
    if not anchor.verify(head_message(project, seq, digest), head["signature"]):
        return (
            "invalid",
            [
                ChainProblem(
                    "signature",
                    None,
                    f"the chain head signature does not verify ({anchor.describe()}): the head "
                    f"(entry {seq}) was moved or rewritten by someone without the signing key",
                )
            ],
            [],
        )
    return "valid", [], [f"head signature valid: entry {seq}, {anchor.describe()}"]


def checkpoint_problems(
    checkpoints: Sequence[Checkpoint],
    hashes: Mapping[int, str],
    last: int,
    anchor: Anchor | None,
) -> tuple[list[ChainProblem], list[str]]:
    """Check each checkpoint against the chain: ``hashes`` holds the stored hash at each
    checkpoint's ``seq`` (absent: no such row), ``last`` the last stored ``seq`` (0: empty)."""
    problems: list[ChainProblem] = []
    unverified = 0
    for cp in checkpoints:
        when = f"the checkpoint of {cp.at} (entry {cp.seq})"
        if cp.algorithm != "none":
            if anchor is None or (cp.algorithm, cp.key_id) != (anchor.algorithm, anchor.key_id):
                unverified += 1
            elif not cp.signed_by(anchor):
                problems.append(
                    ChainProblem(
                        "checkpoint",
                        cp.seq,
                        f"{when} has a signature that does not verify ({anchor.describe()}): "
                        f"the checkpoint was edited or forged",
                    )
                )
                continue
        if cp.seq == 0:
            continue
        if last < cp.seq:
            gone = (
                f"entry {cp.seq} is" if last + 1 == cp.seq else f"entries {last + 1}-{cp.seq} are"
            )
            problems.append(
                ChainProblem(
                    "truncated",
                    last + 1,
                    f"the chain was truncated: it ends at entry {last} but {when} records "
                    f"entry {cp.seq}; {gone} gone and the head was moved back",
                )
            )
        elif cp.seq not in hashes:
            problems.append(
                ChainProblem("deleted", cp.seq, f"entry {cp.seq} is missing ({when} records it)")
            )
        elif hashes[cp.seq] != cp.hash:
            problems.append(
                ChainProblem(
                    "edited",
                    cp.seq,
                    f"entry {cp.seq} does not match {when}: the chain up to entry {cp.seq} was "
                    f"rewritten (hash {cp.hash[:12]}… then, {hashes[cp.seq][:12]}… now)",
                )
            )
    notes = [f"{len(checkpoints)} checkpoint(s) checked against the chain"]
    if unverified:
        notes.append(
            f"{unverified} checkpoint signature(s) not checked: signed by a key that is not "
            f"configured here"
        )
    return problems, notes
