"""Project settings: ``cairn.yaml`` with ``CAIRN_<SECTION>__<KEY>`` environment overrides.

A file holding only ``project: NAME`` is a complete configuration; everything else has a
default. This is the only module that reads ``os.environ``.

Example
-------
>>> s = Settings.from_mapping({"project": "credit", "offline": {"memory_limit": "1GB"}})
>>> s.project, s.offline.memory_limit, s.offline.threads
('credit', '1GB', None)
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from cairn.core.errors import ConfigError, check_fields

CONFIG_FILE = "cairn.yaml"
STATE_DIR = ".cairn"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class MetadataSettings:
    """Where definitions, results and audit records live (any SQLAlchemy URL)."""

    url: str = f"sqlite:///{STATE_DIR}/metadata.db"


@dataclass(frozen=True)
class OfflineSettings:
    """The offline engine (DuckDB in process)."""

    memory_limit: str = "2GB"
    threads: int | None = None
    temp_directory: str = f"{STATE_DIR}/tmp"


@dataclass(frozen=True)
class OnlineSettings:
    """The online store: ``sqlite:///path`` (embedded default) or ``redis://host:port/db``."""

    url: str = f"sqlite:///{STATE_DIR}/online.db"
    timeout_ms: int = 1000


@dataclass(frozen=True)
class TrackingSettings:
    """MLflow tracking and model registry: ``sqlite:///.cairn/mlflow.db`` (embedded default) or
    any MLflow URI (``http://mlflow:5000``, ``postgresql+psycopg://...``).

    ``experiment`` defaults to the project name; ``registry_uri`` to the tracking URI.
    """

    uri: str = f"sqlite:///{STATE_DIR}/mlflow.db"
    experiment: str = ""
    registry_uri: str | None = None


@dataclass(frozen=True)
class MonitoringSettings:
    """Drift and performance monitoring (``cairn monitor``).

    PSI below ``psi_monitor`` is stable, up to ``psi_drift`` monitor, above it drift;
    ``bands`` gives chosen features (or ``score``) their own ``[monitor, drift]`` edges.
    ``alpha`` (unset by default) also flags a feature whose KS/χ² p-value, corrected across
    features (Benjamini-Hochberg), is below it; ``null_share`` flags a significant move of the
    missing share by at least that much. A window's performance is judged once
    ``completeness`` of its predictions have a label; a realized AUC or KS more than
    ``performance_drop`` (absolute) below the training baseline is a signal. Band changes are
    POSTed as JSON to ``webhook_url`` when set (``webhook_timeout_s`` bounds each call).
    Per-segment drift compares the ``max_segments`` largest segments (the rest are
    ``(other)``) with the same segment in the preceding window, profiled with ``bins``
    quantile bins; segments with fewer than ``min_segment_rows`` rows are not compared. (Drift
    of all traffic uses the bins of the model's reference profile, fixed at training time.)

    Example
    -------
    >>> MonitoringSettings(bands={"income": [0.05, 0.2]}).bands
    {'income': (0.05, 0.2)}
    """

    psi_monitor: float = 0.1
    psi_drift: float = 0.25
    bands: dict[str, tuple[float, float]] = field(default_factory=dict)
    alpha: float | None = None
    null_share: float | None = 0.05
    completeness: float = 0.8
    performance_drop: float = 0.05
    webhook_url: str | None = None
    webhook_timeout_s: float = 5.0
    max_segments: int = 20
    min_segment_rows: int = 100
    bins: int = 10

    def __post_init__(self) -> None:
        checks = (
            ("psi_monitor", 0 < self.psi_monitor < self.psi_drift, "above 0, below psi_drift"),
            ("alpha", self.alpha is None or 0 < self.alpha < 1, "between 0 and 1"),
            ("null_share", self.null_share is None or 0 < self.null_share < 1, "in (0, 1)"),
            ("completeness", 0 < self.completeness <= 1, "in (0, 1]"),
            ("performance_drop", 0 <= self.performance_drop < 1, "in [0, 1)"),
            ("webhook_timeout_s", self.webhook_timeout_s > 0, "above 0"),
            ("max_segments", self.max_segments >= 1, "at least 1"),
            ("min_segment_rows", self.min_segment_rows >= 1, "at least 1"),
            ("bins", self.bins >= 2, "at least 2"),
        )
        check_fields(self, "monitoring", checks)
        bands: dict[str, tuple[float, float]] = {}
        for name, pair in self.bands.items():
            try:
                low, high = (float(v) for v in pair)
                ok = 0 <= low <= high
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise ConfigError(
                    f"monitoring.bands.{name} must be [monitor, drift] PSI edges with "
                    f"0 <= monitor <= drift (e.g. [0.05, 0.2]); got {pair!r}."
                )
            bands[str(name)] = (low, high)
        object.__setattr__(self, "bands", bands)


