"""API tokens on SQLite and PostgreSQL: created by admins only (the first admin token aside),
stored only as SHA-256 hashes, refused once revoked or expired, audited without secrets."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cairn.auth import (
    ROLES,
    AccessDeniedError,
    AuthenticationError,
    Principal,
    TokenStore,
    parse_duration,
)
from cairn.auth._tables import api_tokens
from cairn.core.errors import ConfigError
from cairn.metadata import MetadataStore
from cairn.registry import AuditLog


class Clock:
    """A settable clock (tokens expire without waiting)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(metadata_url: str, project_name: str, clock: Clock) -> Iterator[TokenStore]:
    metadata = MetadataStore(metadata_url)
    engine = metadata.engine
    yield TokenStore(engine, project_name, AuditLog(engine, project_name), now=clock)
    metadata.close()


@pytest.fixture
def admin(store: TokenStore) -> Principal:
    _, secret = store.create("owner", "admin")
    return store.authenticate(secret)


def _rows(store: TokenStore) -> list[dict[str, object]]:
    with store.engine.connect() as conn:
        query = sa.select(api_tokens).where(api_tokens.c.project == store.project)
        return [dict(r._mapping) for r in conn.execute(query)]


def test_a_token_proves_its_holder_and_role(store: TokenStore, admin: Principal) -> None:
    for role in ROLES:
        info, secret = store.create(f"user-{role}", role, created_by=admin)
        who = store.authenticate(secret)
        assert (who.name, who.role, who.via, who.token_id) == (
            f"user-{role}", role, f"token:{info.id}", info.id,
        )  # fmt: skip
        assert store.authenticate(f"Bearer {secret}") == who
    assert admin.to_dict() == {"name": "owner", "role": "admin", "via": admin.via}


def test_only_hashes_are_stored(store: TokenStore, admin: Principal) -> None:
    secrets = [store.create(f"u{i}", "viewer", created_by=admin)[1] for i in range(3)]
    rows = _rows(store)
    assert len(rows) == 4
    stored = " ".join(str(v) for row in rows for v in row.values())
    for secret in secrets:
        assert secret.startswith("cairn_") and len(secret) >= 40
        assert secret not in stored
        assert secret[6:] not in stored
        assert hashlib.sha256(secret.encode()).hexdigest() in {r["hash"] for r in rows}
    assert len({r["hash"] for r in rows}) == 4


def test_creating_tokens_needs_an_admin(store: TokenStore, admin: Principal) -> None:
    _, secret = store.create("ana", "approver", created_by=admin)
    ana = store.authenticate(secret)
    for role in ROLES:
        with pytest.raises(AccessDeniedError, match="needs the admin role"):
            store.create("eve", role, created_by=ana)
    refused = AuditLog(store.engine, store.project).entries()[-len(ROLES) :]
    assert {(e.action, e.actor, e.details["action"]) for e in refused} == {
        ("governance.refused", "ana", "token.create")
    }
    with pytest.raises(AccessDeniedError, match="already has API tokens"):
        store.create("eve", "admin")  # the first-token path works once per project
    with pytest.raises(AccessDeniedError, match="needs an admin token"):
        store.create("eve", "viewer")
    assert sorted(t.holder for t in store.list()) == ["ana", "owner"]


def test_revoked_and_expired_tokens_are_refused(
    store: TokenStore, admin: Principal, clock: Clock
) -> None:
    kept, kept_secret = store.create("kim", "deployer", created_by=admin)
    gone, gone_secret = store.create("ana", "deployer", created_by=admin)
    short, short_secret = store.create("bo", "approver", timedelta(hours=1), created_by=admin)
    store.revoke(gone.id, by=admin, reason="left the team")
    with pytest.raises(AuthenticationError, match=f"{gone.id} of ana was revoked .* by owner"):
        store.authenticate(gone_secret)
    assert store.authenticate(short_secret).name == "bo"
    clock.now += timedelta(hours=1)
    with pytest.raises(AuthenticationError, match=f"{short.id} of bo expired at"):
        store.authenticate(short_secret)
    with pytest.raises(AuthenticationError, match="Unknown API token"):
        store.authenticate("cairn_" + "x" * 43)
    assert store.authenticate(kept_secret).token_id == kept.id
    states = {t.holder: t.state(clock.now) for t in store.list()}
    assert states == {"owner": "active", "kim": "active", "ana": "revoked", "bo": "expired"}


