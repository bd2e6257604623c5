"""Small Markdown helpers shared by the reference generators."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any


def prose(text: Any) -> str:
    """Plain text (or reST of a docstring) as Markdown: literals and roles as code spans, ``<``
    escaped outside them (``challenger-<name>`` is not an HTML tag)."""
    text = re.sub(r"\s*\((?:see )?DESIGN §[\d.]+\)", "", str(text))  # the docs stand alone
    text = re.sub(r":[a-z]+:`~([^`]+)`", lambda m: f"`{m[1].rsplit('.', 1)[-1]}`", text)
    text = re.sub(r":[a-z]+:`([^`]+)`", r"`\1`", text)  # reST roles of docstrings
    text = re.sub(r"``([^`]+)``", r"`\1`", text)  # reST literals
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(p if p.startswith("`") else p.replace("<", "&lt;") for p in parts)


def cell(text: Any) -> str:
    """A table cell: one line, pipes escaped, empty as an en dash."""
    if text is None or text == "":
        return "–"
    return prose(" ".join(str(text).split()).replace("|", "\\|"))


def code(text: Any) -> str:
    """Inline code that survives backticks inside the value."""
    value = " ".join(str(text).split())  # a pipe inside a code span does not split a cell
    if not value:
        return '`""`'
    if "`" in value:
        return f"`` {value} ``"
    return f"`{value}`"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table (cells already formatted)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def literal(value: Any) -> str:
    """A default or example value as inline code (JSON for containers)."""
    if isinstance(value, str):
        return code(value) if value else '`""`'
    try:
        return code(json.dumps(value, sort_keys=True, default=str))
    except TypeError:
        return code(repr(value))
