"""Rollout changes for a terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.markup import escape

from cairn.rollouts.requests import RolloutUpdate
from cairn.ui.terminal.console import console, err_console

if TYPE_CHECKING:
    pass


def print_update(done: RolloutUpdate, verb: str) -> None:
    """One line for the stored rollout, then any notes."""
    spec = done.spec
    shares = spec.weights()
    weights = ", ".join(f"{a.name} {a.model} {shares[a.name]:.0%}" for a in spec.arms)
    shadows = f"; shadows {', '.join(spec.shadows)}" if spec.shadows else ""
    console.print(
        f"{spec.deployment}: {verb} -> {spec.strategy} ({spec.state}) v{spec.version}: "
        f"{weights}{shadows}",
        highlight=False,
    )
    for note in done.notes:
        err_console.print(f"[yellow]note:[/] {escape(note)}", highlight=False)
