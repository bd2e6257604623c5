"""The reference of every setting, generated from the models' JSON schema (for the docs and
``cairn`` help pages).

Example
-------
>>> rows = {row["env"]: row for row in settings_reference()}
>>> row = rows["CAIRN_SERVING__SHADOW_QUEUE"]
>>> row["key"], row["type"], row["default"], row["bounds"], row["aliases"]
('serving.shadow_queue', 'integer', 10000, 'at least 1', ['CAIRN_SHADOW_QUEUE'])
>>> rows["CAIRN_USER"]["key"] is None  # a process variable, not a cairn.yaml key
True
>>> rows["CAIRN_DATABASE_URL"]["key"]
'database'
"""

from __future__ import annotations

from typing import Any

from cairn.core.settings.messages import ENV_PREFIX, NESTED
from cairn.core.settings.model import Settings
from cairn.core.settings.process import PROCESS_ENV, ProcessSettings
from cairn.core.settings.schema import field_specs


def settings_reference() -> list[dict[str, Any]]:
    """One row per setting, in declaration order: ``key`` (its path in ``cairn.yaml``; None for
    a process variable), ``env`` (its variable: ``CAIRN_<SECTION>__<KEY>``, or a top-level
    key's own, ``CAIRN_DATABASE_URL``; None for ``project``, which only the file sets),
    ``aliases`` (older variable names also read), ``type``, ``default``, ``bounds``
    (in words, empty when none), ``expected`` (as error messages say it), ``secret`` and
    ``description``."""
    rows: list[dict[str, Any]] = []
    for path, spec in field_specs(Settings).items():
        env: str | None = ENV_PREFIX + NESTED.join(path).upper()
        aliases = list(spec.aliases)
        if len(path) == 1:  # a top-level key: its own variable (``database``), or none
            env, aliases = (aliases[0], aliases[1:]) if aliases else (None, aliases)
        rows.append(
            {
                "key": ".".join(path),
                "env": env,
                "aliases": aliases,
                "type": spec.type_name(),
                "default": spec.default,
                "bounds": spec.bounds(),
                "expected": spec.expected(),
                "secret": spec.secret,
                "description": spec.description,
            }
        )
    for (name,), spec in field_specs(ProcessSettings).items():
        rows.append(
            {
                "key": None,
                "env": PROCESS_ENV[name],
                "aliases": [],
                "type": spec.type_name(),
                "default": spec.default,
                "bounds": "",
                "expected": spec.expected(),
                "secret": False,
                "description": spec.description,
            }
        )
    return rows
