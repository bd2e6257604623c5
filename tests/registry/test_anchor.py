"""Anchoring on SQLite and PostgreSQL: the head signed on every append (HMAC-SHA256 and
Ed25519), what a database writer without the key can no longer hide, and what still needs
checkpoints (a head rolled back to an earlier signed state)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy.engine import Engine

from cairn.core.settings.sections import AuditSettings
from cairn.registry import AuditLog, AuditTamperedError
from cairn.registry.anchor import (
    Anchor,
    AuditKeyError,
    Ed25519Anchor,
    HmacAnchor,
    head_anchor,
    head_message,
)
from tests.registry import _attacks as attack

Clock = Callable[[], datetime]
HMAC_KEY = b"0123456789abcdef0123456789abcdef"
ED_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def _anchors() -> dict[str, Anchor]:
    return {"hmac": HmacAnchor(HMAC_KEY), "ed25519": Ed25519Anchor(private=ED_KEY)}


@pytest.fixture(params=["hmac", "ed25519"])
def anchor(request: pytest.FixtureRequest) -> Anchor:
    return _anchors()[request.param]


def _log(engine: Engine, project: str, clock: Clock, anchor: Anchor | None, n: int = 6) -> AuditLog:
    log = AuditLog(engine, project, now=clock, anchor=anchor)
    for i in range(n):
        log.append("ana", "note", "credit", {"i": i})
    return log


def test_every_append_signs_the_head(
    engine: Engine, project_name: str, clock: Clock, anchor: Anchor
) -> None:
    log = _log(engine, project_name, clock, anchor)
    _, head = attack.read(engine, project_name)
    assert head is not None and (head["algorithm"], head["key_id"]) == (
        anchor.algorithm,
        anchor.key_id,
    )
    assert anchor.verify(head_message(project_name, 6, head["hash"]), head["signature"])
    result = log.verify()
    assert result.ok and result.head_signature == "valid" and result.signing == anchor.algorithm
    assert result.notes == [f"head signature valid: entry 6, {anchor.describe()}"]


def test_unsigned_mode_says_so(engine: Engine, project_name: str, clock: Clock) -> None:
    result = _log(engine, project_name, clock, None).verify()
    assert result.ok and result.signing == "none" and result.head_signature == "unchecked"
    assert result.notes[0].startswith("unsigned: audit.signing is none")


def test_a_rewritten_chain_with_its_head_moved_is_caught(
    engine: Engine, project_name: str, clock: Clock, anchor: Anchor
) -> None:
    """Entry 2 forged and every later hash recomputed: only the signature can tell."""
    log = _log(engine, project_name, clock, anchor)
    rows, _ = attack.read(engine, project_name)
    forged = attack.rebuild_from(rows, 2)
    attack.store(engine, project_name, forged, attack.head_of(forged))
    assert AuditLog(engine, project_name).verify(reconcile=False).problems == []  # no key: blind
    result = log.verify()
    assert result.head_signature == "invalid"
    assert result.problems == [
        f"the chain head signature does not verify ({anchor.describe()}): the head (entry 6) "
        f"was moved or rewritten by someone without the signing key"
    ]
    with pytest.raises(AuditTamperedError, match="cannot be extended"):
        log.append("ana", "note", "credit")


def test_truncation_with_head_rollback(
    engine: Engine, project_name: str, clock: Clock, anchor: Anchor
) -> None:
    log = _log(engine, project_name, clock, anchor, n=4)
    _, at_four = attack.read(engine, project_name)  # the attacker keeps a copy (a backup)
    assert at_four is not None
    early = log.checkpoint()  # a checkpoint of entry 4 ...
    for i in range(4, 8):
        log.append("ana", "note", "credit", {"i": i})
    late = log.checkpoint()  # ... and one of entry 8, both kept outside the database
    rows, _ = attack.read(engine, project_name)
    kept, head = attack.truncate(rows, 4)

    attack.store(engine, project_name, kept, head)  # head moved back, signature left as is
    assert [p.kind for p in log.verify().findings] == ["signature"]

    attack.set_head(engine, project_name, at_four)  # the old signed head replayed
    assert log.verify().ok  # a consistent, validly signed earlier state: checkpoints needed
    result = log.verify(checkpoints=[early, late])
    assert result.problems == [
        f"the chain was truncated: it ends at entry 4 but the checkpoint of {late.at} (entry "
        f"8) records entry 8; entries 5-8 are gone and the head was moved back"
    ]
    assert result.first is not None and (result.first.kind, result.first.seq) == ("truncated", 5)
    assert result.checkpoints == 2


def test_checkpoints_catch_a_rewrite_without_any_key(
    engine: Engine, project_name: str, clock: Clock
) -> None:
    log = _log(engine, project_name, clock, None)
    cp = log.checkpoint()
    assert (cp.seq, cp.algorithm, cp.signature) == (6, "none", "")
    rows, _ = attack.read(engine, project_name)
    forged = attack.rebuild_from(rows, 3)
    attack.store(engine, project_name, forged, attack.head_of(forged))
    assert log.verify().ok  # the chain alone is fooled
    problems = log.verify(checkpoints=[cp]).problems
    assert len(problems) == 1 and problems[0].startswith(
        f"entry 6 does not match the checkpoint of {cp.at} (entry 6): the chain up to entry 6 "
        "was rewritten"
    )


def test_a_forged_checkpoint_is_reported(
    engine: Engine, project_name: str, clock: Clock, anchor: Anchor
) -> None:
    log = _log(engine, project_name, clock, anchor)
    cp = log.checkpoint()
    forged = type(cp)(**{**cp.__dict__, "seq": 9})
    result = log.verify(checkpoints=[forged])
    assert [f.kind for f in result.findings] == ["checkpoint"]
    other = AuditLog(engine, project_name, anchor=HmacAnchor(b"x" * 32))
    assert "signed by a key that is not configured here" in " ".join(
        other.verify(checkpoints=[cp]).notes
    )


def test_an_unsigned_head_is_reported_and_can_be_signed_by_a_key_holder(
    engine: Engine, project_name: str, clock: Clock, anchor: Anchor
) -> None:
    _log(engine, project_name, clock, None)  # written before signing was turned on
    log = AuditLog(engine, project_name, now=clock, anchor=anchor)
    result = log.verify()
    assert result.head_signature == "missing" and [f.kind for f in result.findings] == ["signature"]
    assert "is not signed, but audit.signing is" in result.problems[0]
    with pytest.raises(AuditTamperedError, match="is not signed"):
        log.append("ana", "note", "credit")
    entry = log.sign_head("root", "CHG-1")
    assert (entry.seq, entry.action, entry.details["previous"]["signed"]) == (
        7,
        "audit.head.signed",
        False,
    )
    assert log.verify().ok and log.append("ana", "note", "credit").seq == 8


def test_sign_head_refuses_a_broken_chain(engine: Engine, project_name: str, clock: Clock) -> None:
    log = _log(engine, project_name, clock, None)
    rows, _ = attack.read(engine, project_name)
    attack.store(engine, project_name, attack.delete(rows, {3}), attack.head_of(rows))
    signer = AuditLog(engine, project_name, anchor=HmacAnchor(HMAC_KEY))
    with pytest.raises(AuditTamperedError, match="entry 3 is missing"):
        signer.sign_head("root", "CHG-1")
    with pytest.raises(AuditKeyError, match="needs a signing key"):
        log.sign_head("root", "CHG-1")


def test_a_public_key_verifies_but_cannot_append(
    engine: Engine, project_name: str, clock: Clock
) -> None:
    _log(engine, project_name, clock, Ed25519Anchor(private=ED_KEY))
    auditor = AuditLog(engine, project_name, anchor=Ed25519Anchor(public=ED_KEY.public_key()))
    assert auditor.verify().head_signature == "valid"
    with pytest.raises(AuditKeyError, match="appending needs the private key"):
        auditor.append("ana", "note", "credit")


def test_another_key_is_named(engine: Engine, project_name: str, clock: Clock) -> None:
    _log(engine, project_name, clock, HmacAnchor(HMAC_KEY))
    other = HmacAnchor(b"y" * 32)
    result = AuditLog(engine, project_name, anchor=other).verify()
    assert result.head_signature == "other-key"
    assert f"not the configured {other.describe()}" in result.problems[0]


def _pem(tmp_path: Path) -> tuple[Path, Path]:
    private = tmp_path / "audit.pem"
    private.write_bytes(ED_KEY.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public = tmp_path / "audit.pub.pem"
    public.write_bytes(
        ED_KEY.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def test_anchor_from_settings(tmp_path: Path) -> None:
    _, public = _pem(tmp_path)
    (tmp_path / "hmac.key").write_bytes(HMAC_KEY + b"\n")
    env = {"MY_KEY": HMAC_KEY.decode()}

    def made(**values: Any) -> Anchor | None:
        return head_anchor(AuditSettings(**values), tmp_path, env)

    assert made() is None
    assert made(signing="hmac", key_file="hmac.key").key_id == HmacAnchor(HMAC_KEY).key_id  # type: ignore[union-attr]
    assert made(signing="hmac", key_env="MY_KEY").key_id == HmacAnchor(HMAC_KEY).key_id  # type: ignore[union-attr]
    signer = made(signing="ed25519", key_file="audit.pem")
    auditor = made(signing="ed25519", public_key_file=str(public))
    assert signer is not None and auditor is not None
    assert signer.can_sign and not auditor.can_sign and signer.key_id == auditor.key_id
    assert made(signing="ed25519", key_file="audit.pem", public_key_file="audit.pub.pem")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"signing": "hmac", "key_env": "NOPE"}, "neither audit.key_file nor the environment"),
        ({"signing": "hmac", "key_env": "SHORT"}, "at least 32 bytes; got 5"),
        ({"signing": "hmac", "key_file": "missing.key"}, "missing.key' cannot be read"),
        ({"signing": "ed25519"}, "neither audit.key_file"),
        ({"signing": "ed25519", "key_file": "junk.pem"}, "unencrypted Ed25519 key in PEM"),
        ({"signing": "ed25519", "key_file": "rsa.pem"}, "must hold an Ed25519 private key"),
        (
            {"signing": "ed25519", "key_file": "audit.pem", "public_key_file": "other.pub.pem"},
            "do not belong together",
        ),
    ],
)
def test_bad_keys_are_named(tmp_path: Path, values: dict[str, str], message: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    _pem(tmp_path)
    (tmp_path / "junk.pem").write_text("not a key")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    (tmp_path / "rsa.pem").write_bytes(
        rsa_key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    )
    (tmp_path / "other.pub.pem").write_bytes(
        Ed25519PrivateKey.from_private_bytes(b"\x01" * 32)
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(AuditKeyError, match=message):
        head_anchor(AuditSettings(**values), tmp_path, {"SHORT": "short"})  # type: ignore[arg-type]


def test_a_database_from_before_revision_0003_keeps_verifying(tmp_path: Path) -> None:
    """A chain written at revision 0002 (no signature columns) is upgraded in place: it
    verifies unsigned, and a key holder can sign its head."""
    import dataclasses

    import sqlalchemy as sa
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from cairn.metadata import schema

    engine = sa.create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    script = ScriptDirectory(str(schema.MIGRATIONS))
    with engine.begin() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "version_table": schema.VERSION_TABLE,
                "fn": lambda rev, _ctx: script._upgrade_revs("0002", rev),
            },
        )
        with Operations.context(context):
            context.run_migrations()
    rows = attack.chain(4, project="old")
    with engine.begin() as conn:
        assert "signature" not in {
            c["name"] for c in sa.inspect(conn).get_columns("cairn_audit_head")
        }
        conn.execute(
            sa.text(
                "INSERT INTO cairn_audit_log (project, seq, at, actor, action, subject, details, "
                "prev_hash, hash) VALUES (:project, :seq, :at, :actor, :action, :subject, "
                ":details, :prev_hash, :hash)"
            ),
            [dataclasses.asdict(r) for r in rows],
        )
        conn.execute(
            sa.text("INSERT INTO cairn_audit_head (project, seq, hash) VALUES ('old', 4, :h)"),
            {"h": rows[-1].hash},
        )
    assert AuditLog(engine, "old").verify().ok  # upgraded to the newest revision on open
    assert schema.revision(engine) == schema.HEAD
    signed = AuditLog(engine, "old", anchor=HmacAnchor(HMAC_KEY))
    assert signed.verify().head_signature == "missing"
    signed.sign_head("root", "CHG-2026-0001")
    assert signed.verify().ok and signed.verify().head_signature == "valid"