@dataclass(frozen=True)
class Settings:
    """All of a project's settings, typed and validated once."""

    project: str
    metadata: MetadataSettings = field(default_factory=MetadataSettings)
    offline: OfflineSettings = field(default_factory=OfflineSettings)
    online: OnlineSettings = field(default_factory=OnlineSettings)
    tracking: TrackingSettings = field(default_factory=TrackingSettings)
    monitoring: MonitoringSettings = field(default_factory=MonitoringSettings)

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        env: Mapping[str, str] | None = None,
        source: str = CONFIG_FILE,
    ) -> Settings:
        """Build settings from a parsed YAML mapping, then apply ``CAIRN_*`` overrides."""
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{source} must be a mapping with at least 'project: NAME'; "
                f"got {type(data).__name__}."
            )
        merged: dict[str, Any] = {
            k: (dict(v) if isinstance(v, Mapping) else v) for k, v in data.items()
        }
        for key, value in (env if env is not None else os.environ).items():
            if not key.startswith("CAIRN_") or "__" not in key:
                continue
            section, _, name = key[len("CAIRN_") :].lower().partition("__")
            merged.setdefault(section, {})
            if not isinstance(merged[section], dict):
                raise ConfigError(
                    f"Environment variable {key} overrides {section!r}, "
                    f"which is not a section in {source}."
                )
            merged[section][name] = value
        settings: Settings = _build(cls, merged, source)
        return settings

    @classmethod
    def load(cls, repo_path: str | Path, *, env: Mapping[str, str] | None = None) -> Settings:
        """Read ``<repo_path>/cairn.yaml``; a missing or malformed file is a ConfigError."""
        path = Path(repo_path) / CONFIG_FILE
        if not path.is_file():
            raise ConfigError(
                f"No {CONFIG_FILE} in {Path(repo_path).resolve()}: expected a project folder "
                f"(create one with `cairn init DIR`, or a {CONFIG_FILE} holding 'project: NAME')."
            )
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path} is not valid YAML: {exc}") from None
        return cls.from_mapping(data, env=env, source=str(path))


def environment(name: str, default: str | None = None) -> str | None:
    """One environment variable (the single place Cairn reads the environment)."""
    return os.environ.get(name, default)


def _build(cls: type[Any], data: Mapping[str, Any], where: str) -> Any:
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}; allowed keys are {', '.join(sorted(fields))}."
        )
    kwargs: dict[str, Any] = {}
    for name, f in fields.items():
        if name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ConfigError(f"{where}: the key {name!r} is required (e.g. '{name}: credit').")
            continue
        kwargs[name] = _coerce(hints[name], data[name], f"{where}: {name}")
    if "project" in kwargs and not _NAME.match(str(kwargs["project"])):
        raise ConfigError(
            f"{where}: project must be a name of letters, digits, '_' or '-'; "
            f"got {kwargs['project']!r}."
        )
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if value is None:
            return hint()
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where} must be a mapping; got {value!r}.")
        return _build(hint, value, where)
    optional = "None" in str(hint)
    if value is None or (optional and isinstance(value, str) and value.lower() in ("", "none")):
        if optional:
            return None
        raise ConfigError(f"{where} must not be empty.")
    if str(hint).startswith("dict"):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise ConfigError(f"{where} must be a mapping (JSON); got {value!r}.") from None
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where} must be a mapping; got {value!r}.")
        return dict(value)
    if "float" in str(hint):
        if isinstance(value, bool):
            raise ConfigError(f"{where} must be a number; got {value!r}.")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where} must be a number; got {value!r}.") from None
    if "int" in str(hint):
        if isinstance(value, bool):
            raise ConfigError(f"{where} must be an integer; got {value!r}.")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where} must be an integer; got {value!r}.") from None
    if isinstance(value, (Mapping, list)):
        raise ConfigError(f"{where} must be a string; got {value!r}.")
    return str(value)
