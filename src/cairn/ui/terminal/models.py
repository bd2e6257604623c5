"""Registry results for a terminal."""

from __future__ import annotations

from cairn.registry.aliases import AliasMove
from cairn.registry.promotion import Promotion
from cairn.ui.terminal.console import console, err_console


def print_promotion(done: Promotion) -> None:
    """One line per alias move (or that nothing changed)."""
    for note in done.notes:
        err_console.print(f"[yellow]warning:[/] {note}")
    if not done.moves:
        console.print(f"{done.model}@{done.alias} is already v{done.version}; nothing moved.")
        return
    for m in done.moves:
        console.print(
            f"{m.model}@{m.alias}: {version_text(m.previous)} -> "
            f"{version_text(m.version)} ({m.reason})"
        )
    if len(done.approvals) > 1 and done.alias == "champion":
        by = ", ".join(f"{a.reviewer} ({a.ticket}, {a.at:%Y-%m-%d})" for a in done.approvals)
        console.print(f"Approved by {by}.")
    elif done.approval is not None and done.alias == "champion":
        a = done.approval
        console.print(f"Approved by {a.reviewer} under {a.ticket} on {a.at:%Y-%m-%d}.")


def move_row(m: AliasMove) -> tuple[str, ...]:
    """One alias move as table cells: when, alias, from, to, who, why."""
    return (
        f"{m.at:%Y-%m-%d %H:%M:%S}",
        m.alias,
        version_text(m.previous),
        version_text(m.version),
        m.actor,
        m.reason,
    )


def version_text(version: str | None) -> str:
    return "-" if version is None else f"v{version}"
