"""Monitoring of a project's deployments: what ``cairn monitor`` runs (``Project.monitoring``).

Resolves a deployment's serving model (``deployments.yaml`` + the registry alias, as it
points now), downloads that version's ``reference_profile.json`` and its validation metrics
(the performance baseline) from MLflow, reads the prediction log, runs
:func:`cairn.monitoring.runs.monitor`, stores the run with history in the metadata database
and raises alerts for band changes. It also builds the report and the Prometheus collector
``cairn serve`` can register.

Runs are **per model version**: :meth:`ProjectMonitoring.run` judges one group of the
deployment's traffic (default: the serving version's primary rows) against that version's own
reference profile, and :meth:`ProjectMonitoring.run_groups` runs every group the window holds
— each (model version, arm) of the primary traffic and each shadow model apart — so a canary,
an A/B arm or a previous champion is never judged against another version's reference.
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
from cairn.core.timeutil import from_micros, parse_duration, to_micros
from cairn.metadata import MetadataStore
from cairn.monitoring.alerts import AlertOutcome, check_webhook_url, send_alerts
from cairn.monitoring.gauges import MonitoringCollector
from cairn.monitoring.history import BandChange, MonitorHistory, RunSummary
from cairn.monitoring.performance import baseline_of
from cairn.monitoring.profile import ReferenceProfile
from cairn.monitoring.report import write_report
from cairn.monitoring.runs import MonitorRun, monitor
from cairn.monitoring.window import LogGroup, log_groups, resolve_window
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

    def target(
        self, name: str, *, version: str | None = None, model: str | None = None
    ) -> MonitorTarget:
        """The deployment's serving model version (or ``version`` of its model, or of
        ``model`` for a shadow), its reference profile and baseline."""
        dep = self.deployment(name)
        if version is None:
            ref, mv = self.registry.resolve(dep.model)
        else:
            named = model or self.registry.resolve(dep.model)[0].name
            ref, mv = self.registry.resolve(f"{named}/{version}")
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
        version: str | None = None,
        arm: str | None = None,
        shadow: bool = False,
        model: str | None = None,
    ) -> MonitoringOutcome:
        """Monitor ``deployment`` over the ``window`` ending at ``as_of`` (default: now, or
        the last prediction when the log ends earlier), store the run and alert on band
        changes (``webhook_url`` overrides the setting).

        The run reads one model version's rows — ``version``, default the version the
        deployment serves now — and judges them against that version's reference profile;
        ``arm`` narrows it to one A/B or canary arm, ``shadow`` to the shadow scores (of
        ``model``, default the deployment's model).
        """
        width = parse_duration(window, owner="--window")
        settings = self.monitoring_settings(webhook_url)
        target = self.target(deployment, version=version, model=model)
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
                version=target.model_version,
                arm=arm,
                shadow=shadow,
            )
        stored, changes = self.history.record(result)
        alert = send_alerts(
            stored, changes, webhook_url=settings.webhook_url, timeout_s=settings.webhook_timeout_s
        )
        return MonitoringOutcome(stored, changes, alert, target)

    def groups(
        self, deployment: str, *, window: str = "1d", as_of: datetime | None = None
    ) -> list[LogGroup]:
        """The (model version, arm, shadow) groups of ``deployment``'s traffic in the window
        (ending at ``as_of``, or now / the last prediction), largest first."""
        self.deployment(deployment)
        width = parse_duration(window, owner="--window")
        end = None if as_of is None else to_micros(as_of, owner="--as-of")
        with self.log.connect() as con:
            span = resolve_window(con, deployment, width=width, as_of=end)
            return log_groups(con, span)

    def run_groups(
        self,
        deployment: str,
        *,
        window: str = "1d",
        as_of: datetime | None = None,
        segment: str | None = None,
        webhook_url: str | None = None,
        version: str | None = None,
        arm: str | None = None,
    ) -> list[MonitoringOutcome]:
        """One stored run per group of the window's traffic (:meth:`groups`; only those of
        ``version`` / ``arm`` when given), each against its own version's reference. A window
        without traffic gives the serving version's (empty) run."""
        found = [
            g
            for g in self.groups(deployment, window=window, as_of=as_of)
            if (version is None or g.model_version == version) and (arm is None or g.arm == arm)
        ]
        if not found:
            return [self.run(deployment, window=window, as_of=as_of, segment=segment,
                             webhook_url=webhook_url, version=version, arm=arm)]  # fmt: skip
        # one window for every group: the deployment's (a group whose traffic stopped earlier
        # is judged on the same span as the others, not on its own last day)
        if as_of is None and len(found) > 1:
            with self.log.connect() as con:
                span = resolve_window(
                    con, deployment, width=parse_duration(window, owner="--window")
                )
            as_of = from_micros(span.end)
        return [
            self.run(
                deployment, window=window, as_of=as_of, segment=segment,
                webhook_url=webhook_url, version=g.model_version, arm=g.arm, shadow=g.shadow,
                model=g.model_name if g.shadow else None,
            )
            for g in found
        ]  # fmt: skip

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
