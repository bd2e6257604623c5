"""Project: the one composition root. ``Project.open(path)`` wires a project folder once.

Settings (``cairn.yaml`` + ``CAIRN_*`` overrides) become the concrete parts every command, the
server, the controllers and the quickstart share — one metadata database, one feature store
(offline engine and online store), one MLflow tracker, one governed model registry, one rollout
store and service, one prediction log, one monitoring service. Parts open on first use, so a
command pays only for what it touches. Nothing else in Cairn builds these parts from settings.

Example
-------
>>> import tempfile, pathlib
>>> repo = pathlib.Path(tempfile.mkdtemp())
>>> _ = (repo / "cairn.yaml").write_text("project: demo")
>>> project = Project.open(repo)
>>> project.name, project.features.project, project.deployments()
('demo', 'demo', {})
>>> project.close()
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cairn.app.definitions import FEATURES_FILE as FEATURES_FILE
from cairn.app.definitions import load_definitions as load_definitions
from cairn.core.config import Settings
from cairn.core.deployments import DEPLOYMENTS_FILE, Deployment, find_deployment, load_deployments

if TYPE_CHECKING:
    from cairn.app.feature_store import FeatureStore
    from cairn.auth import Authenticator, Principal, TokenStore
    from cairn.core.online import OnlineStore
    from cairn.metadata import MetadataStore
    from cairn.monitoring.service import ProjectMonitoring
    from cairn.quality import QualityStore
    from cairn.registry import AuditLog
    from cairn.registry.models import ModelRegistry
    from cairn.rollouts import RolloutService, RolloutStore
    from cairn.serving.log_reader import PredictionLog
    from cairn.tracking import Tracker


class Project:
    """A Cairn project folder and the parts its settings name.

    Parameters
    ----------
    root:
        The project folder (holds ``cairn.yaml``).
    settings:
        The project's settings (``Project.open`` reads them from ``root``).
    online_store:
        An online store to use instead of the one ``online.url`` names (tests, embedding).
    """

    def __init__(
        self, root: str | Path, settings: Settings, *, online_store: OnlineStore | None = None
    ) -> None:
        self.root = Path(root).resolve()
        self.settings = settings
        self._online_store = online_store

    @classmethod
    def open(
        cls,
        path: str | Path = ".",
        *,
        settings: Settings | None = None,
        online_store: OnlineStore | None = None,
    ) -> Project:
        """Open the project at ``path``: its settings are read (and checked) now, every other
        part on first use. A missing or invalid ``cairn.yaml`` is one ConfigError line."""
        root = Path(path).resolve()
        return cls(root, settings or Settings.load(root), online_store=online_store)

    @property
    def name(self) -> str:
        """The project's name (``project:`` in cairn.yaml)."""
        return self.settings.project

    # -- stores ----------------------------------------------------------------------------

    @cached_property
    def metadata(self) -> MetadataStore:
        """The metadata database (definitions, results, audit log, rollouts), at its newest
        schema."""
        from cairn.metadata import MetadataStore

        return MetadataStore(self.settings.metadata.url, root=self.root)

    @cached_property
    def features(self) -> FeatureStore:
        """Definitions, training sets (offline) and online features."""
        from cairn.app.feature_store import FeatureStore

        return FeatureStore(
            self.root,
            settings=self.settings,
            online_store=self._online_store,
            metadata=self.metadata,
        )

    @cached_property
    def quality(self) -> QualityStore:
        """Quality results with their history."""
        from cairn.quality import QualityStore

        return QualityStore(self.metadata, project=self.name)

    # -- models ----------------------------------------------------------------------------

    @cached_property
    def tracker(self) -> Tracker:
        """The MLflow tracker (``tracking`` settings)."""
        from cairn.tracking import Tracker

        return Tracker.for_project(self.settings.tracking, self.root, self.name)

    @cached_property
    def audit(self) -> AuditLog:
        """The hash-chained audit log of governance actions (no MLflow needed to read it); its
        head is signed with the ``audit`` settings' key when one is configured."""
        from cairn.registry import AuditLog
        from cairn.registry.anchor import head_anchor

        anchor = head_anchor(self.settings.audit, self.root)
        return AuditLog(self.metadata.engine, self.name, anchor=anchor)

    @cached_property
    def registry(self) -> ModelRegistry:
        """The governed model registry (approvals, aliases, audit log)."""
        from cairn.registry.models import ModelRegistry

        return ModelRegistry(self.tracker, self.metadata.engine, self.name, audit=self.audit)

    # -- authentication --------------------------------------------------------------------

    @cached_property
    def tokens(self) -> TokenStore:
        """The project's API tokens (hashes only); creating and revoking one is audited."""
        from cairn.auth import TokenStore

        return TokenStore(self.metadata.engine, self.name, self.audit)

    @cached_property
    def authenticator(self) -> Authenticator:
        """API tokens of :attr:`tokens`, and OIDC/JWT bearer tokens when ``auth.oidc`` is set."""
        from cairn.auth import Authenticator, OidcVerifier

        oidc = self.settings.auth.oidc
        verifier = None
        if oidc.issuer is not None:
            assert oidc.audience is not None  # the settings require it with issuer
            jwks_file = None if oidc.jwks_file is None else self.root / oidc.jwks_file
            verifier = OidcVerifier(
                issuer=oidc.issuer,
                audience=oidc.audience,
                jwks_url=oidc.jwks_url,
                jwks_file=jwks_file,
                algorithms=tuple(oidc.algorithms),
                name_claim=oidc.name_claim,
                role_claim=oidc.role_claim,
                leeway_s=oidc.leeway_s,
            )
        return Authenticator(self.tokens, verifier)

    def authenticate(self, bearer: str) -> Principal:
        """The principal proven by ``bearer``: an API token secret of this project (with or
        without ``Bearer ``), else an OIDC/JWT bearer token; AuthenticationError otherwise."""
        return self.authenticator.authenticate(bearer)

    # -- deployments -----------------------------------------------------------------------

    def deployments(self) -> dict[str, Deployment]:
        """The deployments of ``deployments.yaml``, read afresh (none without the file)."""
        return load_deployments(self.root / DEPLOYMENTS_FILE)

    def deployment(self, name: str) -> Deployment:
        """One deployment; ``UnknownDeploymentError`` names the ones there are."""
        return find_deployment(self.deployments(), name)

    @cached_property
    def rollout_store(self) -> RolloutStore:
        """The deployments' rollout specs and their history."""
        from cairn.rollouts import RolloutStore

        return RolloutStore(self.metadata.engine, project=self.name)

    @cached_property
    def rollouts(self) -> RolloutService:
        """Where rollouts change, under the registry's governance (CLI and admin API)."""
        from cairn.rollouts import RolloutService

        return RolloutService(self.rollout_store, self.registry, self.deployments)

    @cached_property
    def predictions(self) -> PredictionLog:
        """The prediction and outcome logs."""
        from cairn.serving.log_reader import PredictionLog

        return PredictionLog(self.root)

    @cached_property
    def monitoring(self) -> ProjectMonitoring:
        """Drift and performance monitoring of the deployments."""
        from cairn.monitoring.history import MonitorHistory
        from cairn.monitoring.service import ProjectMonitoring

        return ProjectMonitoring(
            self.root,
            settings=self.settings.monitoring,
            history=MonitorHistory(self.metadata, project=self.name),
            registry=self.registry,
            log=self.predictions,
            deployments=self.deployments,
        )

    # -- definitions -----------------------------------------------------------------------

    def definitions(self) -> list[Any]:
        """The Entity, Source and FeatureView objects of the project's ``features.py``."""
        return load_definitions(self.root)

    def close(self) -> None:
        """Release the database connections this project opened."""
        opened: Mapping[str, Any] = vars(self)
        if "metadata" in opened:
            opened["metadata"].close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Project({self.name!r}, root={str(self.root)!r})"
