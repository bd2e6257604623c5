"""Monitoring of a project's deployments: what ``cairn monitor`` runs (``Project.monitoring``).

Resolves a deployment's serving model (``deployments.yaml`` + the registry alias, as it
points now), downloads that version's ``reference_profile.json`` and its validation metrics
(the performance baseline) from MLflow, reads the prediction log, runs
:func:`cairn.monitoring.runs.monitor`, stores the run with history in the metadata database
and raises alerts for band changes. It also builds the report and the Prometheus collector
``cairn serve`` can register.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from cairn.core.config import MonitoringSettings
from cairn.core.deployments import Deployment, find_deployment
from cairn.core.errors import ConfigError
from cairn.core.predictions import LogReader
from cairn.core.timeutil import parse_duration, to_micros
from cairn.metadata import MetadataStore
from cairn.monitoring.alerts import AlertOutcome, check_webhook_url, send_alerts
from cairn.monitoring.gauges import MonitoringCollector
from cairn.monitoring.history import BandChange, MonitorHistory, RunSummary
from cairn.monitoring.performance import baseline_of
from cairn.monitoring.profile import ReferenceProfile
from cairn.monitoring.report import write_report
from cairn.monitoring.runs import MonitorRun, monitor
from cairn.registry.models import ModelRegistry
from cairn.tracking import Tracker
from cairn.tracking.errors import MissingArtifactError

PROFILE_ARTIFACT = "reference_profile.json"


@dataclass(frozen=True)
class MonitorTarget:
    """What a deployment is compared with: its model version's reference and baseline."""

    deployment: Deployment
    model_name: str
    model_version: str
    run_id: str
    profile: ReferenceProfile
    baseline: dict[str, float]


@dataclass(frozen=True)
class MonitoringOutcome:
    """One stored run, the band changes it raised and what alerting did."""

    run: MonitorRun
    changes: list[BandChange]
    alert: AlertOutcome
    target: MonitorTarget


class ProjectMonitoring:
    """A project's monitoring over the parts :class:`cairn.app.Project` wires.

    Parameters
    ----------
    root:
        The project folder (relative report paths resolve in it).
    settings:
        The ``monitoring`` settings.
    history:
        Where runs, per-feature results, signals and band changes are stored.
    registry:
        The governed registry (resolves a deployment's alias to the version it serves now;
        its tracker holds the version's reference profile and validation metrics).
    log:
        The prediction log.
    deployments:
        Reads ``deployments.yaml`` afresh.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        settings: MonitoringSettings,
        history: MonitorHistory,
        registry: ModelRegistry,
        log: LogReader,
        deployments: Callable[[], Mapping[str, Deployment]],
    ) -> None:
        self.root = Path(root).resolve()
        self.settings = settings
        self.history = history
        self.registry = registry
        self.log = log
        self._deployments = deployments

    @property
    def tracker(self) -> Tracker:
        """The MLflow tracker the registry reads from."""
        return self.registry.tracker

    def deployment(self, name: str) -> Deployment:
        """One deployment of ``deployments.yaml`` (UnknownDeploymentError names the others)."""
        return find_deployment(self._deployments(), name)

    def target(self, name: str) -> MonitorTarget:
        """The deployment's serving model version, its reference profile and baseline."""
        dep = self.deployment(name)
        ref, mv = self.registry.resolve(dep.model)
        if mv.run_id is None:
            raise ConfigError(
                f"{mv.name} v{mv.version} has no training run, so no reference profile to "
                f"monitor {name!r} against; register versions with `cairn train`."
            )
        try:
            raw = self.tracker.load_json(mv.run_id, PROFILE_ARTIFACT)
        except MissingArtifactError:
            raise ConfigError(
                f"{mv.name} v{mv.version} (run {mv.run_id}) has no {PROFILE_ARTIFACT}: "
                f"monitoring compares traffic with the profile `cairn train` logs."
            ) from None
        metrics = self.tracker.get_run(mv.run_id).metrics
        return MonitorTarget(
            dep, ref.name, mv.version, mv.run_id, ReferenceProfile.from_dict(raw),
            baseline_of(metrics),
        )  # fmt: skip

    def run(
        self,
        deployment: str,
        *,
        window: str = "1d",
        as_of: datetime | None = None,
        segment: str | None = None,
        webhook_url: str | None = None,
    ) -> MonitoringOutcome:
        """Monitor ``deployment`` over the ``window`` ending at ``as_of`` (default: now, or
        the last prediction when the log ends earlier), store the run and alert on band
        changes (``webhook_url`` overrides the setting)."""
        width = parse_duration(window, owner="--window")
        settings = self.monitoring_settings(webhook_url)
        target = self.target(deployment)
        end = None if as_of is None else to_micros(as_of, owner="--as-of")
        with self.log.connect() as con:
            result = monitor(
                con,
                target.profile,
                deployment=deployment,
                model_name=target.model_name,
                model_version=target.model_version,
                width=width,
                as_of=end,
                threshold=target.deployment.threshold,
                decision=target.deployment.decision.positive,
                maturity=target.deployment.label.maturity,
                baseline=target.baseline,
                segment=segment,
                settings=settings,
            )
        stored, changes = self.history.record(result)
        alert = send_alerts(
            stored, changes, webhook_url=settings.webhook_url, timeout_s=settings.webhook_timeout_s
        )
        return MonitoringOutcome(stored, changes, alert, target)

    def monitoring_settings(self, webhook_url: str | None = None) -> MonitoringSettings:
        """The ``monitoring`` settings, with a webhook URL given on the command line."""
        settings = self.settings
        if webhook_url is not None:
            settings = settings.replace(webhook_url=webhook_url)
        if settings.webhook_url:
            check_webhook_url(settings.webhook_url)
        return settings

    def report(self, out: str | Path, *, deployment: str | None = None) -> Path:
        """Write the HTML report (relative paths resolve in the project folder)."""
        path = Path(out)
        if deployment is not None and not self.history.runs(deployment, limit=1):
            known = sorted({r.deployment for r in self.history.runs()})
            raise ConfigError(
                f"No monitoring runs of deployment {deployment!r} yet (cairn monitor run -d "
                f"{deployment}); deployments with runs: {', '.join(known) or 'none'}."
            )
        return write_report(
            self.history, path if path.is_absolute() else self.root / path, deployment=deployment
        )

    def runs(self, deployment: str, *, limit: int = 20) -> list[RunSummary]:
        """The deployment's stored runs, newest first."""
        return self.history.runs(deployment, limit=limit)


def monitoring_collector(
    metadata: MetadataStore | Engine | str, project: str, *, ttl_s: float = 30.0
) -> MonitoringCollector:
    """The Prometheus collector of a project's latest monitoring results, for ``cairn serve``
    (``app.state.metrics.registry.register(monitoring_collector(store.metadata,
    store.project))``): it reads the history at scrape time, at most every ``ttl_s``.

    Example
    -------
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> registry = CollectorRegistry()
    >>> registry.register(monitoring_collector("sqlite://", "demo"))
    >>> b"cairn_monitor_up 1.0" in generate_latest(registry)
    True
    """
    return MonitoringCollector(MonitorHistory(metadata, project=project).latest, ttl_s=ttl_s)
