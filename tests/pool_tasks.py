"""Tasks for the page-pool tests: module-level, so a forkserver process can import them."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def die_or_echo(job: tuple[str, Path]) -> str:
    """'die': kill own process every time; 'once': the first time only (a marker file remembers)."""
    name, marker = job
    if name == "die" or (name == "once" and not marker.exists()):
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return name
