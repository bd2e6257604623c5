"""Rich progress for anything that takes more than a second."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from cairn.cli._console import console


@contextmanager
def spinner(label: str) -> Iterator[None]:
    """Show ``label`` with a spinner and the elapsed time while the block runs."""
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        progress.add_task(label, total=None)
        yield
