"""`cairn ui`: the dashboard of one project, served alone under uvicorn."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer

from cairn.cli._console import RepoOption, one_line_errors


@one_line_errors
def ui(
    repo: RepoOption = Path("."),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8080,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Serve nothing: render every page linked from the Overview in process, print "
            "each page's status and time, exit 1 if any page failed.",
        ),
    ] = False,
) -> None:
    """Serve the dashboard (overview, deployments, models, lineage, features, quality,
    monitoring, experiments, audit) at http://HOST:PORT/ui/.

    On a loopback address (the default) the pages are open; on any other address they need a
    viewer token, as `cairn serve`'s /ui does (an API token from `cairn auth token create`,
    CAIRN_ADMIN_TOKEN(S) or OIDC), given at /ui/login. The actions of a deployment's page
    (switch, roll back, promote) always need a signed-in token with the role the admin API
    needs (deployer; promote: approver). Pages read the same with JavaScript off.

    Example: cairn ui --repo ./credit --port 8080
    """
    if check:
        check_pages(repo.resolve())
        return
    import uvicorn

    from cairn.app.project import Project
    from cairn.app.settings_env import server_options
    from cairn.ui.web import Authorize, standalone_app

    project = Project.open(repo.resolve())
    tokens = server_options(project.settings).admin_tokens
    tokens = tokens.with_authenticator(project.authenticate)
    authorize: Authorize | None = None
    if not is_loopback(host):
        authorize = lambda header: tokens.require(header, "viewer")  # noqa: E731
    app = standalone_app(project, authorize=authorize, sign_in=tokens.require)
    uvicorn.run(app, host=host, port=port)


def check_pages(root: Path) -> None:
    """``cairn ui --check``: every page of the dashboard rendered in process, one line each;
    exit 1 when a page answered an error."""
    from cairn.cli._console import console
    from cairn.ui.web.crawl import crawl_project

    demo = crawl_project(root, max_pages=500)
    for visit in demo.visits:
        mark = "ok " if visit.ok else "ERR"
        console.print(
            f"{mark} {visit.status} {visit.milliseconds:7.1f} ms  {visit.path}", highlight=False
        )
    console.print(
        f"{len(demo.visits)} pages, {len(demo.failed)} failed; median {demo.median_ms:.0f} ms, "
        f"slowest {demo.slowest.milliseconds:.0f} ms ({demo.slowest.path}).",
        highlight=False,
    )
    if demo.failed:
        raise typer.Exit(1)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine.

    Example
    -------
    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("0.0.0.0")
    (True, True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
