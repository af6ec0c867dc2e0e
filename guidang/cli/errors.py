"""The one place where exceptions become exit codes (README, "Exit codes").

Every command is wrapped by :func:`handle_errors`: an expected error (:class:`GuidangError`) prints its
code and message in the user's language and exits with its code; Ctrl-C exits 130; anything else is a
defect in guidang: the console gets one bilingual line naming the log file, the traceback goes to that
file (``<home>/log/guidang-errors.log``), and the exit code is 70 (sysexits ``EX_SOFTWARE``).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from guidang.config import console_language
from guidang.errors import ExitCode, GuidangError

F = TypeVar("F", bound=Callable[..., Any])

ERROR_LOG = Path("log") / "guidang-errors.log"


def language() -> str:
    """Console language: ``GUIDANG_LANGUAGE``, else the home's ``language`` key, else Chinese."""
    return console_language()


def fail(exc: GuidangError, exit_code: ExitCode | None = None) -> NoReturn:
    """Print an expected error (never a traceback) and exit with its code (or ``exit_code``)."""
    click.echo(f"guidang: [{exc.code}] {exc.message(language())}", err=True)
    sys.exit(int(exit_code if exit_code is not None else exc.exit_code))


def _write_traceback(text: str) -> Path:
    """Append a traceback to the error log in the working home (a temp file if the home is not writable)."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    entry = f"--- {stamp} pid {os.getpid()} argv {sys.argv!r}\n{text}\n"
    home = Path(os.environ.get("GUIDANG_HOME", "var"))
    for path in (home / ERROR_LOG, Path(tempfile.gettempdir()) / f"guidang-errors-{os.getuid()}.log"):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(entry)
            return path.resolve()
        except OSError:
            continue
    return Path("-")  # nowhere writable: the message still says an internal error happened


def internal_error() -> NoReturn:
    """A defect: traceback to the log, one line to the console, exit 70."""
    where = _write_traceback(traceback.format_exc())
    click.echo(
        f"guidang: [INTERNAL] 内部错误（程序缺陷），详情见 {where} / "
        f"internal error (a defect in guidang); the traceback is in {where}",
        err=True,
    )
    sys.exit(int(ExitCode.INTERNAL))


def handle_errors(fn: F) -> F:
    """Map every exception a command raises to its documented exit code; never a traceback on the console."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except GuidangError as exc:
            fail(exc)
        except KeyboardInterrupt:
            click.echo("guidang: 已中断 / interrupted", err=True)
            sys.exit(int(ExitCode.INTERRUPTED))
        except (SystemExit, click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception:
            internal_error()

    return wrapper  # type: ignore[return-value]
