"""Settings as pydantic-settings models: precedence, legacy names, bounds, one-line errors,
secrets and the generated reference."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cairn.core.config import (
    MonitoringSettings,
    OnlineSettings,
    ServingSettings,
    Settings,
    process_settings,
    settings_reference,
)
from cairn.core.errors import ConfigError
from cairn.core.settings.schema import field_specs

PROJECT = {"project": "credit"}


def load(data: dict[str, Any] | None = None, /, **env: str) -> Settings:
    return Settings.from_mapping({**PROJECT, **(data or {})}, env=env, source="cairn.yaml")


def error(data: dict[str, Any] | None = None, /, **env: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(data, **env)
    message = str(info.value)
    assert "\n" not in message and message.endswith(".")
    return message


def test_defaults_of_the_serving_section() -> None:
    serving = load().serving
    assert (serving.durability, serving.admin_token, serving.admin_tokens) == ("write", None, None)
    assert (serving.model_poll_seconds, serving.rollout_poll_seconds) == (10.0, 1.0)
    assert (serving.shadow_queue, serving.max_entities, serving.max_features) == (10_000,) * 2 + (
        1_000,
    )
    assert serving.max_body_bytes == 8 * 1024 * 1024


def test_precedence_is_env_then_file_then_default() -> None:
    data = {"offline": {"threads": 1, "memory_limit": "1GB"}, "serving": {"shadow_queue": 7}}
    s = load(data, CAIRN_OFFLINE__THREADS="2")
    assert (s.offline.threads, s.offline.memory_limit, s.offline.temp_directory) == (
        2,
        "1GB",
        ".cairn/tmp",
    )
    assert s.serving.shadow_queue == 7
    assert load(data, CAIRN_SHADOW_QUEUE="9").serving.shadow_queue == 9


def test_env_names_match_in_any_case() -> None:
    assert load(cairn_serving__shadow_queue="3").serving.shadow_queue == 3
    assert load(Cairn_Shadow_Queue="4").serving.shadow_queue == 4


def test_an_env_mapping_replaces_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAIRN_SERVING__SHADOW_QUEUE", "abc")
    assert load().serving.shadow_queue == 10_000  # env={} given: os.environ is not read
    monkeypatch.setenv("CAIRN_SERVING__SHADOW_QUEUE", "12")
    assert Settings.from_mapping(PROJECT).serving.shadow_queue == 12


@pytest.mark.parametrize(
    ("legacy", "key", "raw", "value"),
    [
        ("CAIRN_LOG_DURABILITY", "durability", "fsync", "fsync"),
        ("CAIRN_MODEL_POLL_SECONDS", "model_poll_seconds", "2.5", 2.5),
        ("CAIRN_ROLLOUT_POLL_SECONDS", "rollout_poll_seconds", "0.2", 0.2),
        ("CAIRN_SHADOW_QUEUE", "shadow_queue", "50", 50),
    ],
)
def test_legacy_names_are_aliases(legacy: str, key: str, raw: str, value: object) -> None:
    assert getattr(load(**{legacy: raw}).serving, key) == value
    canonical = f"CAIRN_SERVING__{key.upper()}"
    both = load(**{legacy: "garbage", canonical: raw})  # the canonical name wins
    assert getattr(both.serving, key) == value
    assert getattr(load(**{legacy: ""}).serving, key) == getattr(load().serving, key)


def test_legacy_admin_tokens_are_secrets() -> None:
    serving = load(CAIRN_ADMIN_TOKEN="root-789", CAIRN_ADMIN_TOKENS="viewer:v-123").serving
    assert serving.admin_token is not None and serving.admin_tokens is not None
    assert serving.admin_token.get_secret_value() == "root-789"
    assert serving.admin_tokens.get_secret_value() == "viewer:v-123"
    assert load(CAIRN_ADMIN_TOKEN="").serving.admin_token is None


def test_secrets_never_print() -> None:
    s = load({"serving": {"admin_token": "file-secret"}}, CAIRN_ADMIN_TOKENS="viewer:env-secret")
    for text in (repr(s), str(s), repr(s.serving), str(s.model_dump())):
        assert "file-secret" not in text and "env-secret" not in text
    assert "file-secret" not in error({"serving": {"admin_token": ["file-secret"]}})


def test_shadow_queue_abc_is_one_line() -> None:
    assert error(CAIRN_SHADOW_QUEUE="abc") == (
        "CAIRN_SHADOW_QUEUE (serving.shadow_queue) must be an integer of at least 1; got 'abc'."
    )
    assert error(CAIRN_SERVING__SHADOW_QUEUE="abc") == (
        "CAIRN_SERVING__SHADOW_QUEUE (serving.shadow_queue) must be an integer of at least 1; "
        "got 'abc'."
    )


YAML = "cairn.yaml: "
ERRORS: list[tuple[dict[str, Any], dict[str, str], str]] = [
    (
        {"serving": {"shadow_queue": 0}},
        {},
        YAML + "serving.shadow_queue must be at least 1; got 0.",
    ),
    (
        {},
        {"CAIRN_MODEL_POLL_SECONDS": "0"},
        "CAIRN_MODEL_POLL_SECONDS (serving.model_poll_seconds) must be above 0; got '0'.",
    ),
    (
        {},
        {"CAIRN_LOG_DURABILITY": "sync"},
        "CAIRN_LOG_DURABILITY (serving.durability) must be write or fsync; got 'sync'.",
    ),
    (
        {"monitoring": {"completeness": 2}},
        {},
        YAML + "monitoring.completeness must be in (0, 1]; got 2.0.",
    ),
    (
        {"monitoring": {"psi_monitor": 0.3}},
        {},
        YAML + "monitoring.psi_monitor must be above 0, below psi_drift (0.25); got 0.3.",
    ),
    (
        {"monitoring": {"psi_drift": 0.05}},
        {},
        YAML + "monitoring.psi_drift must be above psi_monitor (0.1); got 0.05.",
    ),
    (
        {},
        {"CAIRN_MONITORING__BANDS__INCOME": "[0.3, 0.1]"},
        "CAIRN_MONITORING__BANDS__INCOME (monitoring.bands.income) must be [monitor, drift] PSI",
    ),
    (
        {},
        {"CAIRN_MONITORING__BANDS": "{oops"},
        "CAIRN_MONITORING__BANDS (monitoring.bands) must be a mapping",
    ),
    (
        {"online": {"timeout_ms": True}},
        {},
        YAML + "online.timeout_ms must be an integer of at least 1; got True.",
    ),
    ({"offline": {"threads": 1.5}}, {}, YAML + "offline.threads must be an integer; got 1.5."),
    ({"offline": {"engine": "sparky"}}, {}, YAML + "offline.engine must be duckdb or spark"),
    (
        {"offline": {"engine": "spark", "spark_master": "local[0]"}},
        {},
        YAML + "offline.spark_master must be a Spark master URL: local, local[N], local[*], "
        "spark://HOST:PORT, k8s://URL or yarn; got 'local[0]'.",
    ),
    (
        {},
        {"CAIRN_OFFLINE__BOGUS": "1"},
        "CAIRN_OFFLINE__BOGUS: unknown key 'bogus' in offline; "
        "allowed keys are engine, memory_limit, spark_driver_memory, spark_master, "
        "temp_directory, threads.",
    ),
    (
        {"serving": {"port": 1}},
        {},
        YAML + "unknown key 'port' in serving; allowed keys are admin_token,",
    ),
    ({}, {"CAIRN_OFLINE__THREADS": "1"}, "CAIRN_OFLINE__THREADS: unknown section 'ofline'"),
    (
        {"monitoring": {"bins": 1, "alpha": 1.5}},
        {},
        YAML
        + "monitoring.alpha must be in (0, 1); got 1.5. "
        + YAML
        + "monitoring.bins must be at least 2; got 1.",
    ),
]


@pytest.mark.parametrize(("data", "env", "message"), ERRORS)
def test_errors_name_the_key_as_written(
    data: dict[str, Any], env: dict[str, str], message: str
) -> None:
    assert error(data, **env).startswith(message)


def _bounded_numbers() -> list[tuple[str, str]]:
    specs = field_specs(Settings)
    return [
        (".".join(path), spec.json_type)
        for path, spec in specs.items()
        if spec.json_type in ("integer", "number") and spec.bounds()
    ]


def _within(limits: dict[str, Any], value: float) -> bool:
    return not (
        ("minimum" in limits and value < limits["minimum"])
        or ("exclusiveMinimum" in limits and value <= limits["exclusiveMinimum"])
        or ("maximum" in limits and value > limits["maximum"])
        or ("exclusiveMaximum" in limits and value >= limits["exclusiveMaximum"])
    )


BOUNDED = _bounded_numbers()
BAD_TEXT = st.sampled_from(["abc", "1e", "", " ", "ten", "0x10", "inf", "nan", "[1]", "{}", "1,5"])


@pytest.mark.parametrize(("key", "json_type"), BOUNDED)
@given(text=BAD_TEXT, number=st.floats(allow_nan=False, allow_infinity=False))
def test_every_bounded_number_refuses_bad_values(
    key: str, json_type: str, text: str, number: float
) -> None:
    path = key.split(".")  # section.key, or section.subsection.key (auth.oidc.leeway_s)
    spec = field_specs(Settings)[tuple(path)]
    variable = "CAIRN_" + "__".join(part.upper() for part in path)
    if not (spec.nullable and not text.strip()):  # blank resets an optional key to None
        message = error(**{variable: text})
        assert message.startswith(f"{variable} ({key}) must be ") and f"got {text!r}." in message
    value: float = number if json_type == "number" else round(number)
    inside = _within(spec.limits, value) and {
        "monitoring.psi_monitor": value < 0.25,  # below the default psi_drift
        "monitoring.psi_drift": value > 0.1,  # above the default psi_monitor
    }.get(key, True)
    data: dict[str, Any] = {path[-1]: value}
    for part in reversed(path[:-1]):
        data = {part: data}
    if inside:
        found: Any = load(data)
        for part in path:
            found = getattr(found, part)
        assert found == value
    else:
        assert error(data).startswith(f"cairn.yaml: {key} must be ")


def test_a_section_built_by_hand_raises_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"^monitoring\.bins must be at least 2; got 1\.$"):
        MonitoringSettings(bins=1)
    with pytest.raises(ConfigError, match="unknown key 'bogus' in monitoring"):
        MonitoringSettings(bogus=1)  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match=r"^serving\.shadow_queue must be an integer"):
        ServingSettings(shadow_queue="many")  # type: ignore[arg-type]


def test_sections_are_frozen_and_replace_validates() -> None:
    online = OnlineSettings()
    with pytest.raises(ValueError, match="frozen"):
        online.timeout_ms = 5
    assert online.replace(timeout_ms=250).timeout_ms == 250 and online.timeout_ms == 1000
    with pytest.raises(ConfigError, match=r"online\.timeout_ms must be at least 1; got 0\."):
        online.replace(timeout_ms=0)
    with pytest.raises(ValueError, match="frozen"):
        load().project = "other"
    hooked = MonitoringSettings(bands={"x": (0.1, 0.2)}).replace(webhook_url="http://h/x")
    assert hooked.webhook_url == "http://h/x" and hooked.bands == {"x": (0.1, 0.2)}
    assert not dataclasses.is_dataclass(hooked)  # dataclasses.replace does not apply


def test_project_name_is_not_read_from_the_environment() -> None:
    assert load(CAIRN_PROJECT="other", CAIRN_OFFLINE='{"threads": 3}').project == "credit"
    assert load(CAIRN_OFFLINE='{"threads": 3}').offline.threads is None


def test_empty_or_none_resets_an_optional_key() -> None:
    s = load({"monitoring": {"alpha": 0.01}}, CAIRN_MONITORING__ALPHA="none")
    assert s.monitoring.alpha is None
    assert load(CAIRN_MONITORING__NULL_SHARE="").monitoring.null_share is None
    assert load({"offline": None}).offline.threads is None  # an empty section is all defaults


def test_the_reference_lists_every_field() -> None:
    rows = settings_reference()
    keys = {row["key"] for row in rows}
    for section in (
        "metadata",
        "offline",
        "online",
        "tracking",
        "monitoring",
        "serving",
        "retraining",
    ):
        model = type(getattr(load(), section))
        assert {f"{section}.{name}" for name in model.model_fields} <= keys
    assert "project" in keys
    assert {row["env"] for row in rows if row["key"] is None} == {
        "CAIRN_USER",
        "CAIRN_REPO",
        "CAIRN_TOKEN",
    }
    aliases = {alias for row in rows for alias in row["aliases"]}
    assert aliases == {
        "CAIRN_LOG_DURABILITY",
        "CAIRN_ADMIN_TOKEN",
        "CAIRN_ADMIN_TOKENS",
        "CAIRN_MODEL_POLL_SECONDS",
        "CAIRN_ROLLOUT_POLL_SECONDS",
        "CAIRN_SHADOW_QUEUE",
    }
    assert all(row["description"] for row in rows)
    by_key = {row["key"]: row for row in rows}
    assert (
        by_key["serving.admin_token"]["secret"] and by_key["serving.admin_token"]["default"] is None
    )
    assert by_key["monitoring.completeness"]["bounds"] == "in (0, 1]"
    assert len(rows) == len(field_specs(Settings)) + 3  # CAIRN_USER, CAIRN_REPO, CAIRN_TOKEN


def test_process_variables(tmp_path: Path) -> None:
    assert process_settings({}).user is None and process_settings({}).repo == Path(".")
    got = process_settings({"CAIRN_USER": "ana", "cairn_repo": str(tmp_path)})
    assert (got.user, got.repo) == ("ana", tmp_path)


def test_process_and_test_variables_are_not_settings() -> None:
    s = load(CAIRN_USER="ana", CAIRN_REPO="/srv/p", CAIRN_TEST_POSTGRES_URL="postgresql://x")
    assert s == load()


def test_yaml_keys_that_are_not_strings_are_unknown_keys() -> None:
    data: dict[Any, Any] = {"project": "credit", 1: "x"}
    with pytest.raises(ConfigError, match=r"^cairn\.yaml: unknown key '1'; allowed keys are"):
        Settings.from_mapping(data, env={})
    data = {"project": "credit", "offline": {2: 3}}
    with pytest.raises(ConfigError, match=r"unknown key '2' in offline"):
        Settings.from_mapping(data, env={})


def test_broken_json_in_a_nested_variable_is_one_line() -> None:
    message = error(CAIRN_MONITORING__BANDS__INCOME="[0.3")
    assert message.startswith("CAIRN_MONITORING__BANDS__INCOME (monitoring.bands.income) must be")
