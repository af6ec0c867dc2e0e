"""Durable file writes: a file appears whole or not at all, and survives a power cut once written."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename or a new file in it is durable only after this)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist) with ``data``, flushed to disk."""
    with path.open("xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically and durably: readers see the old content or the new, never a
    part, and after a power cut the new content is there once this returns (file and directory fsynced).

    The one atomic write in guidang: a hidden temporary file beside the target, renamed over it.
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write_new(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def publish_dir(staging: Path, final: Path) -> None:
    """Give a folder written under a temporary name its final name, durably: every file in it flushed, then
    the rename, then the parent flushed. Readers of ``final`` see the whole folder or none of it."""
    for path in sorted(staging.rglob("*"), reverse=True):
        if path.is_file() and not path.is_symlink():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        elif path.is_dir() and not path.is_symlink():
            fsync_dir(path)
    fsync_dir(staging)
    os.replace(staging, final)
    fsync_dir(final.parent)
