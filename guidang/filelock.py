"""The one non-blocking exclusive lock on a file (``flock``): held for a ``with`` block, released by the kernel
when its holder dies, so a lock left by a killed process never needs cleaning up."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def try_lock(path: Path, *, create: bool) -> Iterator[bool]:
    """Yield True while this process holds the lock on ``path``, False if another holds it. With ``create`` the
    file is made (mode 600) when missing; without, a missing file yields False (what it guarded is gone)."""
    flags = os.O_CLOEXEC | (os.O_RDWR | os.O_CREAT if create else os.O_RDONLY)
    try:
        fd = os.open(path, flags, 0o600)
    except FileNotFoundError:
        if create:
            raise
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
