"""The revisions, oldest first by number (Alembic reads these files; nothing imports them)."""

from __future__ import annotations
