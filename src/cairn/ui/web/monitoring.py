"""The Monitoring pages' data: each deployment's monitoring runs over time, per model version.

Everything is read from the monitoring history (:class:`cairn.monitoring.history.
MonitorHistory`, what ``cairn monitor history|report`` read): the stored runs of every status
(:meth:`~MonitorHistory.runs`, paged, newest first) and, per deployment and model version, the
runs with results (:meth:`~MonitorHistory.series`, the last :data:`SERIES` of them). A run
compares one group of traffic with the reference of one model version, so the page shows one
section per (deployment, model version): a canary's or a previous champion's runs are never
drawn on the champion's lines.

Each section is the monitoring report's own view of those runs
(:func:`cairn.monitoring.report.deployment_view`: PSI over time per input, the inputs over
their threshold first; score drift; performance with label completeness) drawn with the
report's macros, plus the numbers behind the lines as tables: PSI per run and input
(:class:`PsiRow`, each cell with the band the run stored, so a feature over its threshold is
highlighted as the thresholds in force when the run ran decided) and the signals each run
raised. The PSI band edges shown are those of the project's ``monitoring`` settings now
(:func:`cairn.monitoring.runs.thresholds_of`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from cairn.monitoring.drift import SCORE
from cairn.monitoring.history import MonitorHistory, RunSummary
from cairn.monitoring.report import DeploymentHistory, DeploymentView, deployment_view
from cairn.monitoring.runs import thresholds_of
from cairn.ui.web.paging import BadPageInput, Page, PageNotFound, paginate

if TYPE_CHECKING:
    from cairn.app.project import Project
    from cairn.core.signals import MonitoringSignal
    from cairn.monitoring.history import BandChange
    from cairn.monitoring.runs import MonitorRun

__all__ = [
    "SERIES",
    "MonitoringPage",
    "PsiRow",
    "RunPage",
    "VersionSection",
    "gather_monitoring",
    "gather_run",
    "parse_run",
]

SERIES = 200
"""Runs with results drawn per deployment (the newest; the HTML report draws as many)."""


@dataclass(frozen=True)
class PsiRow:
    """One column's PSI in each run of a section (``cells[i]``: PSI and the stored state of
    ``runs[i]``, None when the run has no result for it) and its ``(monitor, drift)`` edges."""

    feature: str
    edges: tuple[float, float]
    cells: list[tuple[float | None, str | None]]

    @property
    def over(self) -> bool:
        """Whether the newest run put the column in the monitor or drift band (or error)."""
        state = self.cells[-1][1] if self.cells else None
        return state in ("monitor", "drift")


@dataclass(frozen=True)
class VersionSection:
    """One deployment and model version: the report's view of its runs, PSI per run and
    column (inputs, then the score), and the signals of every run, newest first."""

    deployment: str
    model_name: str
    version: str
    view: DeploymentView
    runs: list[MonitorRun]
    psi: list[PsiRow]
    score: PsiRow | None
    signals: list[tuple[int, MonitoringSignal]]

    @property
    def over(self) -> list[PsiRow]:
        """The inputs the newest run put in the monitor or drift band."""
        return [p for p in self.psi if p.over]

    @property
    def key(self) -> str:
        """An HTML id for the section."""
        return f"{self.deployment}-v{self.version}"


@dataclass(frozen=True)
class MonitoringPage:
    """The Monitoring page: the filters, the runs (paged, newest first) and one section per
    deployment and model version."""

    deployments: list[str]
    versions: list[str]
    deployment: str | None
    version: str | None
    runs: Page[RunSummary]
    sections: list[VersionSection]
    edges: tuple[float, float]


@dataclass(frozen=True)
class RunPage:
    """One stored run: the report's view of it alone, and the band changes it raised."""

    run: MonitorRun
    view: DeploymentView
    changes: list[BandChange]


def parse_run(text: str) -> int:
    """A run id of the URL (:class:`BadPageInput` when it is not a whole number)."""
    if not text.isdigit():
        raise BadPageInput(f"A monitoring run is named by its number; got {text!r}.")
    return int(text)


def gather_monitoring(
    project: Project, page: int, *, deployment: str | None = None, version: str | None = None
) -> MonitoringPage:
    """Page ``page`` of the runs, and the sections, of ``deployment`` and ``version`` (None:
    all); :class:`PageNotFound` when the project has no run of that deployment or version."""
    history = MonitorHistory(project.metadata, project=project.name)
    every = history.runs(deployment)  # one deployment's runs only, when filtered
    names = sorted({s.deployment for s in every} | set(project.deployments()))
    if deployment is not None and deployment not in names:
        raise PageNotFound(f"No deployment {deployment!r}; deployments: {', '.join(names)}.")
    scoped = [s for s in every if deployment is None or s.deployment == deployment]
    versions = sorted({s.model_version for s in scoped}, key=_version_key)
    if version is not None and version not in versions:
        where = f" of deployment {deployment!r}" if deployment else ""
        raise PageNotFound(
            f"No monitoring run{where} of model version {version!r}; "
            f"versions monitored: {', '.join(versions) or 'none'}."
        )
    chosen = [s for s in scoped if version is None or s.model_version == version]
    thresholds = thresholds_of(project.settings.monitoring)
    sections = []
    for name in sorted({s.deployment for s in chosen}):
        series = history.series(name, limit=SERIES)
        for v in sorted({s.model_version for s in chosen if s.deployment == name},
                        key=_version_key):  # fmt: skip
            runs = [r for r in series if r.model_version == v]
            last = next(s for s in chosen if s.deployment == name and s.model_version == v)
            newest = runs[-1].run_id if runs else None
            changes = history.changes(newest) if newest is not None else []
            view = deployment_view(DeploymentHistory(name, runs, last, changes))
            inputs = [f.feature for f in runs[-1].results() if f.kind != SCORE] if runs else []
            rows = [_psi_row(runs, f, thresholds.bands_for(f)) for f in inputs]
            over = {r.feature for r in rows if r.over}  # their small multiples come first
            view = replace(view, trends=sorted(view.trends, key=lambda t: t.feature not in over))
            score = _psi_row(runs, SCORE, thresholds.bands_for(SCORE)) if runs else None
            signals = [(r.run_id or 0, s) for r in reversed(runs) for s in r.signals]
            sections.append(
                VersionSection(name, last.model_name, v, view, runs, rows, score, signals)
            )
    return MonitoringPage(
        names, versions, deployment, version, paginate(chosen, page), sections, thresholds.psi
    )


def gather_run(project: Project, run_id: int) -> RunPage:
    """One stored run (:class:`PageNotFound` when the project has none of that number)."""
    history = MonitorHistory(project.metadata, project=project.name)
    try:
        run = history.get(run_id)
    except KeyError as exc:
        raise PageNotFound(str(exc.args[0])) from None
    runs = [run] if run.status == "ok" else []
    view = deployment_view(DeploymentHistory(run.deployment, runs))
    if run.status != "ok":
        view = DeploymentView(run.deployment, f"Run #{run_id}: {run.message}", None)
    return RunPage(run, view, history.changes(run_id))


def _psi_row(runs: list[MonitorRun], feature: str, edges: tuple[float, float]) -> PsiRow:
    cells: list[tuple[float | None, str | None]] = []
    for run in runs:
        found = next((f for f in run.results() if f.feature == feature), None)
        cells.append((None, None) if found is None else (found.psi, found.state))
    return PsiRow(feature, edges, cells)


def _version_key(version: str) -> tuple[int, str]:
    """Numbered versions in numeric order, then the others by name."""
    return (int(version), "") if version.isdigit() else (1 << 62, version)
