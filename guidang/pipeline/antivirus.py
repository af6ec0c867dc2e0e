"""The one place that turns the configuration into an antivirus (DA/T 70 4-1, 4-2).

In order: a configured command-line scanner (``[antivirus] command``), a configured clamd
(``[clamav] socket``), else guidang's own clamd in the working home, held for the length of the
command (:func:`guidang.validators.clamd_service.session`). When none answers, ``clamav.required``
decides: true stops the command (exit code 4), false lets it run with no scanner, so that 4-1 and
4-2 fail for every item.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from guidang.errors import MissingDependencyError
from guidang.validators import clamd_service
from guidang.validators.clamav import ClamdClient, ClamdError, CommandScanner, Scanner

if TYPE_CHECKING:
    from guidang.config import Settings

CLAMD_TIMEOUT = 120.0  # seconds for one clamd reply (a large master over INSTREAM)


def _unavailable(detail: str) -> MissingDependencyError:
    return MissingDependencyError(f"杀毒软件不可用：{detail}", f"the antivirus is unavailable: {detail}")


def _answering(scanner: Scanner) -> str | None:
    """None when the scanner answers, else why not."""
    try:
        return None if scanner.ping() else f"{scanner.address} does not answer"
    except ClamdError as exc:
        return str(exc)


def _acquire(settings: Settings, stack: ExitStack) -> Scanner:
    av = settings.antivirus
    scanner: Scanner
    if av.command:
        try:
            scanner = CommandScanner(av.command, clean_exit_codes=tuple(av.clean_exit_codes),
                                     infected_exit_codes=tuple(av.infected_exit_codes),
                                     version_command=av.version_command, product=av.product,
                                     test_only=av.test_signatures, timeout=av.timeout_seconds)
        except ValueError as exc:
            raise _unavailable(str(exc)) from exc
    elif settings.clamav.socket is not None:
        scanner = ClamdClient(settings.clamav.socket, timeout=CLAMD_TIMEOUT)
    else:
        sock = stack.enter_context(clamd_service.session(settings.path("clamav")))
        scanner = ClamdClient(sock, timeout=CLAMD_TIMEOUT)
    problem = _answering(scanner)
    if problem is not None:
        raise _unavailable(problem)
    return scanner


@contextmanager
def open_scanner(settings: Settings) -> Iterator[Scanner | None]:
    """The configured antivirus for the length of the ``with`` block (None: none, and not required)."""
    with ExitStack() as stack:
        try:
            scanner: Scanner | None = _acquire(settings, stack)
        except MissingDependencyError:
            if settings.clamav.required:
                raise
            scanner = None
        yield scanner
