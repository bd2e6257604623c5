"""Structured logs: one JSON object per line, for uvicorn's and Cairn's loggers.

``cairn serve --log-format json`` passes :func:`log_config` to uvicorn, so access lines, errors
and Cairn's own warnings (a fallback, a model that could not load) are machine-readable.

The module is light on purpose (the standard library and orjson): with ``--workers N`` every new
worker process imports it to configure its logging *before* it starts answering uvicorn's
supervisor, which kills and replaces a worker silent for 5 seconds. Importing the serving
package here (seconds of CPU) made four workers starting at once on two busy cores miss that
deadline, be replaced, and miss it again, forever.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import orjson

_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """Format a record as ``{"time", "level", "logger", "message", ...extras}``.

    Example
    -------
    >>> record = logging.makeLogRecord({"msg": "hi %s", "args": ("x",), "levelname": "INFO",
    ...                                 "name": "cairn.serving", "deployment": "credit"})
    >>> line = orjson.loads(JsonFormatter().format(record))
    >>> line["message"], line["level"], line["deployment"]
    ('hi x', 'INFO', 'credit')
    """

    def format(self, record: logging.LogRecord) -> str:
        """One JSON line."""
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(data, default=str).decode()


def log_config(level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` mapping: JSON lines on stderr for uvicorn and Cairn."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    loggers = {
        name: {"handlers": ["json"], "level": level.upper(), "propagate": False}
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "cairn")
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "cairn.core.json_logs.JsonFormatter"}},
        "handlers": {"json": handler},
        "loggers": loggers,
    }
