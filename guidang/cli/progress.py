"""The one progress display of the command line (rich): pages done / total and the time left.

Shown only on a terminal (stderr is a TTY) and never with ``--json``: a pipe, a log file or a
machine reading JSON gets no progress lines. Every long command uses :func:`page_progress`; the
work below the CLI takes plain callbacks (:class:`guidang.pipeline.preflight.Progress`) and knows
nothing of the display.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass
class PageProgress:
    """``start(total)`` then ``advance()`` per unit done; both do nothing when nothing is shown."""

    bar: Any = None  # rich.progress.Progress when shown
    task: Any = None
    label: str = "页 pages"

    def start(self, total: int) -> None:
        if self.bar is not None:
            self.task = self.bar.add_task(self.label, total=total)

    def advance(self) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.advance(self.task)

    @property
    def shown(self) -> bool:
        return self.bar is not None


def wanted(quiet: bool = False) -> bool:
    """True when a progress display belongs on the terminal: stderr is a TTY and no machine output was asked."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def page_progress(label: str = "页 pages", *, quiet: bool = False) -> Iterator[PageProgress]:
    """A progress display on stderr for the ``with`` block, or a silent stand-in (see :func:`wanted`)."""
    if not wanted(quiet):
        yield PageProgress(label=label)
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("剩余 left"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        yield PageProgress(bar, label=label)
