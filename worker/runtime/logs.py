"""Structured logs: one JSON object per line on stderr, with whatever fields a call passes in `extra`. Every
logger goes through it (the worker's, psycopg_pool's, APScheduler's, warnings), and so do uncaught exceptions, so
that every line on stderr parses as JSON."""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(level: str = "INFO") -> None:
    """Send every logger to stderr as JSON lines (idempotent): the worker's at `level`, libraries' at WARNING."""
    root = logging.getLogger()
    if not any(getattr(handler, "_cms_json", False) for handler in root.handlers):
        for handler in list(root.handlers):
            root.removeHandler(handler)
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        handler._cms_json = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel("WARNING")
    logging.getLogger("worker").setLevel(level)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_thread_uncaught


def _log_uncaught(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    logging.getLogger("worker").critical("uncaught exception", exc_info=(kind, error, trace))


def _log_thread_uncaught(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None:
        logging.getLogger("worker").critical(
            "uncaught exception in a thread",
            extra={"thread": args.thread.name if args.thread else None},
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )
