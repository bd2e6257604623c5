"""The project's MLflow tracking store: experiments, runs and their artifacts.

A :class:`Tracker` is bound to explicit URIs (no MLflow global state between calls). A
database-backed store (``sqlite:///...``, ``postgresql+psycopg://...``) keeps artifacts under
the project's ``.cairn/mlartifacts``; an MLflow server (``http://...``) keeps its own.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cairn.core.config import STATE_DIR, TrackingSettings
from cairn.core.errors import ConfigError
from cairn.core.urls import redact_url
from cairn.tracking import _mlflow
from cairn.tracking.errors import MissingArtifactError, TrackingError, UnknownRunError
from cairn.tracking.records import DatasetRecord, RunRecord, from_millis
from cairn.tracking.registry import MlflowRegistry
from cairn.tracking.run import RunLogger
from cairn.tracking.store import MlflowStore

_DB_SCHEMES = re.compile(r"^(sqlite|postgresql|postgres|mysql|mssql)(\+[\w-]+)?://")
ARTIFACT_DIR = f"{STATE_DIR}/mlartifacts"
_RUN_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")  # what a search filter may quote as it is


def resolve_uri(uri: str, root: Path) -> str:
    """Make a relative ``sqlite:///`` path absolute against the project folder (creating its
    folder); other URIs are returned as they are.

    Example
    -------
    >>> resolve_uri("http://mlflow:5000", Path("/p"))
    'http://mlflow:5000'
    """
    if not uri.startswith("sqlite:///") or uri.endswith(":memory:"):
        return uri
    path = Path(uri[len("sqlite:///") :])
    if not path.is_absolute():
        path = root / path
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def is_database_uri(uri: str) -> bool:
    """Whether MLflow talks to this store's database directly (no tracking server)."""
    return bool(_DB_SCHEMES.match(uri))


