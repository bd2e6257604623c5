"""`cairn audit log|verify|checkpoint|sign-head`: read, check and anchor the audit chain.

Exit codes of ``verify``: 0 the chain is intact (and every check that was asked for agrees),
1 a check found tampering (each problem is named), 2 bad input (no project, an unreadable
checkpoints file, a missing key).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cairn.cli._auth import TokenFileOption
from cairn.cli._console import CheckFailed, RepoOption, console, err_console, one_line_errors
from cairn.cli._output import FormatOption, JsonOption, OutOption, emit, emit_json, output_format
from cairn.cli._project import open_project

if TYPE_CHECKING:
    from cairn.app.project import Project
    from cairn.registry import AuditLog

app = typer.Typer(help="The hash-chained audit log of governance actions.", no_args_is_help=True)


def _audit(project: Project) -> AuditLog:
    """The project's audit log (signed with the ``audit`` settings' key when one is set)."""
    return project.audit


@app.command("log")
@one_line_errors
def log(
    subject: Annotated[
        str | None, typer.Option("--subject", "-s", help="Only this subject (credit/3).")
    ] = None,
    action: Annotated[
        str | None, typer.Option("--action", "-a", help="Only this action (alias.moved).")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", help="Only the newest N entries.", min=0)
    ] = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
    fmt: FormatOption = None,
    out: OutOption = None,
) -> None:
    """List audit entries, oldest first.

    Example: cairn audit log --subject credit@champion --limit 20
    """
    from cairn.ui.output import jsonable

    chosen = output_format(fmt, as_json, out)
    audit = open_project(repo).audit
    entries = audit.entries(subject=subject, action=action, limit=limit)

    def show() -> None:
        from rich.markup import escape
        from rich.table import Table

        table = Table(
            "seq",
            "at",
            "actor",
            "action",
            "subject",
            "details",
            "hash",
            title=f"Audit log of project {audit.project!r}",
        )
        for e in entries:
            table.add_row(
                str(e.seq),
                e.at.isoformat(timespec="seconds"),
                escape(e.actor),
                escape(e.action),
                escape(e.subject),
                escape(json.dumps(e.details, sort_keys=True, ensure_ascii=False)),
                e.hash[:12],
            )
        console.print(table)
        if not entries:
            console.print("No audit entries match.")

    emit(chosen, [jsonable(e) for e in entries], show, out=out)


@app.command("verify")
@one_line_errors
def verify(
    checkpoints: Annotated[
        list[Path] | None,
        typer.Option(
            "--checkpoints",
            "-c",
            metavar="FILE",
            help="A file of checkpoints (JSON lines from `cairn audit checkpoint`) to check the "
            "chain against; repeatable.",
            show_default=False,
        ),
    ] = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Recompute the hash chain, check the head signature, the checkpoints and the registry's
    tables; exit 1 naming the first entry that breaks the chain and every other problem.

    Example: cairn audit verify --checkpoints /mnt/worm/credit-audit.jsonl
    """
    from rich.markup import escape

    from cairn.registry.checkpoints import read_checkpoints

    given = [cp for path in checkpoints or [] for cp in read_checkpoints(path)]
    result = _audit(open_project(repo)).verify(checkpoints=given)
    if as_json:
        emit_json(result, True, lambda: None)
        if not result.ok:
            raise CheckFailed()  # the JSON says why
        return
    if result.ok:
        console.print(f"[green]chain intact:[/] {result.entries} entries", highlight=False)
        for note in result.notes:
            console.print(f"  {escape(note)}", highlight=False, soft_wrap=True)
        return
    for problem in result.problems:
        err_console.print(f"[red]problem:[/] {escape(problem)}", highlight=False, soft_wrap=True)
    for note in result.notes:
        err_console.print(f"  {escape(note)}", highlight=False, soft_wrap=True)
    first = result.first
    if first is not None and first.seq is not None:
        err_console.print(
            f"first break: entry {first.seq} ({first.kind})", highlight=False, soft_wrap=True
        )
    raise CheckFailed(
        f"audit chain broken: {len(result.problems)} problem(s) in {result.entries} entries"
    )


@app.command("checkpoint")
@one_line_errors
def checkpoint(
    out: Annotated[
        str,
        typer.Option(
            "--out",
            "-o",
            metavar="FILE|URL",
            help="A file to append the checkpoint to (one JSON line), or an http(s) URL to "
            "POST it to. Keep it where the database's writers cannot change it.",
        ),
    ],
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Export the chain head (sequence, hash, time), signed with the audit key, after checking
    the chain; a broken chain is refused (exit 1).

    Example: cairn audit checkpoint --out /mnt/worm/credit-audit.jsonl
    """
    from dataclasses import asdict

    from cairn.registry.checkpoints import write_checkpoint

    audit = _audit(open_project(repo))
    made = audit.checkpoint()  # a broken chain: AuditTamperedError, exit 1
    where = write_checkpoint(made, out)
    signed = (
        "unsigned (audit.signing is none)"
        if made.algorithm == "none"
        else f"signed ({made.algorithm} key {made.key_id})"
    )
    emit_json(
        {**asdict(made), "written": where},
        as_json,
        lambda: console.print(
            f"checkpoint of entry {made.seq} ({made.hash[:12]}…), {signed}, {where}",
            highlight=False,
            soft_wrap=True,
        ),
    )


@app.command("sign-head")
@one_line_errors
def sign_head(
    reason: Annotated[
        str, typer.Option("--reason", help="Why the head is (re-)signed: the ticket or change.")
    ],
    token_file: TokenFileOption = None,
    repo: RepoOption = Path("."),
    as_json: JsonOption = False,
) -> None:
    """Sign the current chain head with the configured key (an admin, after `cairn audit
    verify` finds nothing but an unsigned head: signing was just turned on, or the key rotated);
    recorded as an `audit.head.signed` entry.

    Example: cairn audit sign-head --reason CHG-2026-0042
    """
    from cairn.cli._auth import acting_principal

    project = open_project(repo)
    principal = acting_principal(project, token_file, "sign the audit chain head").require(
        "admin", "sign the audit chain head"
    )
    entry = _audit(project).sign_head(principal.name, reason, {"principal": principal.to_dict()})
    emit_json(
        entry,
        as_json,
        lambda: console.print(
            f"signed the chain head; recorded as entry {entry.seq} (audit.head.signed)",
            highlight=False,
        ),
    )
