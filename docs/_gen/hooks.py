"""MkDocs hooks: the reference pages are generated at build time, never committed.

``mkdocs.yml`` registers this file (``hooks:``); it needs no plugin. Before MkDocs collects the
pages, :func:`on_files` adds three generated pages from the installed ``cairn``:

- ``reference/cli.md`` from the Typer application (every command, argument and option);
- ``reference/http.md`` from the server's OpenAPI document;
- ``reference/project-files.md`` from the settings reference and the project files' schemas.

``python docs/_gen/hooks.py OUT_DIR`` writes the same pages to a folder, to read them without a
build.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import cli_reference
import http_reference
import project_files

log = logging.getLogger("mkdocs.hooks.cairn")

GENERATED = {
    "reference/cli.md": cli_reference.render,
    "reference/http.md": http_reference.render,
    "reference/project-files.md": project_files.render,
}


def pages() -> tuple[dict[str, str], list[str]]:
    """Every generated page (path under docs/ -> Markdown) and the warnings raised on the way."""
    out: dict[str, str] = {}
    warnings: list[str] = []
    for path, render in GENERATED.items():
        result = render()
        if isinstance(result, tuple):
            text, more = result
            warnings += more
        else:
            text = result
        out[path] = text
    return out, warnings


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages to the build (warnings fail a ``--strict`` build)."""
    from mkdocs.structure.files import File

    generated, warnings = pages()
    for message in warnings:
        log.warning(message)
    for path, text in generated.items():
        files.append(File.generated(config, path, content=text))
    return files


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "site-reference")
    generated, problems = pages()
    for rel, text in generated.items():
        out = target / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        print(out)
    for message in problems:
        print(f"warning: {message}", file=sys.stderr)
