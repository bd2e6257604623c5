"""``Settings``: ``cairn.yaml``, overridden by ``CAIRN_<SECTION>__<KEY>`` environment variables.

Precedence, highest first: ``CAIRN_<SECTION>__<KEY>``, a legacy name (``CAIRN_SHADOW_QUEUE``,
...), ``cairn.yaml``, the default. Names match in any case. A file holding only
``project: NAME`` is a complete configuration.

``database`` (or ``CAIRN_DATABASE_URL``) is the one setting that puts every database of the
project on one server: it is the default of ``metadata.url`` (definitions, quality and
monitoring history, rollouts, audit log, tokens, retraining ledger) and of ``tracking.uri``
(MLflow's tracking store, and its registry unless ``tracking.registry_uri`` is set). A key
given explicitly, in the file or the environment, still wins over it.

Example
-------
>>> s = Settings.from_mapping({"project": "credit", "offline": {"memory_limit": "1GB"}}, env={
...     "CAIRN_OFFLINE__THREADS": "2", "CAIRN_SHADOW_QUEUE": "500"})
>>> s.project, s.offline.memory_limit, s.offline.threads, s.serving.shadow_queue
('credit', '1GB', 2, 500)
>>> s = Settings.from_mapping({"project": "credit"}, env={
...     "CAIRN_DATABASE_URL": "postgresql+psycopg://cairn@db/cairn"})
>>> s.metadata.url, s.tracking.uri
('postgresql+psycopg://cairn@db/cairn', 'postgresql+psycopg://cairn@db/cairn')
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from cairn.core.errors import ConfigError
from cairn.core.settings.fields import BlankIsNone, aliases_of, invalid, setting
from cairn.core.settings.messages import ENV_PREFIX, NESTED, sentences
from cairn.core.settings.process import process_env
from cairn.core.settings.sections import (
    SECTIONS,
    AuditSettings,
    AuthSettings,
    MetadataSettings,
    MonitoringSettings,
    OfflineSettings,
    OnlineSettings,
    RetrainingSettings,
    ServingSettings,
    StreamingSettings,
    TrackingSettings,
)

CONFIG_FILE = "cairn.yaml"
"""The project file, at the root of the project folder."""
DATABASE_ENV = "CAIRN_DATABASE_URL"
"""The variable of the ``database`` setting."""
DATABASE_KEYS = (("metadata", "url"), ("tracking", "uri"))
"""The keys whose default ``database`` is (``tracking.registry_uri`` follows ``tracking.uri``)."""
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*$"


@dataclass(frozen=True)
class _Loading:
    data: Mapping[str, Any]
    env: Mapping[str, str]
    source: str | None


_LOADING: ContextVar[_Loading | None] = ContextVar("cairn_settings_loading", default=None)


class Settings(BaseSettings):
    """All of a project's settings, typed and validated once (frozen)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED,
        case_sensitive=False,
        extra="forbid",
        frozen=True,
        coerce_numbers_to_str=True,
    )

    project: Annotated[str, Field(pattern=NAME_PATTERN)] = Field(
        description="The project's name: letters, digits, '_' or '-' (required).",
        json_schema_extra={"expected": "a name of letters, digits, '_' or '-'"},
    )
    database: Annotated[str | None, BlankIsNone] = setting(
        None,
        "One SQLAlchemy URL for every database of the project (e.g. "
        "postgresql+psycopg://cairn@db:5432/cairn): the default of metadata.url and "
        "tracking.uri (MLflow's tracking and registry store); unset: an SQLite file each under "
        ".cairn/. An explicit metadata.url, tracking.uri or tracking.registry_uri wins.",
        aliases=(DATABASE_ENV,),
        expected="a database URL such as postgresql+psycopg://user@host:5432/db",
    )
    metadata: MetadataSettings = Field(default_factory=MetadataSettings)
    offline: OfflineSettings = Field(default_factory=OfflineSettings)
    online: OnlineSettings = Field(default_factory=OnlineSettings)
    tracking: TrackingSettings = Field(default_factory=TrackingSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    serving: ServingSettings = Field(default_factory=ServingSettings)
    streaming: StreamingSettings = Field(default_factory=StreamingSettings)
    retraining: RetrainingSettings = Field(default_factory=RetrainingSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)

    def __init__(self, **values: Any) -> None:
        loading = _LOADING.get()
        try:
            super().__init__(**values)
        except ValidationError as exc:
            env = process_env() if loading is None else loading.env
            source = None if loading is None else loading.source
            lines = sentences(exc, type(self), source=source, env=env)
            raise ConfigError(" ".join(lines), tuple(lines)) from None
        except SettingsError as exc:  # a source failed before validation
            raise ConfigError(f"{exc}: {exc.__cause__}".replace("\n", " ")) from None

    @field_validator(*SECTIONS, mode="before")
    @classmethod
    def _empty_section(cls, value: Any) -> Any:
        return {} if value is None else value  # ``offline:`` with nothing under it

    @model_validator(mode="after")
    def _database_url(self) -> Self:
        url = self.database
        if url is not None and "://" not in url:
            shown = f"***@{url.rpartition('@')[2]}" if "@" in url else url  # may hold a password
            raise invalid(
                "database", "a database URL such as postgresql+psycopg://user@host:5432/db", shown
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _one_database(cls, data: Any) -> Any:
        """``database`` fills ``metadata.url`` and ``tracking.uri`` where neither the file nor
        the environment gives them."""
        if not isinstance(data, Mapping):
            return data
        url = data.get("database")
        if not isinstance(url, str) or url.strip().lower() in ("", "none") or "://" not in url:
            return data  # unset, or invalid (its own validator says so)
        out = dict(data)
        for section, key in DATABASE_KEYS:
            given = out.get(section)
            if given is None:
                given = {}
            if isinstance(given, Mapping) and given.get(key) in (None, ""):
                out[section] = {**given, key: url}
        return out

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keyword arguments, then the environment, then ``cairn.yaml`` (no .env, no secrets
        folder)."""
        loading = _LOADING.get()
        env = process_env() if loading is None else loading.env
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            _NestedEnv(settings_cls, env),
            _LegacyEnv(settings_cls, env),
        ]
        if loading is not None:
            sources.append(InitSettingsSource(settings_cls, init_kwargs=dict(loading.data)))
        return tuple(sources)

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, Any],
        *,
        env: Mapping[str, str] | None = None,
        source: str = CONFIG_FILE,
    ) -> Settings:
        """Settings from a parsed ``cairn.yaml`` mapping, overridden by ``env`` (default: this
        process's environment; a mapping given is read instead of it)."""
        if not isinstance(data, Mapping):
            raise ConfigError(
                f"{source} must be a mapping with at least 'project: NAME'; "
                f"got {type(data).__name__}."
            )
        given: dict[str, Any] = {}
        for key, value in data.items():  # YAML keys may be numbers; names are strings
            if str(key) in SECTIONS and isinstance(value, Mapping):
                value = {str(k): v for k, v in value.items()}
            elif str(key) in SECTIONS and value is not None:  # before env can replace it
                raise ConfigError(f"{source}: {key} must be a mapping; got {value!r}.")
            given[str(key)] = value
        with _loading(given, process_env() if env is None else env, source):
            return cls()

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
            detail = " ".join(str(exc).split())
            raise ConfigError(f"{path} is not valid YAML: {detail}") from None
        return cls.from_mapping(data, env=env, source=str(path))


@contextmanager
def _loading(data: Mapping[str, Any], env: Mapping[str, str], source: str) -> Iterator[None]:
    token = _LOADING.set(_Loading(data, env, source))
    try:
        yield
    finally:
        _LOADING.reset(token)


def _is_nested(name: str) -> bool:
    upper = name.upper()
    return upper.startswith(ENV_PREFIX) and NESTED in upper[len(ENV_PREFIX) :]


class _NestedEnv(EnvSettingsSource):
    """``CAIRN_<SECTION>__<KEY>`` from a given mapping. ``CAIRN_PROJECT`` and whole sections
    as JSON (``CAIRN_OFFLINE={...}``) are not read: the project's name is its identity."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._given = {k: v for k, v in env.items() if _is_nested(k)}
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return {k if self.case_sensitive else k.lower(): v for k, v in self._given.items()}

    def __call__(self) -> dict[str, Any]:
        for name in self._given:  # a misspelt section is an error, not a silent no-op
            section = name[len(ENV_PREFIX) :].split(NESTED, 1)[0].lower()
            if section not in SECTIONS:
                raise ConfigError(
                    f"{name}: unknown section {section!r}; the sections are "
                    f"{', '.join(sorted(SECTIONS))} (CAIRN_<SECTION>__<KEY>)."
                )
        return super().__call__()

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return super().decode_complex_value(field_name, field, value)
        except ValueError:  # not JSON: validation then names the variable and the key
            return value


class _LegacyEnv(PydanticBaseSettingsSource):
    """The names ``cairn serve`` read before the ``serving`` section (``CAIRN_SHADOW_QUEUE``,
    ...), declared as ``aliases`` on the fields, and the variable of a top-level key
    (``CAIRN_DATABASE_URL``); an empty variable counts as unset."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._env = {name.upper(): value for name, value in env.items() if value}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # __call__ reads the section fields directly

    def __call__(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, info in self.settings_cls.model_fields.items():  # ``database``
            for alias in aliases_of(info):
                if name not in SECTIONS and alias.upper() in self._env:
                    found[name] = self._env[alias.upper()]
        for section, model in SECTIONS.items():
            for name, info in model.model_fields.items():
                for alias in aliases_of(info):
                    if alias.upper() in self._env:
                        found.setdefault(section, {})[name] = self._env[alias.upper()]
        return found
