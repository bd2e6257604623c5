"""Shared CLI plumbing: the consoles, one-line errors, the --repo option, time parsing.

The consoles (Rich) load on first use, so ``cairn --help`` and ``cairn version`` never pay
for them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer

from cairn.core.errors import CairnError, ConfigError

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["RepoOption", "console", "err_console", "fail", "one_line_errors", "parse_time"]

F = TypeVar("F", bound=Callable[..., Any])

RepoOption = Annotated[
    Path, typer.Option("--repo", "-r", help="Project folder (holds cairn.yaml).", show_default=True)
]


class _Deferred:
    """Stands for one of :mod:`cairn.ui.terminal.console`'s consoles until first used."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        from cairn.ui.terminal import console as consoles

        return getattr(getattr(consoles, self._name), attr)


console = cast("Console", _Deferred("console"))
"""Results (stdout); the same console as :data:`cairn.ui.terminal.console.console`."""
err_console = cast("Console", _Deferred("err_console"))
"""Problems (stderr)."""


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print one red line and return the Exit to raise."""
    from rich.markup import escape

    from cairn.ui.terminal.console import err_console

    # the message is data (a regex, a path, a value with brackets), never Rich markup
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def one_line_errors(fn: F) -> F:
    """Turn Cairn's errors (bad input) into one clear line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (CairnError, FileNotFoundError, KeyError) as exc:
            raise fail(str(exc).strip("'\"")) from None

    return wrapper  # type: ignore[return-value]


def parse_time(value: str, name: str) -> datetime:
    """An ISO 8601 time with a zone (``2026-03-01T00:00:00Z``), or ``now``."""
    if value.strip().lower() == "now":
        from cairn.core.timeutil import utcnow

        return utcnow()
    try:
        ts = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(
            f"{name} must be an ISO 8601 time like 2026-03-01T00:00:00Z or 'now'; got {value!r}."
        ) from None
    if ts.tzinfo is None:
        raise ConfigError(
            f"{name} must include a zone (e.g. 2026-03-01T00:00:00Z); got the naive {value!r}."
        )
    return ts
