"""Anchoring the audit chain: a key the database does not hold signs the chain head.

A hash chain alone catches edits by someone who does not recompute hashes. Someone who can
write the database can recompute every hash and move the head record. An :class:`Anchor`
signs the head on every append, with a key kept outside the database:

- :class:`HmacAnchor`: HMAC-SHA256 with a shared secret (a file or an environment variable);
  whoever verifies can also sign.
- :class:`Ed25519Anchor`: an Ed25519 private key (PEM file) signs; the public key alone
  verifies, so an auditor checks without being able to sign.

What the head signature does not catch: someone with the key, and a *rollback* of the whole
head record (seq, hash and signature) to an earlier signed state, e.g. from a backup, after
cutting the tail off. Checkpoints kept elsewhere catch those (:mod:`cairn.registry.checkpoints`).

The signed message is the canonical JSON of ``{"hash", "project", "purpose", "seq"}`` with
``purpose`` ``"cairn.audit.head/1"``, so a head signature is never valid as anything else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.registry._chain import canonical_json
from cairn.registry.errors import RegistryInputError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from cairn.core.settings.sections import AuditSettings

HEAD_PURPOSE = "cairn.audit.head/1"
MIN_HMAC_KEY_BYTES = 32


class AuditKeyError(RegistryInputError):
    """The audit signing key is missing, unreadable, too short, or can only verify."""


def head_message(project: str, seq: int, head_hash: str) -> bytes:
    """The bytes a head signature covers.

    Example
    -------
    >>> head_message("credit", 3, "ab")
    b'{"hash":"ab","project":"credit","purpose":"cairn.audit.head/1","seq":3}'
    """
    payload = {"purpose": HEAD_PURPOSE, "project": project, "seq": seq, "hash": head_hash}
    return canonical_json(payload).encode("utf-8")


class Anchor(ABC):
    """Signs and verifies messages with one key; ``algorithm`` and ``key_id`` are stored next
    to each signature so a verifier knows which key to use."""

    algorithm: str
    key_id: str

    @property
    @abstractmethod
    def can_sign(self) -> bool:
        """False for a verify-only key (an Ed25519 public key)."""

    @abstractmethod
    def sign(self, message: bytes) -> str:
        """The signature of ``message``, base64 text."""

    @abstractmethod
    def verify(self, message: bytes, signature: str) -> bool:
        """Whether ``signature`` is this key's signature of ``message``."""

    def describe(self) -> str:
        """``"ed25519 key 1a2b3c4d5e6f7a8b"``."""
        return f"{self.algorithm} key {self.key_id}"


class HmacAnchor(Anchor):
    """HMAC-SHA256 with a shared secret of at least 32 bytes.

    Example
    -------
    >>> anchor = HmacAnchor(b"k" * 32)
    >>> sig = anchor.sign(b"head")
    >>> anchor.verify(b"head", sig), anchor.verify(b"moved", sig), anchor.algorithm
    (True, False, 'hmac-sha256')
    """

    algorithm = "hmac-sha256"

    def __init__(self, key: bytes) -> None:
        if len(key) < MIN_HMAC_KEY_BYTES:
            raise AuditKeyError(
                f"The audit HMAC key must be at least {MIN_HMAC_KEY_BYTES} bytes; got "
                f"{len(key)}. Make one with `openssl rand -hex 32`."
            )
        self._key = key
        self.key_id = hmac.new(key, b"cairn.audit.key-id", hashlib.sha256).hexdigest()[:16]

    @property
    def can_sign(self) -> bool:
        return True

    def sign(self, message: bytes) -> str:
        return base64.b64encode(hmac.new(self._key, message, hashlib.sha256).digest()).decode()

    def verify(self, message: bytes, signature: str) -> bool:
        return hmac.compare_digest(self.sign(message), signature)


