"""0003: the audit chain head carries its signature.

:class:`cairn.registry.AuditLog` signs the chain head on every append when ``audit.signing``
is ``hmac`` or ``ed25519`` (:mod:`cairn.registry.anchor`): the signature, the algorithm and the
id of the key are stored next to the head's ``seq`` and ``hash``. All three are nullable, so a
database written before this revision (and a project with ``signing: none``) keeps working;
``cairn audit verify`` reports an unsigned head when a key is configured.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cairn_audit_head") as batch:
        batch.add_column(sa.Column("algorithm", sa.String(32), nullable=True))
        batch.add_column(sa.Column("key_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("signature", sa.String(256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cairn_audit_head") as batch:
        batch.drop_column("signature")
        batch.drop_column("key_id")
        batch.drop_column("algorithm")
