"""Structured JSON logs for `cairn serve --log-format json`."""

from __future__ import annotations

import logging
import logging.config
import subprocess
import sys

import orjson
import pytest

from cairn.core.json_logs import JsonFormatter, log_config


def test_records_become_one_json_object_with_extras_and_exceptions() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("cairn.serving").makeRecord(
            "cairn.serving", logging.WARNING, __file__, 1, "fallback for %s", ("credit",),
            exc_info=sys.exc_info(), extra={"deployment": "credit"},
        )  # fmt: skip
    line = orjson.loads(JsonFormatter().format(record))
    assert line["message"] == "fallback for credit" and line["level"] == "WARNING"
    assert line["deployment"] == "credit" and "ValueError: boom" in line["exception"]
    assert line["time"].endswith("+00:00")


def test_log_config_routes_uvicorn_and_cairn_through_the_formatter(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = logging.getLogger("cairn").handlers[:]
    logging.config.dictConfig(log_config("info"))
    try:
        logging.getLogger("cairn.serving").warning("model %s not loaded", "m")
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert orjson.loads(err)["message"] == "model m not loaded"
    finally:
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "cairn"):
            logger = logging.getLogger(name)
            logger.handlers = before if name == "cairn" else []
            logger.propagate = True
            logger.setLevel(logging.NOTSET)


def test_configuring_the_logs_imports_nothing_heavy() -> None:
    """A ``cairn serve`` worker configures its logs before it answers uvicorn's 5 s health check
    (see the module docstring): the formatter's module must not pull in the serving stack."""
    code = (
        "import logging.config, sys, orjson\n"
        f"logging.config.dictConfig(orjson.loads({orjson.dumps(log_config('info'))!r}))\n"
        "heavy = ('cairn.serving', 'fastapi', 'sqlalchemy', 'pandas', 'pyarrow')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
