"""The consoles every terminal view prints to: results on stdout, problems on stderr.

On a terminal, output fits the terminal's width (Rich wraps and shortens table cells). When
the output is not a terminal (a pipe, a file, CI), nothing is cut: each print is as wide as
its content needs (a table with long values prints them whole), while rules, panels and short
text keep the usual width (80 columns, or ``COLUMNS``).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.measure import Measurement

__all__ = ["MAX_WIDTH", "ResultConsole", "console", "err_console"]

MAX_WIDTH = 100_000
"""The widest a line printed to a non-terminal can get (a guard, not a layout width)."""


class ResultConsole(Console):
    """A Rich console that never cuts values when its output is not a terminal.

    Example
    -------
    >>> import io
    >>> from rich.table import Table
    >>> out = ResultConsole(file=io.StringIO(), width=40)
    >>> table = Table("key", "value")
    >>> table.add_row("k", "v" * 100)
    >>> out.print(table)
    >>> "v" * 100 in out.file.getvalue()
    True
    """

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """Print as :meth:`rich.console.Console.print`; on a non-terminal, as wide as needed."""
        if self.is_terminal or kwargs.get("width") is not None or not objects:
            super().print(*objects, **kwargs)
            return
        natural = self._natural_width(objects, kwargs)
        if natural <= self.width:
            super().print(*objects, **kwargs)
            return
        with self._lock:
            saved = self._width
            self._width = natural
            try:
                super().print(*objects, **kwargs)
            finally:
                self._width = saved

    def _natural_width(self, objects: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        """The width the objects need to print uncut (0 when they fill any width given)."""
        options = self.options.update(max_width=MAX_WIDTH)
        if all(isinstance(o, str) for o in objects):
            text = kwargs.get("sep", " ").join(objects)
            markup = kwargs.get("markup")
            objects = (self.render_str(text, markup=markup, highlight=False),)
        widest = 0
        for renderable in objects:
            try:
                measured = Measurement.get(self, options, renderable).maximum
            except Exception:  # a renderable that cannot be measured prints at the usual width
                measured = 0
            if measured >= MAX_WIDTH:  # it fills whatever width it gets: keep the usual one
                measured = 0
            widest = max(widest, measured)
        return widest


console = ResultConsole()
err_console = ResultConsole(stderr=True)
