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
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from cairn.core.errors import ConfigError

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
class Settings:
    """All of a project's settings, typed and validated once."""

    project: str
    metadata: MetadataSettings = field(default_factory=MetadataSettings)
    offline: OfflineSettings = field(default_factory=OfflineSettings)
    online: OnlineSettings = field(default_factory=OnlineSettings)
    tracking: TrackingSettings = field(default_factory=TrackingSettings)

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
