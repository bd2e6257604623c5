"""Rich progress for anything that takes more than a second."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def spinner(label: str) -> Iterator[None]:
    """Show ``label`` with a spinner and the elapsed time while the block runs."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from cairn.ui.terminal.console import console

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        progress.add_task(label, total=None)
        yield
