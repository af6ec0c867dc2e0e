"""Progress of long work as plain callbacks: the pipeline calls them, the command line draws them
(:mod:`guidang.cli.progress`); the pipeline knows nothing of terminals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _nothing(*_: object) -> None:
    return None


@dataclass(frozen=True)
class Progress:
    """``start(total pages)``, then ``advance()`` per page done."""

    start: Callable[[int], None] = _nothing
    advance: Callable[[], None] = _nothing


QUIET = Progress()
