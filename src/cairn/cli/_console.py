"""Shared CLI plumbing: the consoles, the exit-code contract, the --repo option, time parsing.

Every ``cairn`` command ends with one of three codes, and this module is the one place that
decides which (:func:`exit_code`):

- :data:`EXIT_OK` (0): done;
- :data:`EXIT_NO` (1): a check or gate said no (a quality halt, drift with
  ``--fail-on-signal``, a broken audit chain, invalid project files, online/offline
  mismatches) or a governance refusal (four eyes, self-approval, a missing approval, a role
  too low): the input was fine, the answer is no;
- :data:`EXIT_BAD` (2): bad input or usage (a missing file, an invalid configuration, an
  unknown name, no token or one that proves nobody); Click's usage errors are 2 as well.

A command says no by raising :class:`CheckFailed`; :func:`one_line_errors` turns it and
Cairn's errors into one line on stderr and the code. An exception that is no user error (a
bug) prints its traceback and exits :data:`EXIT_BUG` (3), never 1, so a crash is never taken
for a gate that said no.

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

__all__ = [
    "EXIT_BAD",
    "EXIT_BUG",
    "EXIT_NO",
    "EXIT_OK",
    "CheckFailed",
    "RepoOption",
    "console",
    "err_console",
    "exit_code",
    "fail",
    "one_line_errors",
    "parse_time",
]

EXIT_OK = 0
"""The command did what was asked (a check that passed included)."""
EXIT_NO = 1
"""A check or gate said no, or a governance rule or role refused: the input was fine."""
EXIT_BAD = 2
"""Bad input or usage: the message names the input, what was expected and what was given."""
EXIT_BUG = 3
"""An unexpected error (a bug in Cairn): the traceback is printed for a bug report."""

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


class CheckFailed(Exception):
    """A check or gate said no (exit :data:`EXIT_NO`). ``message`` is the one-line verdict
    printed on stderr; empty when the command already printed it.

    Example
    -------
    >>> exit_code(CheckFailed("suite 'orders' halted"))
    1
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


def exit_code(exc: BaseException) -> int:
    """The code an exception escaping a command ends it with (the one mapping of the contract).

    Example
    -------
    >>> from cairn.quality.errors import QualityGateError
    >>> halted = QualityGateError("halt", None)  # type: ignore[arg-type]
    >>> exit_code(ConfigError("x")), exit_code(halted), exit_code(TypeError())
    (2, 1, 3)
    """
    from cairn.auth.principal import AccessDeniedError, AuthenticationError
    from cairn.quality.errors import QualityGateError
    from cairn.registry.artifact_trust import ArtifactTamperedError
    from cairn.registry.errors import AuditTamperedError, GovernanceError

    if isinstance(exc, CheckFailed):
        return EXIT_NO
    if isinstance(exc, AuthenticationError):  # no token, or one that proves nobody
        return EXIT_BAD
    refused = QualityGateError | GovernanceError | AccessDeniedError | AuditTamperedError
    if isinstance(exc, refused | ArtifactTamperedError):
        return EXIT_NO
    if isinstance(exc, CairnError | OSError | KeyError | ValueError | _yaml_error()):
        return EXIT_BAD
    return EXIT_BUG


def _yaml_error() -> type[Exception]:
    import yaml

    return yaml.YAMLError


def fail(message: str, code: int = EXIT_BAD) -> typer.Exit:
    """Print one red ``error:`` line and return the Exit (``code``) to raise."""
    from rich.markup import escape

    from cairn.ui.terminal.console import err_console

    # the message is data (a regex, a path, a value with brackets), never Rich markup
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def one_line_errors(fn: F) -> F:
    """End the command by the exit-code contract: :class:`CheckFailed` and refusals → 1 with
    one line, Cairn's errors and other bad input → 2 with one line, a bug → 3 with its
    traceback (:func:`exit_code`). Every command of the ``cairn`` app is wrapped in it."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except _PASS_THROUGH:
            raise
        except CheckFailed as exc:
            if not exc.message:
                raise typer.Exit(EXIT_NO) from None
            raise fail(exc.message, code=EXIT_NO) from None
        except Exception as exc:
            code = exit_code(exc)
            if code == EXIT_BUG:
                import traceback

                traceback.print_exc()
                raise fail(
                    f"unexpected {type(exc).__name__} (a bug in Cairn): {exc}", code
                ) from None
            raise fail(_message(exc), code) from None

    wrapper.exit_contract = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def _message(exc: Exception) -> str:
    text = str(exc).strip("'\"")
    if isinstance(exc, CairnError | FileNotFoundError | KeyError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _pass_through() -> tuple[type[BaseException], ...]:
    """What Typer already turns into a code (typer.Exit, usage errors, Abort): never remapped."""
    from typer._click.exceptions import ClickException
    from typer.exceptions import Abort, Exit, TyperException

    return (Exit, Abort, ClickException, TyperException)


_PASS_THROUGH = _pass_through()


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