class Tracker(MlflowStore):
    """MLflow tracking for one project: one experiment, runs, artifacts, and the registry
    (an :class:`~cairn.tracking.store.MlflowStore` with an experiment).

    Parameters
    ----------
    uri:
        An MLflow tracking URI (``sqlite:////abs/mlflow.db``, ``http://host:5000``, ...).
    experiment:
        The experiment runs go to (created on first use).
    registry_uri:
        The model registry's URI; default: the tracking URI.
    artifact_root:
        Where a database-backed store keeps artifacts (one folder per experiment).

    Example
    -------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> t = Tracker.for_project(TrackingSettings(), root, "credit")
    >>> t.uri.endswith(".cairn/mlflow.db"), t.experiment
    (True, 'credit')
    """

    def __init__(
        self,
        uri: str,
        *,
        experiment: str,
        registry_uri: str | None = None,
        artifact_root: Path | None = None,
    ) -> None:
        super().__init__(uri, registry_uri=registry_uri)
        if not experiment.strip():
            raise ConfigError("the tracking experiment name must not be empty.")
        self.experiment = experiment
        self.artifact_root = artifact_root
        self._experiment_id: str | None = None

    @classmethod
    def for_project(cls, settings: TrackingSettings, root: Path, project: str) -> Tracker:
        """The tracker a project's ``tracking`` settings describe (paths resolved in ``root``)."""
        uri = resolve_uri(settings.uri, root)
        registry = resolve_uri(settings.registry_uri, root) if settings.registry_uri else None
        return cls(
            uri,
            experiment=settings.experiment or project,
            registry_uri=registry,
            artifact_root=root / ARTIFACT_DIR,
        )

    def registry(self) -> MlflowRegistry:
        """MLflow's model registry at this tracker's registry URI."""
        return MlflowRegistry(self)

    def experiment_id(self) -> str:
        """The experiment's id, creating it (with a project-local artifact folder) if needed."""
        if self._experiment_id is not None:
            return self._experiment_id
        found = self.call("read an experiment", self.client.get_experiment_by_name, self.experiment)
        if found is None:
            location = None
            if is_database_uri(self.uri) and self.artifact_root is not None:
                folder = self.artifact_root / _safe(self.experiment)
                folder.mkdir(parents=True, exist_ok=True)
                location = folder.resolve().as_uri()
            try:
                with self.session():
                    self._experiment_id = str(
                        self.client.create_experiment(self.experiment, artifact_location=location)
                    )
            except Exception as exc:  # another process created it first
                if _mlflow.error_code(exc) != "RESOURCE_ALREADY_EXISTS":
                    raise TrackingError(
                        f"MLflow at {redact_url(self.uri)} failed to create the experiment "
                        f"{self.experiment!r}: {exc}"
                    ) from None
                found = self.client.get_experiment_by_name(self.experiment)
        if found is not None:
            if found.lifecycle_stage == "deleted":
                raise ConfigError(
                    f"The MLflow experiment {self.experiment!r} is deleted; restore it "
                    f"(mlflow experiments restore) or set tracking.experiment to another name."
                )
            self._experiment_id = str(found.experiment_id)
        assert self._experiment_id is not None
        return self._experiment_id

    @contextmanager
    def start_run(
        self, *, name: str | None = None, tags: Mapping[str, str] | None = None
    ) -> Iterator[RunLogger]:
        """A new run in the experiment, yielded as a :class:`RunLogger`; the run is FINISHED
        when the block ends and FAILED when it raises."""
        run = self.call(
            "create a run",
            self.client.create_run,
            self.experiment_id(),
            tags=dict(tags or {}),
            run_name=name,
        )
        run_id = str(run.info.run_id)
        # Model flavors (mlflow.lightgbm.log_model) log through MLflow's fluent API, which reads
        # the process-wide URIs and the active run: both are set for the block.
        with _mlflow.bound(self.uri, self.registry_uri) as mlflow:
            with _mlflow.quiet():
                mlflow.start_run(run_id=run_id)
            status = "FAILED"
            try:
                yield RunLogger(self, run_id)
                status = "FINISHED"
            finally:
                with _mlflow.quiet():
                    mlflow.end_run(status=status)

    def get_run(self, run_id: str) -> RunRecord:
        """One run; UnknownRunError when there is none with this id."""
        try:
            with self.session():
                run = self.client.get_run(run_id)
        except Exception as exc:
            if _mlflow.error_code(exc) in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                raise UnknownRunError(
                    f"No run {run_id!r} in the tracking store {redact_url(self.uri)}; list runs "
                    f"with `cairn runs list`."
                ) from None
            raise TrackingError(
                f"MLflow at {redact_url(self.uri)} failed to read run {run_id!r}: {exc}"
            ) from None
        return _run_record(run)

    def get_runs(self, run_ids: Iterable[str]) -> dict[str, RunRecord]:
        """Many runs by id: one search of the experiment for all of them, then a
        :meth:`get_run` for each one the search did not return (a run of another experiment,
        a deleted run); ids with no run are left out. For listings (a page of versions)."""
        wanted = sorted(set(run_ids))
        found: dict[str, RunRecord] = {}
        plain = [r for r in wanted if _RUN_ID.fullmatch(r)]
        for start in range(0, len(plain), 100):
            chunk = plain[start : start + 100]
            runs = self.call(
                "search runs",
                self.client.search_runs,
                [self.experiment_id()],
                filter_string=f"attributes.run_id IN ({', '.join(repr(r) for r in chunk)})",
                max_results=len(chunk),
            )
            found.update((str(r.info.run_id), _run_record(r)) for r in runs)
        for run_id in wanted:
            if run_id not in found:
                try:
                    found[run_id] = self.get_run(run_id)
                except UnknownRunError:
                    pass
        return found

    def search_runs(self, max_results: int = 50) -> list[RunRecord]:
        """The experiment's newest runs first."""
        runs = self.call(
            "search runs",
            self.client.search_runs,
            [self.experiment_id()],
            max_results=max_results,
            order_by=["attributes.start_time DESC"],
        )
        return [_run_record(r) for r in runs]

    def find_runs(self, tags: Mapping[str, str], max_results: int = 50) -> list[RunRecord]:
        """The experiment's runs carrying every tag of ``tags`` (exact values), newest first,
        whatever their status (a run whose process died stays RUNNING)."""
        where = " AND ".join(
            f"tags.`{k}` = '{v.replace(chr(39), chr(39) * 2)}'" for k, v in tags.items()
        )
        runs = self.call(
            "search runs",
            self.client.search_runs,
            [self.experiment_id()],
            filter_string=where,
            max_results=max_results,
            order_by=["attributes.start_time DESC"],
        )
        return [_run_record(r) for r in runs]

    def end_run(self, run_id: str, status: str = "FAILED") -> None:
        """Mark a run ended (``FAILED``, ``KILLED`` or ``FINISHED``): a run left RUNNING by a
        process that died."""
        self.call("end a run", self.client.set_terminated, run_id, status)

    def load_text(self, run_id: str, path: str) -> str:
        """The text of one artifact of a run; MissingArtifactError when it was not logged."""
        with tempfile.TemporaryDirectory() as tmp:
            try:
                with self.session() as mlflow:
                    local = mlflow.artifacts.download_artifacts(
                        run_id=run_id, artifact_path=path, dst_path=tmp, tracking_uri=self.uri
                    )
            except Exception as exc:
                if not _mlflow.is_mlflow_error(exc) and not isinstance(exc, OSError):
                    raise
                raise MissingArtifactError(
                    f"Run {run_id!r} has no artifact {path!r} (was it trained by Cairn?): {exc}"
                ) from None
            return Path(local).read_text(encoding="utf-8")

    def load_json(self, run_id: str, path: str) -> Any:
        """One JSON artifact of a run, parsed."""
        return json.loads(self.load_text(run_id, path))


def _run_record(run: Any) -> RunRecord:
    info, data = run.info, run.data
    datasets = []
    for item in getattr(run.inputs, "dataset_inputs", None) or []:
        tags = {t.key: t.value for t in item.tags or []}
        ds = item.dataset
        datasets.append(
            DatasetRecord(
                name=ds.name,
                digest=ds.digest,
                source_type=ds.source_type,
                source=ds.source,
                context=tags.get("mlflow.data.context"),
                tags=tags,
            )
        )
    return RunRecord(
        run_id=str(info.run_id),
        experiment_id=str(info.experiment_id),
        name=str(info.run_name or ""),
        status=str(info.status),
        start_time=from_millis(info.start_time),
        end_time=from_millis(info.end_time),
        params=dict(data.params),
        metrics={k: float(v) for k, v in data.metrics.items()},
        tags=dict(data.tags),
        datasets=datasets,
        artifact_uri=str(info.artifact_uri),
    )


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "default"
