"""The command line: Typer commands that parse, call :mod:`cairn.app`, and print with Rich."""

from __future__ import annotations
