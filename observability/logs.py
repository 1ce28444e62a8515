"""Log lines with a timestamp and the request they belong to, as text or as one JSON object per line.

``REQUEST_ID`` is set for each HTTP request by ``middleware.RequestId``; ``RequestIdFilter`` (on every handler)
copies it onto each record, so uvicorn's access lines and the app's own lines of one request share it.
``log_config`` is the one logging configuration: ``main.cli`` applies it, and ``serve`` hands it to uvicorn,
which applies it again in each worker.

Records carry event fields as ``extra={"fields": {...}}`` (see ``observability.events``); the text format
appends them as ``key=value``, the JSON format as keys of the object. Nothing here redacts: callers never put
a secret in a record (access lines lose their query string in ``AccessLogWithoutQuery``).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
from typing import Any

#: The id of the HTTP request being served (None outside a request: start-up, background work).
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

#: uvicorn's access lines: their arguments become fields in JSON.
_ACCESS_LOGGER = "uvicorn.access"


def _timestamp(record: logging.LogRecord) -> str:
    """ISO 8601 in UTC with milliseconds: ``2026-12-04T09:15:02.123Z``."""
    moment = dt.datetime.fromtimestamp(record.created, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(record.msecs):03d}Z"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the current request's, None outside one) to every record its handler sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


class AccessLogWithoutQuery(logging.Filter):
    """Drops the query string from access-log lines: a client may put a secret there (a password in a
    refused GET, an OAuth parameter), and logs are kept and shared far longer than requests live."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, dict) else {}


class TextFormatter(logging.Formatter):
    """``<ISO time> <LEVEL> <logger> [<request id>] <message> key=value ...`` (``-`` outside a request)."""

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{_timestamp(record)} {record.levelname} {record.name} "
            f"[{getattr(record, 'request_id', None) or '-'}] {record.getMessage()}"
        )
        fields = _fields(record)
        if fields:
            line += " " + " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def _text_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = ",".join(map(str, value))
    text = str(value)
    return json.dumps(text) if not text or any(c in text for c in ' "=\n') else text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``message``, ``request_id``, then the event's
    fields (and for access lines ``client``, ``method``, ``path``, ``status``); ``exception`` with a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.name == _ACCESS_LOGGER and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _version, status = record.args
            entry.update(client=client, method=method, path=path, status=status)
        for key, value in _fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def log_config(log_format: str = "text", level: str = "info") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of the server and every command: uvicorn's loggers and the root
    logger (the app's own, ``security`` included) in one format, with the request id on every line.

    Importable by name in uvicorn's workers, so it refers to its classes by their dotted paths.
    """
    formatter = "observability.logs.JsonFormatter" if log_format == "json" else "observability.logs.TextFormatter"
    level_name = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "observability.logs.RequestIdFilter"},
            "no_query": {"()": "observability.logs.AccessLogWithoutQuery"},
        },
        "formatters": {"default": {"()": formatter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id"],
                "stream": "ext://sys.stderr",
            },
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["request_id", "no_query"],
                "stream": "ext://sys.stdout",
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level_name, "propagate": False},
            "uvicorn.error": {"level": level_name},
            "uvicorn.access": {"handlers": ["access"], "level": level_name, "propagate": False},
            # The ORM announces every connect and shutdown at INFO; only its warnings help an operator.
            "tortoise": {"level": max(logging.WARNING, logging.getLevelNamesMapping().get(level_name, logging.INFO))},
        },
        "root": {"handlers": ["default"], "level": level_name},
    }
