"""Entry point of a worker process: ``python -m guidang.hotfolders.worker <claim id> <watcher pid>``
with the settings as JSON on stdin. It runs :func:`guidang.hotfolders.unit.run_claim` once."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from types import FrameType

from guidang import logs
from guidang.config import Settings
from guidang.hotfolders.unit import WorkerInterrupted, run_claim

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL this process when the watcher dies, so no orphan keeps running
    a claim that a restarted watcher would hand out again."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the watcher died before prctl took effect
        os._exit(1)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise WorkerInterrupted


def main(argv: list[str]) -> int:
    claim_id, parent, level = int(argv[0]), int(argv[1]), int(argv[2])
    die_with_parent(parent)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.configure(level, argv[3] if len(argv) > 3 else "text")
    settings = Settings.model_validate_json(sys.stdin.read())
    run_claim(settings, claim_id)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
