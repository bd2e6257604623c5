"""The consoles: fit the terminal on a terminal; print values whole when not on one, while
rules and panels keep the usual width."""

from __future__ import annotations

import io

from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table

from cairn.ui.terminal.console import ResultConsole, console, err_console

LONG = "v" * 300


def _table() -> Table:
    table = Table("key", "value")
    table.add_row("k", LONG)
    return table


def _lines(out: ResultConsole) -> list[str]:
    file = out.file
    assert isinstance(file, io.StringIO)
    return file.getvalue().splitlines()


def test_not_a_terminal_prints_values_whole_and_keeps_rules_and_panels_narrow() -> None:
    out = ResultConsole(file=io.StringIO(), width=80)
    assert not out.is_terminal
    out.print(_table())
    table_lines = _lines(out)
    assert any(LONG in line for line in table_lines)
    assert max(len(line) for line in table_lines) == len("│ key │  │") + len(LONG)  # no more
    out.print(Rule("section"))
    out.print(Panel("a short panel"))
    out.print("word " * 60)
    rest = _lines(out)[len(table_lines) :]
    assert [len(line) for line in rest[:4]] == [80, 80, 80, 80]  # the rule, then the panel
    assert rest[-1].strip() == ("word " * 60).strip()  # one line, not wrapped at 80
    assert out.width == 80  # widened for one print only


def test_a_terminal_fits_the_terminal_width() -> None:
    out = ResultConsole(file=io.StringIO(), width=60, force_terminal=True, color_system=None)
    assert out.is_terminal
    out.print(_table())
    out.print(Rule())
    lines = _lines(out)
    assert max(len(line) for line in lines) == 60
    assert not any(LONG in line for line in lines)


def test_an_explicit_width_is_respected() -> None:
    out = ResultConsole(file=io.StringIO(), width=80)
    out.print(_table(), width=40)
    assert max(len(line) for line in _lines(out)) == 40


def test_the_shared_consoles_are_result_consoles() -> None:
    assert isinstance(console, ResultConsole) and isinstance(err_console, ResultConsole)
    assert err_console.stderr
