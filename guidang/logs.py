"""Logging of every guidang process: text for people, or one JSON object per line (``--log-format json``).

guidang's own loggers (``guidang.*``) log at the level asked for; libraries (Alembic, fontTools, WeasyPrint,
watchdog, …) stay at WARNING unless ``-vv`` asks for everything, so a normal run shows what happens to each
batch and not the libraries' INFO lines. The watcher's workers are configured the same way
(:func:`worker_args` passes the parent's choice on).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

FORMATS = ("text", "json")
TEXT = "%(asctime)s %(levelname)s %(name)s[%(process)d]: %(message)s"
# attributes every LogRecord has; anything else was passed with ``extra=`` and goes into the JSON object
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, pid, message, the ``extra=`` fields,
    and the traceback as text when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted (a test runner swaps it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure(level: int, fmt: str = "text", *, libraries: int | None = None) -> None:
    """Log guidang's records at ``level`` and the libraries' at ``libraries`` (default WARNING, or ``level``
    when that is DEBUG) to stderr, as text or JSON; replaces what was configured before."""
    handler = _Stderr()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_guidang", False)]:
        root.removeHandler(old)
    handler._guidang = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(libraries if libraries is not None else (level if level <= logging.DEBUG else logging.WARNING))
    logging.getLogger("guidang").setLevel(level)


def current() -> tuple[int, str]:
    """guidang's level and the format in use (for a worker process to log as its parent does)."""
    fmt = "text"
    for h in logging.getLogger().handlers:
        if getattr(h, "_guidang", False) and isinstance(h.formatter, JsonFormatter):
            fmt = "json"
    return logging.getLogger("guidang").getEffectiveLevel(), fmt
