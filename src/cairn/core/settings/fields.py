"""The building blocks of the settings sections: typed numbers, blank-means-none, the base
section model and the one custom validation error.

Bounds are declared on the types (``Annotated[int, Field(ge=1), NotBool]``), so the JSON schema,
the error messages and the generated reference all read them from one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from cairn.core.errors import ConfigError
from cairn.core.settings.messages import CUSTOM_ERROR, one_line

STATE_DIR = ".cairn"
"""The project's state folder, relative to the project root."""


def invalid(key: str, expected: str, got: Any) -> PydanticCustomError:
    """A validation error for ``key`` (relative to the model or field being validated) that
    :func:`cairn.core.settings.messages.one_line` renders as ``KEY must be EXPECTED; got GOT.``"""
    return PydanticCustomError(
        CUSTOM_ERROR, "{key} must be {expected}", {"key": key, "expected": expected, "got": got}
    )


def _not_bool(value: Any) -> Any:
    # pydantic's lax mode reads True as 1; a YAML ``yes`` is never meant as a number
    if isinstance(value, bool):
        raise PydanticCustomError("bool_not_number", "a boolean is not a number")
    return value


def _blank_is_none(value: Any) -> Any:
    # an environment variable cannot be null: "" and "none" stand for it
    if isinstance(value, str) and value.strip().lower() in ("", "none"):
        return None
    return value


NotBool = BeforeValidator(_not_bool)
"""On a number, after its bounds (``Annotated[int, Field(ge=1), NotBool]``: bounds first, so
they stay in the JSON schema): ``True`` is refused, ``"3"`` from the environment is 3."""
Int = Annotated[int, NotBool]
"""An unbounded integer (``1.5`` is refused too)."""
BlankIsNone = BeforeValidator(_blank_is_none)
"""On an optional field: ``""`` and ``"none"`` (any case) read as None."""


def setting(
    default: Any = ...,
    description: str = "",
    *,
    aliases: Sequence[str] = (),
    expected: str | None = None,
    default_factory: Any = None,
) -> Any:
    """A field with its description, its legacy environment names (``aliases``, read besides
    ``CAIRN_<SECTION>__<KEY>``) and, when type and bounds do not say it, the ``expected``
    phrase of its error message."""
    extra: dict[str, Any] = {}
    if aliases:
        extra["aliases"] = list(aliases)
    if expected:
        extra["expected"] = expected
    if default_factory is not None:
        return Field(
            default_factory=default_factory, description=description, json_schema_extra=extra
        )
    return Field(default, description=description, json_schema_extra=extra or None)


def aliases_of(info: FieldInfo) -> tuple[str, ...]:
    """The legacy environment names declared on a field with :func:`setting`."""
    extra = info.json_schema_extra
    names = extra.get("aliases") if isinstance(extra, dict) else None
    return tuple(str(n) for n in names) if isinstance(names, list) else ()


class Section(BaseModel):
    """A frozen, strictly keyed settings section; invalid values raise a one-line ConfigError
    naming ``<section>.<key>`` (also when built directly, e.g. ``MonitoringSettings(bins=1)``)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        coerce_numbers_to_str=True,  # ``memory_limit: 2`` is "2", as before
        allow_inf_nan=False,
        validate_default=False,
    )

    section: ClassVar[str] = ""
    """The key of this section in ``cairn.yaml``."""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigError(one_line(exc, type(self), prefix=(self.section,))) from None

    # Validated as a field of Settings, pydantic builds the section itself and reports every
    # error at its full path; this wrapper only runs when a section is built by hand.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied and validated again (the section is frozen).

        Example
        -------
        >>> from cairn.core.settings import OnlineSettings
        >>> OnlineSettings().replace(timeout_ms=250).timeout_ms
        250
        """
        current = {name: getattr(self, name) for name in type(self).model_fields}
        return type(self)(**{**current, **changes})
