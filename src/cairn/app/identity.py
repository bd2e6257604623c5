"""Who is acting: the name recorded as author or actor (``CAIRN_USER``, else the OS user)."""

from __future__ import annotations

import getpass

from cairn.core.config import process_settings


def current_user() -> str:
    """Who is acting: ``CAIRN_USER`` or the OS user (``unknown`` when neither is known).

    Example
    -------
    >>> isinstance(current_user(), str)
    True
    """
    user = process_settings().user
    if user:
        return user
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"
