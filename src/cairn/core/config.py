"""Project settings: ``cairn.yaml`` with ``CAIRN_<SECTION>__<KEY>`` environment overrides.

A file holding only ``project: NAME`` is a complete configuration; everything else has a
default. The models live in :mod:`cairn.core.settings`; this module keeps their historical
import path. :mod:`cairn.core.settings.process` is the only module that reads ``os.environ``.

Example
-------
>>> s = Settings.from_mapping({"project": "credit", "offline": {"memory_limit": "1GB"}}, env={})
>>> s.project, s.offline.memory_limit, s.offline.threads
('credit', '1GB', None)
>>> Settings.from_mapping({"project": "credit"}, env={"CAIRN_SHADOW_QUEUE": "abc"})
Traceback (most recent call last):
...
cairn.core.errors.ConfigError: CAIRN_SHADOW_QUEUE (serving.shadow_queue) must be an integer of at least 1; got 'abc'.
"""  # noqa: E501

from __future__ import annotations

from cairn.core.settings import (
    CONFIG_FILE,
    PROCESS_ENV,
    STATE_DIR,
    Durability,
    MetadataSettings,
    MonitoringSettings,
    OfflineSettings,
    OnlineSettings,
    ProcessSettings,
    RetrainingSettings,
    ServingSettings,
    Settings,
    StreamingSettings,
    TrackingSettings,
    environment,
    process_env,
    process_settings,
    settings_reference,
)

__all__ = [
    "CONFIG_FILE",
    "PROCESS_ENV",
    "STATE_DIR",
    "Durability",
    "MetadataSettings",
    "MonitoringSettings",
    "OfflineSettings",
    "OnlineSettings",
    "ProcessSettings",
    "RetrainingSettings",
    "ServingSettings",
    "Settings",
    "StreamingSettings",
    "TrackingSettings",
    "environment",
    "process_env",
    "process_settings",
    "settings_reference",
]
