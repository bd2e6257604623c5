"""One line per invalid configuration: pydantic's ValidationError, said the way the user wrote
the value (``monitoring.psi_drift`` in ``cairn.yaml``, or the environment variable's name).

Example
-------
>>> from pydantic import ValidationError
>>> from cairn.core.settings.sections import ServingSettings
>>> try:
...     ServingSettings.model_validate({"shadow_queue": "abc"})
... except ValidationError as exc:
...     print(one_line(exc, ServingSettings, prefix=("serving",), env={
...         "CAIRN_SERVING__SHADOW_QUEUE": "abc"}))
CAIRN_SERVING__SHADOW_QUEUE (serving.shadow_queue) must be an integer of at least 1; got 'abc'.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from cairn.core.settings.schema import FieldSpec, field_specs

CUSTOM_ERROR = "cairn_setting"
"""The error type of :func:`cairn.core.settings.fields.invalid`: its context carries ``key``,
``expected`` and ``got``."""
ENV_PREFIX = "CAIRN_"
NESTED = "__"
_BOUNDS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}
_MAPPING = {"model_type", "model_attributes_type", "dict_type"}


def one_line(
    exc: ValidationError,
    model: type[BaseModel],
    *,
    prefix: tuple[str, ...] = (),
    source: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Every error of ``exc`` as one sentence, joined on one line.

    ``model`` is the validated model, ``prefix`` its key path (a section built by hand),
    ``source`` the file the values came from and ``env`` the environment that overrode them
    (a key set there is named by its variable).
    """
    return " ".join(sentences(exc, model, prefix=prefix, source=source, env=env))


def sentences(
    exc: ValidationError,
    model: type[BaseModel],
    *,
    prefix: tuple[str, ...] = (),
    source: str | None = None,
    env: Mapping[str, str] | None = None,
) -> list[str]:
    """Every error of ``exc`` as one sentence each, duplicates removed (see :func:`one_line`)."""
    specs = field_specs(model)
    lines: list[str] = []
    for error in exc.errors(include_url=False):
        line = _sentence(error, specs, prefix, source, env)
        if line not in lines:
            lines.append(line)
    return lines


def env_name(
    path: tuple[str, ...], aliases: tuple[str, ...], env: Mapping[str, str] | None
) -> str | None:
    """The variable of ``env`` that set ``path`` (``CAIRN_SERVING__SHADOW_QUEUE``, or a
    legacy alias such as ``CAIRN_SHADOW_QUEUE``), as spelled there; None when none did."""
    if env is None:
        return None
    names = {name.upper(): name for name in env}
    for depth in range(len(path), 1, -1):
        found = names.get(ENV_PREFIX + NESTED.join(path[:depth]).upper())
        if found is not None:
            return found
    for alias in aliases:
        found = names.get(alias.upper())
        if found is not None and env[found]:
            return found
    return None


def _sentence(
    error: ErrorDetails,
    specs: Mapping[tuple[str, ...], FieldSpec],
    prefix: tuple[str, ...],
    source: str | None,
    env: Mapping[str, str] | None,
) -> str:
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    loc = tuple(str(part) for part in error["loc"])
    if kind == CUSTOM_ERROR:
        loc, value = (*loc, *str(ctx["key"]).split(".")), ctx["got"]
    spec = next((specs[loc[:d]] for d in range(len(loc), 0, -1) if loc[:d] in specs), None)
    path = (*prefix, *loc)
    key = ".".join(path)
    variable = env_name(path, spec.aliases if spec else (), env)
    at = f"{source}: " if source and not variable else ""
    if kind == "extra_forbidden":
        depth = len(loc) - 1
        allowed = sorted({p[depth] for p in specs if len(p) > depth and p[:depth] == loc[:-1]})
        inside = f" in {'.'.join(path[:-1])}" if len(path) > 1 else ""
        return (
            f"{variable + ': ' if variable else at}unknown key {path[-1]!r}{inside}; "
            f"allowed keys are {', '.join(allowed)}."
        )
    if kind == "missing":
        example = " (e.g. 'project: credit')" if key == "project" else ""
        return f"{at}the key {key!r} is required{example}."
    where = f"{variable} ({key})" if variable else f"{at}{key}"
    if kind == CUSTOM_ERROR:
        return f"{where} must be {ctx['expected']}; got {_show(value)}."
    if spec is None and kind in _MAPPING:  # a whole section
        return f"{where} must be a mapping; got {_show(value)}."
    if spec is None:
        return f"{where}: {error['msg']}; got {_show(value)}."
    if spec.secret:
        return f"{where} must be {spec.expected()}; got a {type(value).__name__} (not shown)."
    if kind in _BOUNDS:
        return f"{where} must be {spec.bounds()}; got {_show(_typed(spec, value))}."
    return f"{where} must be {spec.expected()}; got {_show(value)}."


def _typed(spec: FieldSpec, value: Any) -> Any:
    # a YAML 2 for a number shows as 2.0 (what was compared); an environment string as written
    if isinstance(value, str):
        return value
    try:
        return float(value) if spec.json_type == "number" else value
    except (TypeError, ValueError):
        return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