def test_a_holder_may_revoke_their_own_token_only(store: TokenStore, admin: Principal) -> None:
    ana_info, ana_secret = store.create("ana", "deployer", created_by=admin)
    bo_info, _ = store.create("bo", "deployer", created_by=admin)
    ana = store.authenticate(ana_secret)
    with pytest.raises(AccessDeniedError, match="needs the admin role"):
        store.revoke(bo_info.id, by=ana)
    done = store.revoke(ana_info.id, by=ana)
    assert (done.revoked_by, done.state()) == ("ana", "revoked")
    assert store.revoke(ana_info.id, by=admin) == done  # idempotent, no second entry
    with pytest.raises(LookupError, match="No API token 'tk_nope'"):
        store.revoke("tk_nope", by=admin)


def test_token_changes_are_audit_entries_without_secrets(
    store: TokenStore, admin: Principal
) -> None:
    info, secret = store.create("ana", "deployer", timedelta(days=90), created_by=admin)
    store.revoke(info.id, by=admin, reason="rotation")
    audit = AuditLog(store.engine, store.project)
    entries = audit.entries()
    assert [(e.action, e.actor, e.subject) for e in entries] == [
        ("token.created", "owner", f"token/{admin.token_id}"),
        ("token.created", "owner", f"token/{info.id}"),
        ("token.revoked", "owner", f"token/{info.id}"),
    ]
    assert entries[0].details["first_admin_token"] is True
    assert entries[1].details["principal"] == admin.to_dict()
    assert entries[1].details["role"] == "deployer"
    assert entries[2].details["reason"] == "rotation"
    text = " ".join(str(e.details) for e in entries)
    assert secret not in text and hashlib.sha256(secret.encode()).hexdigest() not in text
    assert audit.verify().ok


def test_bad_inputs_name_what_was_expected(store: TokenStore, admin: Principal) -> None:
    with pytest.raises(ConfigError, match="--holder must be"):
        store.create("ana lima", "viewer", created_by=admin)
    with pytest.raises(ConfigError, match="--role must be one of viewer, deployer"):
        store.create("ana", "root", created_by=admin)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="--expires must be"):
        parse_duration("soon")
    with pytest.raises(ConfigError, match="--expires must be"):
        parse_duration("0d")


@given(st.integers(1, 10_000), st.sampled_from("mhdw"))
def test_durations_read_as_written(n: int, unit: str) -> None:
    seconds = {"m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    assert parse_duration(f"{n}{unit}") == timedelta(seconds=n * seconds)
    assert parse_duration(f" {n}{unit.upper()} ") == timedelta(seconds=n * seconds)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["create", "revoke", "expire"]),
            st.sampled_from(ROLES),
            st.integers(0, 5),
        ),
        max_size=12,
    )
)
def test_a_secret_authenticates_exactly_while_its_token_is_active(
    ops: list[tuple[str, str, int]],
) -> None:
    """Whatever sequence of creations, revocations and clock moves: a secret proves its holder
    and role iff its token is neither revoked nor expired, and the chain stays intact."""
    clock = Clock()
    engine = sa.create_engine("sqlite://")
    store = TokenStore(engine, "prop", AuditLog(engine, "prop"), now=clock)
    _, root = store.create("owner", "admin")
    admin = store.authenticate(root)
    made: list[tuple[str, str, str]] = []  # id, secret, role
    for op, role, n in ops:
        if op == "create":
            life = timedelta(hours=n) if n else None
            info, secret = store.create(f"u{len(made)}", role, life, created_by=admin)  # type: ignore[arg-type]
            made.append((info.id, secret, role))
        elif op == "revoke" and made:
            store.revoke(made[n % len(made)][0], by=admin)
        else:
            clock.now += timedelta(minutes=30 * n)
        states = {t.id: t.state(clock.now) for t in store.list()}
        for token_id, secret, kind in made:
            if states[token_id] == "active":
                assert store.authenticate(secret).role == kind
            else:
                with pytest.raises(AuthenticationError, match=states[token_id]):
                    store.authenticate(secret)
    assert AuditLog(engine, "prop").verify().ok
    engine.dispose()
