"""URLs safe to print: the one place that hides the secrets a connection URL may carry.

Database, Redis and tracking URLs carry a password in their user info
(``postgresql://user:secret@host/db``) or in a query parameter (``unix:///r.sock?password=x``);
webhook URLs often carry it in their path. :func:`redact_url` hides all of these, for error
messages and logs.

Plain string work, no parsing library: SQLAlchemy's ``make_url(...).render_as_string(
hide_password=True)`` hides a percent-encoded password, but it cuts a raw one at its first
``@`` (``u:pa@ss@h`` renders as ``u:***@ss@h``), fails on a raw ``pa@ss:w``, and leaves a
``password=`` query parameter in place; Redis and ``urllib`` take the *last* ``@`` of the
authority as the end of the user info, and so does this module.
"""

from __future__ import annotations

import re

__all__ = ["redact_url"]

HIDDEN = "***"
_SECRET_KEY = re.compile(r"pass|pwd|secret|token", re.IGNORECASE)


def redact_url(url: str, *, origin_only: bool = False) -> str:
    """``url`` with every password replaced by ``***``, or only its origin.

    Parameters
    ----------
    url:
        Any URL (SQLAlchemy, Redis, HTTP, ...). A password in the user info is hidden up to
        the last ``@`` before the query, so a raw ``@`` or ``:`` in it never shows; query
        parameters named like a secret (``password``, ``sslpassword``, ``token``, ...) are
        hidden too. A string that is not a URL comes back unchanged (it holds no user info).
    origin_only:
        Keep only ``scheme://host[:port]`` (for webhook URLs, whose paths often carry the
        secret).

    Example
    -------
    >>> redact_url("postgresql+psycopg://ana:pa@ss:w@db.example:5432/cairn")
    'postgresql+psycopg://ana:***@db.example:5432/cairn'
    >>> redact_url("rediss://:s3cret@cache:6380/0"), redact_url("sqlite:///.cairn/metadata.db")
    ('rediss://:***@cache:6380/0', 'sqlite:///.cairn/metadata.db')
    >>> redact_url("unix:///run/r.sock?password=x&db=1")
    'unix:///run/r.sock?password=***&db=1'
    >>> redact_url("https://bot:key@hooks.example:8443/T000/B000/XXXX", origin_only=True)
    'https://hooks.example:8443'
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        rest, scheme = url, ""
    head, qmark, query = rest.partition("?")
    user, at, location = head.rpartition("@") if sep else ("", "", head)
    if origin_only:
        host = location.split("/", 1)[0].split("#", 1)[0]
        return f"{scheme}://{host}" if sep else host
    if ":" in user:
        user = f"{user.split(':', 1)[0]}:{HIDDEN}"
    prefix = f"{scheme}://{user}{at}" if sep else ""
    return prefix + location + qmark + _hide_query_secrets(query)


def _hide_query_secrets(query: str) -> str:
    query, hash_mark, fragment = query.partition("#")
    fields = []
    for field in query.split("&"):
        key, eq, _value = field.partition("=")
        fields.append(f"{key}={HIDDEN}" if eq and _SECRET_KEY.search(key) else field)
    return "&".join(fields) + hash_mark + fragment
