"""The process environment: the only module of Cairn that reads ``os.environ``.

Project settings (``CAIRN_<SECTION>__<KEY>``) are read by :class:`~cairn.core.config.Settings`
through :func:`process_env`. Three variables describe the process rather than the project and
never appear in ``cairn.yaml``:

``CAIRN_USER``
    Who is acting, recorded in the audit trail (default: the OS user).
``CAIRN_TOKEN``
    The API token secret (or OIDC/JWT bearer token) the CLI's governance commands act with
    (``--token-file`` reads one from a file instead).
``CAIRN_REPO``
    The project folder of a ``cairn serve`` worker process (set by ``cairn serve`` for
    uvicorn's ``--factory`` entry point; default: the working directory).

Example
-------
>>> process_settings({"CAIRN_USER": "ana"})
ProcessSettings(user='ana', repo=PosixPath('.'))
>>> process_settings({"CAIRN_USER": ""}).user is None
True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

PROCESS_ENV = {"user": "CAIRN_USER", "repo": "CAIRN_REPO", "token": "CAIRN_TOKEN"}
"""The process variables by field of :class:`ProcessSettings`."""


class ProcessSettings(BaseModel):
    """Who runs this process and on which project folder (not part of ``cairn.yaml``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user: str | None = Field(
        None, description="Who is acting, recorded in the audit trail; unset: the OS user."
    )
    repo: Path = Field(
        Path("."),
        description="Project folder of a `cairn serve` worker (set by `cairn serve`).",
    )
    token: SecretStr | None = Field(
        None,
        repr=False,
        description="API token or OIDC/JWT the CLI's governance commands act with. Secret.",
    )


def process_env() -> Mapping[str, str]:
    """The environment of this process (``os.environ``, read live)."""
    return os.environ


def process_settings(env: Mapping[str, str] | None = None) -> ProcessSettings:
    """:class:`ProcessSettings` from ``env`` (default: this process's environment); names
    match in any case and an empty variable counts as unset."""
    given = {name.upper(): value for name, value in (process_env() if env is None else env).items()}
    values = {field: given[var] for field, var in PROCESS_ENV.items() if given.get(var)}
    return ProcessSettings.model_validate(values)


def environment(name: str, default: str | None = None) -> str | None:
    """One environment variable, read as is.

    Prefer the typed settings (``Settings.load(...).serving``, :func:`process_settings`);
    this stays for callers not moved to them yet.
    """
    return process_env().get(name, default)
