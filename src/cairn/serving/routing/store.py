"""Rollout specs in the metadata database: versioned, append-only, with optimistic concurrency.

Each change to a deployment's rollout is a new row ``(project, deployment, version)``; the
newest version is the current spec and the older ones are its history. ``put`` with
``expected_version`` refuses to write over a change it has not seen, so the canary controller
and an operator never overwrite each other. ``stamp`` is one cheap aggregate that changes
whenever any spec does: servers poll it and reload only when it moved.

Portable SQLAlchemy types only (SQLite by default, PostgreSQL by URL).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cairn.core.errors import CairnError, ConfigError
from cairn.metadata import create_tables, utc
from cairn.serving.routing.spec import RolloutSpec

metadata = sa.MetaData()

rollouts = sa.Table(
    "cairn_rollouts",
    metadata,
    sa.Column("project", sa.String(128), primary_key=True),
    sa.Column("deployment", sa.String(128), primary_key=True),
    # The key makes versions unique: two concurrent writers can never both write version N.
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


class ConflictError(CairnError, RuntimeError):
    """A write was based on a version that is no longer current (re-read and retry)."""


class _Busy(Exception):
    """Lost a race for the next version without an expected version: retry."""


@dataclass(frozen=True)
class RolloutChange:
    """One stored version of a deployment's rollout, who wrote it, why and when."""

    version: int
    spec: RolloutSpec
    actor: str
    reason: str
    at: datetime


class RolloutStore:
    """The rollout specs of one project's deployments.

    Parameters
    ----------
    engine_or_url:
        The metadata database: an SQLAlchemy engine or URL.
    project:
        The project whose deployments these are (one database can hold several projects).

    Example
    -------
    >>> store = RolloutStore("sqlite://")
    >>> spec = store.put(RolloutSpec.single("credit", "m@champion"), actor="ana", reason="go")
    >>> spec.version, store.current("credit") == spec, store.stamp()
    (1, True, 1)
    >>> try:
    ...     store.put(spec, actor="bo", reason="stale", expected_version=0)
    ... except ConflictError as exc:
    ...     print(exc)
    Rollout of 'credit' is at version 1, not 0: it changed since it was read; re-read it.
    """

    def __init__(self, engine_or_url: Engine | str, *, project: str = "default") -> None:
        if isinstance(engine_or_url, str):
            try:
                engine_or_url = sa.create_engine(engine_or_url, future=True)
            except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ImportError) as exc:
                raise ConfigError(
                    f"The rollout store needs a SQLAlchemy URL; got {engine_or_url!r} ({exc})."
                ) from None
        self.engine: Engine = engine_or_url
        self.project = project
        create_tables(metadata, self.engine)

    def current(self, deployment: str) -> RolloutSpec | None:
        """The deployment's current spec, or None when it has none."""
        t = rollouts
        query = (
            sa.select(t.c.spec, t.c.version)
            .where(t.c.project == self.project, t.c.deployment == deployment)
            .order_by(t.c.version.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _spec(row.spec, row.version)

    def all_current(self) -> dict[str, RolloutSpec]:
        """Every deployment's current spec, by deployment name."""
        t = rollouts
        newest = (
            sa.select(t.c.deployment, sa.func.max(t.c.version).label("version"))
            .where(t.c.project == self.project)
            .group_by(t.c.deployment)
            .subquery()
        )
        query = (
            sa.select(t.c.deployment, t.c.spec, t.c.version)
            .join(
                newest,
                sa.and_(t.c.deployment == newest.c.deployment, t.c.version == newest.c.version),
            )
            .where(t.c.project == self.project)
            .order_by(t.c.deployment)
        )
        with self.engine.connect() as conn:
            return {row.deployment: _spec(row.spec, row.version) for row in conn.execute(query)}

    def put(
        self,
        spec: RolloutSpec,
        *,
        actor: str,
        reason: str,
        expected_version: int | None = None,
    ) -> RolloutSpec:
        """Store ``spec`` as the deployment's next version and return it with that version.

        A spec with ``since == 0`` is stamped with the current time. With
        ``expected_version``, a :class:`ConflictError` when the stored version differs.
        """
        if not isinstance(actor, str) or not actor.strip():
            raise ConfigError(f"A rollout change needs an actor (who made it); got {actor!r}.")
        if not isinstance(reason, str):
            raise ConfigError(f"A rollout change's reason must be text; got {reason!r}.")
        for attempt in range(50):
            try:
                return self._put_once(spec, actor, reason, expected_version)
            except _Busy:
                time.sleep(0.002 * attempt)  # another writer won the race: read again
        raise ConflictError(
            f"Rollout of {spec.deployment!r}: too many concurrent changes; try again."
        )

    def _put_once(
        self, spec: RolloutSpec, actor: str, reason: str, expected_version: int | None
    ) -> RolloutSpec:
        t = rollouts
        where = f"Rollout of {spec.deployment!r}"
        try:
            with self.engine.begin() as conn:
                latest = conn.execute(
                    sa.select(sa.func.max(t.c.version)).where(
                        t.c.project == self.project, t.c.deployment == spec.deployment
                    )
                ).scalar()
                current = int(latest or 0)
                if expected_version is not None and expected_version != current:
                    raise ConflictError(
                        f"{where} is at version {current}, not {expected_version}: it changed "
                        f"since it was read; re-read it."
                    )
                stored = spec.with_changes(
                    version=current + 1, since=spec.since or time.time_ns() // 1000
                )
                conn.execute(
                    t.insert().values(
                        project=self.project,
                        deployment=spec.deployment,
                        version=stored.version,
                        spec=json.dumps(_body(stored), sort_keys=True),
                        actor=actor,
                        reason=reason,
                        at=datetime.now(UTC),
                    )
                )
        except sa.exc.IntegrityError:  # another writer stored version current + 1 first
            if expected_version is not None:
                raise ConflictError(
                    f"{where} changed while this change was written (at version "
                    f"{expected_version}); read it again and retry."
                ) from None
            raise _Busy from None
        except sa.exc.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise _Busy from None  # SQLite: another writer holds the database
        return stored

    def history(self, deployment: str) -> list[RolloutChange]:
        """Every version of the deployment's rollout, oldest first."""
        t = rollouts
        query = (
            sa.select(t)
            .where(t.c.project == self.project, t.c.deployment == deployment)
            .order_by(t.c.version)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            RolloutChange(
                row.version, _spec(row.spec, row.version), row.actor, row.reason, utc(row.at)
            )
            for row in rows
        ]

    def stamp(self) -> int:
        """A number that grows with every change to any of the project's specs (cheap to poll).

        The history is append-only, so its row count is such a number.
        """
        t = rollouts
        query = sa.select(sa.func.count()).select_from(t).where(t.c.project == self.project)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)


def _body(spec: RolloutSpec) -> dict[str, Any]:
    data = spec.to_dict()
    data.pop("version")  # the row's key holds it
    return data


def _spec(text: str, version: int) -> RolloutSpec:
    data = json.loads(text)
    data["version"] = version
    return RolloutSpec.from_dict(data)