class Ed25519Anchor(Anchor):
    """Ed25519: a private key signs, the public key verifies.

    Example
    -------
    >>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    >>> private = Ed25519PrivateKey.generate()
    >>> signer = Ed25519Anchor(private=private)
    >>> auditor = Ed25519Anchor(public=private.public_key())
    >>> auditor.verify(b"head", signer.sign(b"head")), auditor.can_sign
    (True, False)
    >>> auditor.key_id == signer.key_id
    True
    """

    algorithm = "ed25519"

    def __init__(
        self, *, private: Ed25519PrivateKey | None = None, public: Ed25519PublicKey | None = None
    ) -> None:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        if private is None and public is None:
            raise AuditKeyError("Ed25519Anchor needs a private key, a public key, or both.")
        self._private = private
        self._public = public if public is not None else private.public_key()  # type: ignore[union-attr]
        if private is not None and public is not None:
            mine = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
            if mine != public.public_bytes(Encoding.Raw, PublicFormat.Raw):
                raise AuditKeyError(
                    "The audit key_file (Ed25519 private key) and public_key_file do not belong "
                    "together: the public key is not the private key's."
                )
        raw = self._public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]

    @property
    def can_sign(self) -> bool:
        return self._private is not None

    def sign(self, message: bytes) -> str:
        if self._private is None:
            raise AuditKeyError(
                f"The audit log can only be verified here ({self.describe()} is a public key); "
                f"appending needs the private key: set audit.key_file to the Ed25519 private key."
            )
        return base64.b64encode(self._private.sign(message)).decode()

    def verify(self, message: bytes, signature: str) -> bool:
        from cryptography.exceptions import InvalidSignature

        try:
            self._public.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, ValueError):
            return False
        return True


def head_anchor(
    settings: AuditSettings, root: Path, env: Mapping[str, str] | None = None
) -> Anchor | None:
    """The anchor the ``audit`` settings describe (None for ``signing: none``); relative key
    paths are read from ``root``, the environment from ``env`` (default: the process's).

    Example
    -------
    >>> from cairn.core.settings.sections import AuditSettings
    >>> head_anchor(AuditSettings(), Path(".")) is None
    True
    >>> env = {"CAIRN_AUDIT_KEY": "k" * 32}
    >>> head_anchor(AuditSettings(signing="hmac"), Path("."), env).algorithm
    'hmac-sha256'
    """
    if settings.signing == "none":
        return None
    if settings.signing == "hmac":
        if settings.key_file:
            return HmacAnchor(_read(root, settings.key_file, "audit.key_file").strip())
        if env is None:
            from cairn.core.settings.process import process_env

            env = process_env()
        secret = env.get(settings.key_env, "")
        if not secret:
            raise AuditKeyError(
                f"audit.signing is hmac but neither audit.key_file nor the environment variable "
                f"{settings.key_env} (audit.key_env) holds a key; set one, e.g. "
                f"`export {settings.key_env}=$(openssl rand -hex 32)`."
            )
        return HmacAnchor(secret.strip().encode("utf-8"))
    return _ed25519(settings, root)


def _ed25519(settings: AuditSettings, root: Path) -> Ed25519Anchor:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
    from cryptography.hazmat.primitives.serialization import (
        load_pem_private_key,
        load_pem_public_key,
    )

    if not settings.key_file and not settings.public_key_file:
        raise AuditKeyError(
            "audit.signing is ed25519 but neither audit.key_file (private key, PEM) nor "
            "audit.public_key_file (public key, PEM) is set."
        )
    private: Any = None
    public: Any = None
    try:
        if settings.key_file:
            private = load_pem_private_key(_read(root, settings.key_file, "audit.key_file"), None)
        if settings.public_key_file:
            public = load_pem_public_key(
                _read(root, settings.public_key_file, "audit.public_key_file")
            )
    except (ValueError, TypeError) as exc:
        raise AuditKeyError(
            f"audit key files must hold an unencrypted Ed25519 key in PEM; could not read one "
            f"({exc})."
        ) from None
    if private is not None and not isinstance(private, Ed25519PrivateKey):
        raise AuditKeyError(
            f"audit.key_file must hold an Ed25519 private key; got a {type(private).__name__}."
        )
    if public is not None and not isinstance(public, Ed25519PublicKey):
        raise AuditKeyError(
            f"audit.public_key_file must hold an Ed25519 public key; got a {type(public).__name__}."
        )
    return Ed25519Anchor(private=private, public=public)


def _read(root: Path, name: str, key: str) -> bytes:
    path = Path(name).expanduser()
    path = path if path.is_absolute() else root / path
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AuditKeyError(f"{key} {str(path)!r} cannot be read: {exc.strerror}.") from None
