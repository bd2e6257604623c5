"""Name rules shared by every definition (names reach SQL, so they are validated)."""

from __future__ import annotations

import re

from cairn.core.errors import DefinitionError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_name(value: object, owner: str) -> str:
    """Return ``value`` if it is an identifier-like name, else raise naming ``owner``."""
    if not isinstance(value, str) or not _NAME.match(value):
        raise DefinitionError(
            f"{owner} must be a name of letters, digits and '_' not starting with a digit; "
            f"got {value!r}."
        )
    return value
