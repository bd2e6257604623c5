"""Project settings: ``cairn.yaml`` with ``CAIRN_<SECTION>__<KEY>`` environment overrides,
typed and bounded by pydantic models.

* :mod:`~cairn.core.settings.sections`: one frozen model per section of ``cairn.yaml``.
* :mod:`~cairn.core.settings.model`: :class:`Settings`, its sources and their precedence.
* :mod:`~cairn.core.settings.messages`: a ValidationError as one line naming the key.
* :mod:`~cairn.core.settings.process`: ``CAIRN_USER``/``CAIRN_REPO`` and the only
  ``os.environ`` read.
* :mod:`~cairn.core.settings.reference`: every setting, for the docs.

Importing this package imports pydantic; ``cairn.core`` itself does not.
"""

from __future__ import annotations

from cairn.core.settings.fields import STATE_DIR
from cairn.core.settings.model import CONFIG_FILE, Settings
from cairn.core.settings.process import (
    PROCESS_ENV,
    ProcessSettings,
    environment,
    process_env,
    process_settings,
)
from cairn.core.settings.reference import settings_reference
from cairn.core.settings.sections import (
    Durability,
    MetadataSettings,
    MonitoringSettings,
    OfflineSettings,
    OnlineSettings,
    RetrainingSettings,
    ServingSettings,
    StreamingSettings,
    TrackingSettings,
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
