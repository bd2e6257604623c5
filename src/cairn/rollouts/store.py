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
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cairn.core.errors import CairnError, ConfigError
from cairn.metadata import create_tables, is_contention, utc, with_retries
from cairn.rollouts.spec import RolloutSpec
from cairn.rollouts.splits import Histories, Split

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


class InvalidRolloutError(ConfigError):
    """A stored rollout spec that no longer validates (written by an older release, or edited
    in the database): it is reported, never applied or judged. ``version`` is its version."""

    def __init__(self, message: str, version: int = 0) -> None:
        super().__init__(message)
        self.version = version


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
        return None if row is None else _spec(row.spec, row.version, deployment)

    def all_current(self) -> dict[str, RolloutSpec]:
        """Every deployment's current spec, by deployment name; a stored spec that does not
        validate raises its :class:`InvalidRolloutError` (see :meth:`read_current`)."""
        specs, invalid = self.read_current()
        if invalid:
            raise next(iter(invalid.values()))
        return specs

    def read_current(self) -> tuple[dict[str, RolloutSpec], dict[str, InvalidRolloutError]]:
        """Every deployment's current spec, and apart, each current stored spec that does not
        validate (by deployment name), so one bad row never hides the others."""
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
        specs: dict[str, RolloutSpec] = {}
        invalid: dict[str, InvalidRolloutError] = {}
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                try:
                    specs[row.deployment] = _spec(row.spec, row.version, row.deployment)
                except InvalidRolloutError as exc:
                    invalid[row.deployment] = exc
        return specs, invalid

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
        return with_retries(  # another writer won the race: read again
            lambda: self._put_once(spec, actor, reason, expected_version),
            what=f"store the rollout of {spec.deployment!r}",
            attempts=50,
            retry_if=lambda exc: isinstance(exc, _Busy),
            give_up=lambda _last: ConflictError(
                f"Rollout of {spec.deployment!r}: too many concurrent changes; try again."
            ),
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
            if not is_contention(exc):
                raise
            raise _Busy from None  # another writer holds the database
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
                row.version,
                _spec(row.spec, row.version, deployment),
                row.actor,
                row.reason,
                utc(row.at),
            )
            for row in rows
        ]

    def histories(self, deployments: Iterable[str]) -> Histories:
        """The specs of each of ``deployments``' history (:meth:`history`) from one query; a
        deployment whose history holds a stored spec that does not validate is apart, with the
        error :meth:`history` raises for it."""
        names = list(dict.fromkeys(deployments))
        specs: dict[str, list[RolloutSpec]] = {name: [] for name in names}
        invalid: dict[str, InvalidRolloutError] = {}
        if not names:
            return Histories(specs, invalid)
        t = rollouts
        query = (
            sa.select(t.c.deployment, t.c.version, t.c.spec)
            .where(t.c.project == self.project, t.c.deployment.in_(names))
            .order_by(t.c.deployment, t.c.version)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        for row in rows:
            if row.deployment in invalid:
                continue  # history() raises at its first invalid version
            try:
                specs[row.deployment].append(_spec(row.spec, row.version, row.deployment))
            except InvalidRolloutError as exc:
                invalid[row.deployment] = exc
                del specs[row.deployment]
        return Histories(specs, invalid)

    def experiment_weights(self, deployment: str, seed: str | None) -> Split:
        """The A/B split experiment ``seed`` of ``deployment`` ran under, or why there is none
        (see :func:`cairn.rollouts.splits.experiment_weights`)."""
        return self.histories([deployment]).experiment_weights(deployment, seed)

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


def _spec(text: str, version: int, deployment: str) -> RolloutSpec:
    try:
        data = json.loads(text)
        data["version"] = version
        return RolloutSpec.from_dict(data)
    except (ValueError, TypeError) as exc:  # ConfigError is a ValueError; so is bad JSON
        raise InvalidRolloutError(
            f"The stored rollout of {deployment!r} (version {version}) is invalid and is not "
            f"applied: {exc} Replace it: cairn deploy create {deployment} --strategy ... "
            f"--replace.",
            version,
        ) from None
