"""The CLI reference page, generated from the Typer application ``cairn.cli.main.app``.

Every command (groups walked in the order they are registered) with its help text, usage,
arguments and options, as ``cairn <command> --help`` shows them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any

from _md import cell, code, prose, table

INTRO = """\
# CLI reference

Generated from the `cairn` command itself (every command's `--help`), so it matches the
installed version. Every command that reads a project takes `--repo DIR` (default: the current
folder). Exit codes: **0** success, **1** a check said no (a quality gate halted, a consistency
check found mismatches, `--fail-on-signal` saw a signal), **2** bad input (one line on stderr
naming the input, what was expected and what was received).

"""


def _commands(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any, Any]]:
    """``(path, command, group)`` for every leaf command, depth first in registration order."""
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in subcommands.items():
            if getattr(sub, "hidden", False):
                continue
            if getattr(sub, "commands", None):
                yield from _commands(sub, [*path, name])
            else:
                yield [*path, name], sub, command
    else:
        yield path, command, None


def _help_blocks(text: str) -> str:
    """Help text as Markdown: paragraphs kept, ``Example:`` paragraphs as code blocks."""
    out: list[str] = []
    for paragraph in (text or "").strip().split("\n\n"):
        lines = [line.rstrip() for line in paragraph.strip().splitlines()]
        if not lines:
            continue
        if lines[0].startswith("Example:"):
            lines[0] = lines[0][len("Example:") :].strip()
            body = ""
            for line in (line.strip() for line in lines if line.strip()):
                if body and not line.startswith(("cairn ", "(", "#")):
                    body += " \\\n    "  # a wrapped command goes on: shell continuation
                elif body:
                    body += "\n"
                body += line
            out.append(f"Example:\n\n```bash\n{body}\n```")
        else:
            out.append(prose(" ".join(lines)))
    return "\n\n".join(out)


def _default(param: Any) -> str:
    if param.required:
        return "required"
    value = param.default
    if callable(value) or value is None or (getattr(param, "is_flag", False) and value is False):
        if getattr(param, "secondary_opts", None) and value is False:
            return code(param.secondary_opts[0])
        return "–"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, PurePath):
        value = str(value)
    if isinstance(value, bool) and getattr(param, "secondary_opts", None):
        return code(param.opts[0] if value else param.secondary_opts[0])
    if isinstance(value, list | tuple):
        return code(", ".join(map(str, value))) if value else "–"
    return code(value)


def _type(param: Any, ctx: Any) -> str:
    text = str(param.display_type(ctx)).strip("<>")
    bounds = []
    if getattr(param, "min", None) is not None:
        bounds.append(f">= {param.min}")
    if getattr(param, "max", None) is not None:
        bounds.append(f"<= {param.max}")
    if bounds:
        text = f"{text} ({', '.join(bounds)})"
    if param.multiple and "list" not in text:
        text += ", repeatable"
    return code(text)


def _command_section(path: list[str], command: Any) -> str:
    import typer._click as click  # typer's own click (typer >= 0.20)

    ctx = click.Context(command, info_name=path[-1])
    name = " ".join(path)
    pieces = [
        re.sub(r"\{(\w+)\}", lambda m: m[1].upper(), p) for p in command.collect_usage_pieces(ctx)
    ]
    usage = " ".join([name, *pieces])
    parts = [f"### `{name}`\n", _help_blocks(command.help or ""), f"\nUsage: `{usage}`\n"]
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    options = [
        p for p in command.params if p.param_type_name == "option" and not getattr(p, "hidden", 0)
    ]
    if arguments:
        rows = [[code(a.name.upper()), _type(a, ctx), _default(a), cell(a.help)] for a in arguments]
        parts.append(table(["argument", "type", "default", "what"], rows))
    if options:
        rows = []
        for o in options:
            names = ", ".join(code(n) for n in [*o.opts, *o.secondary_opts])
            rows.append([names, _type(o, ctx), _default(o), cell(o.help)])
        parts.append(table(["option", "type", "default", "what"], rows))
    return "\n".join(parts) + "\n"


def render() -> str:
    """The whole CLI reference page."""
    import typer.main

    from cairn.cli.main import app

    root = typer.main.get_command(app)
    parts = [INTRO, f"{_help_blocks(root.help or '')}\n\n"]
    groups: dict[str, str] = {}
    leaves = list(_commands(root, ["cairn"]))
    parts.append("| command | what it does |\n|---|---|\n")
    for path, command, _ in leaves:
        first = (command.help or "").strip().split("\n\n")[0]
        anchor = "-".join(path).replace("_", "-")
        parts.append(f"| [`{' '.join(path)}`](#{anchor}) | {cell(first)} |\n")
    parts.append("\n")
    for path, command, group in leaves:
        if len(path) > 2 and path[1] not in groups:
            groups[path[1]] = (group.help or "").strip()
            parts.append(f"## `cairn {path[1]}`\n\n{_help_blocks(groups[path[1]])}\n\n")
        elif len(path) == 2 and "" not in groups:
            groups[""] = "top"
            parts.append("## Top-level commands\n\n")
        parts.append(_command_section(path, command))
    return "".join(parts)
