"""`cairn models verify MODEL [VERSION]`: each version's artifact against the audit chain.

Every version's artifact is hashed as stored now and compared with the ``artifact_sha256``
its ``model.registered`` audit entry recorded (:mod:`cairn.registry.artifact_trust`). Exit 0
when every artifact matches (versions registered before digests were kept are listed as
unverifiable, with a warning), 1 when one does not, 2 on bad input (an unknown model or
version).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cairn.cli._console import CheckFailed, RepoOption, console, err_console, one_line_errors
from cairn.cli._output import JsonOption, emit_json
from cairn.cli._project import open_project


@one_line_errors
def verify(
    name: Annotated[str, typer.Argument(help="Registered model name.")],
    version: Annotated[str | None, typer.Argument(help="One version (default: all).")] = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Check each version's model artifact against the SHA-256 the audit log recorded.

    Example: cairn models verify credit-default 3 --repo ./credit
    """
    from rich.markup import escape

    from cairn.registry.artifact_trust import verify_version

    project = open_project(repo)
    registry = project.registry
    if version is None:
        versions = [v.version for v in registry.mlflow.versions(name)]
    else:
        versions = [registry.version(name, version).version]
    checks = [verify_version(project.tracker, registry.audit, name, v) for v in versions]
    bad = [c for c in checks if c.status == "mismatch"]
    if as_json:
        rows = [
            {
                "model": c.name,
                "version": c.version,
                "status": c.status,
                "sha256": c.actual,
                "recorded": c.recorded,
            }
            for c in checks
        ]
        emit_json({"model": name, "versions": rows}, True, lambda: None)
    else:
        for c in checks:
            if c.status == "ok":
                console.print(f"[green]ok[/] {escape(c.message())}", highlight=False)
            elif c.status == "unrecorded":
                err_console.print(f"[yellow]warning:[/] {escape(c.message())}", highlight=False)
    if bad:
        raise CheckFailed(" ".join(c.message() for c in bad))
