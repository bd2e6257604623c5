"""Checkpoints as data: one signed JSON line each, parsed strictly, errors naming the line."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cairn.registry import RegistryInputError
from cairn.registry.anchor import Ed25519Anchor, HmacAnchor
from cairn.registry.checkpoints import (
    FORMAT,
    Checkpoint,
    for_project,
    read_checkpoints,
    write_checkpoint,
)

AT = "2026-03-01T00:00:00.000000+00:00"


def test_signed_round_trip_and_tamper_evidence() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    signer, auditor = Ed25519Anchor(private=key), Ed25519Anchor(public=key.public_key())
    cp = Checkpoint.make("credit", 42, "ab" * 32, AT, signer)
    assert cp.format == FORMAT and cp.key_id == signer.key_id
    assert Checkpoint.parse(cp.to_line()) == cp and cp.signed_by(auditor)
    edits: list[dict[str, Any]] = [{"seq": 41}, {"hash": "cd" * 32}, {"at": AT[:-1] + "1"}]
    for edit in edits:
        assert not dataclasses.replace(cp, **edit).signed_by(auditor), edit
    assert not cp.signed_by(HmacAnchor(b"k" * 32))


def test_unsigned_checkpoint() -> None:
    cp = Checkpoint.make("credit", 3, "ab" * 32, AT, None)
    assert (cp.algorithm, cp.key_id, cp.signature) == ("none", "", "")


def test_file_of_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "cp.jsonl"
    made = [Checkpoint.make(p, n, "ab" * 32, AT, None) for p, n in [("a", 1), ("b", 2), ("a", 3)]]
    for cp in made:
        assert write_checkpoint(cp, str(path)) == f"appended to {path}"
    path.write_text(path.read_text() + "\n\n")
    read = read_checkpoints(path)
    assert read == made and [c.seq for c in for_project(read, "a")] == [1, 3]
    with pytest.raises(RegistryInputError, match="Could not append the checkpoint"):
        write_checkpoint(made[0], str(path / "not-a-folder.jsonl"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"seq": -1}, "seq must be a whole number >= 0; got -1"),
        ({"seq": True}, "seq must be a whole number >= 0; got True"),
        ({"seq": "3"}, "seq must be a whole number"),
        ({"hash": 5}, "hash must be text"),
        ({"format": "cairn.audit.checkpoint/9"}, "must be a JSON object with format"),
    ],
)
def test_bad_lines_are_named(change: dict[str, object], message: str) -> None:
    import json

    line = json.loads(Checkpoint.make("credit", 3, "ab" * 32, AT, None).to_line())
    with pytest.raises(RegistryInputError, match=message):
        Checkpoint.parse(json.dumps({**line, **change}), where="cp.jsonl:7")
    with pytest.raises(RegistryInputError, match=r"^cp.jsonl:2 is not JSON"):
        Checkpoint.parse("{", where="cp.jsonl:2")
