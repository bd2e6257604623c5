"""`cairn serve`: the HTTP API (online features, predictions, probes, metrics) under uvicorn."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from cairn.cli._console import RepoOption, one_line_errors


class LogFormat(StrEnum):
    """How the server writes its logs."""

    text = "text"
    json = "json"


class LogLevel(StrEnum):
    """uvicorn's log levels."""

    critical = "critical"
    error = "error"
    warning = "warning"
    info = "info"
    debug = "debug"
    trace = "trace"


@one_line_errors
def serve(
    repo: RepoOption = Path("."),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1)] = 1,
    log_level: Annotated[LogLevel, typer.Option(help="uvicorn's log level.")] = LogLevel.info,
    access_log: Annotated[
        bool, typer.Option(help="Log every request (uvicorn's access log, at info level).")
    ] = True,
    log_format: Annotated[
        LogFormat, typer.Option(help="text, or json: one structured JSON object per line.")
    ] = LogFormat.text,
) -> None:
    """Serve online features over HTTP: POST /v1/features/online, /healthz, /readyz, /metrics
    and the OpenAPI schema at /openapi.json. With a deployments.yaml in the project, also
    POST /v1/predict/{deployment}, GET /v1/explanations/{id} and POST /v1/outcomes
    (prediction log durability: CAIRN_LOG_DURABILITY=write|fsync; admin token:
    CAIRN_ADMIN_TOKEN).

    Example: cairn serve --repo ./credit --port 8000 --workers 2 --log-format json
    """
    import uvicorn

    from cairn.app.server import REPO_ENV, build_app, check_project, freeze_heap
    from cairn.core.json_logs import log_config

    logging: dict[str, Any] = {}
    if log_format is LogFormat.json:
        logging["log_config"] = log_config(log_level.value)
    root = repo.resolve()
    if workers == 1:
        app = build_app(root)  # fails fast, in this process, on a bad project
        freeze_heap()
        uvicorn.run(
            app, host=host, port=port, log_level=log_level.value, access_log=access_log, **logging
        )
        return
    # Workers are new processes that each build their own app (importing it by name, with the
    # project from the environment they inherit); the parent only checks the project cheaply.
    check_project(root)
    os.environ[REPO_ENV] = str(root)
    with metrics_dir():
        uvicorn.run(
            "cairn.app.server:app_from_env",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level=log_level.value,
            access_log=access_log,
            **logging,
        )


@contextmanager
def metrics_dir() -> Iterator[str]:
    """prometheus_client's multiprocess mode for the workers: a new, empty directory in
    ``PROMETHEUS_MULTIPROC_DIR`` (inherited by every worker), deleted when the server stops.
    A directory the environment already names is used as it is and kept (its owner clears it
    between runs, as prometheus_client requires)."""
    from cairn.serving.metrics import MULTIPROC_ENV

    given = os.environ.get(MULTIPROC_ENV)
    if given:
        yield given
        return
    made = tempfile.mkdtemp(prefix="cairn-metrics-")
    os.environ[MULTIPROC_ENV] = made
    try:
        yield made
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(made, ignore_errors=True)
