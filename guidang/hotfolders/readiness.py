"""When may a batch be taken? Never while a vendor may still be writing it.

With markers (the default) a batch is ready when its ``READY`` file exists. READY may carry
the digest of the batch's manifest; then the manifest must match it, so a manifest still in
flight over SMB is not trusted. Without markers a batch is ready when nothing in it has
changed (names, types, sizes, mtimes, by lstat only) across scans spanning the profile's
quiet period. Nothing here follows a link or opens a file other than READY and the manifest
it names, both opened without following links and only once READY exists.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from guidang.packaging.fixity import digest_stream

MARKER = "READY"
MAX_MARKER_BYTES = 64 * 1024
_DIGEST_LINE = re.compile(
    r"^\s*(?:(?P<algo>sha256|sm3)\s*[:=]\s*)?(?P<hex>[0-9a-fA-F]{64})(?:\s+\*?(?P<file>\S.*?))?\s*$", re.I
)
DEFAULT_MANIFESTS = {"sha256": "manifest-sha256.txt", "sm3": "manifest-sm3.txt"}


@dataclass(frozen=True)
class Verdict:
    """ready: take it; wait: look again later; refuse: take it only to reject it (reason)."""

    state: str  # ready | wait | refuse
    reason: str = ""
    detail: str = ""


READY = Verdict("ready")


@dataclass(frozen=True)
class MarkerDigest:
    algorithm: str
    hexdigest: str
    manifest: str


def _open_regular(path: Path) -> int | None:
    """An fd on a regular file, opened without following a link or blocking on a FIFO; else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def _read_regular(path: Path, limit: int) -> bytes | None:
    fd = _open_regular(path)
    if fd is None:
        return None
    try:
        return os.read(fd, limit)
    finally:
        os.close(fd)


def _digest_regular(path: Path, algorithm: str) -> str | None:
    """Digest of a regular file (checked on the open fd, so a swap after lstat changes nothing)."""
    fd = _open_regular(path)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as fh:
        return digest_stream(fh, algorithm)


def parse_marker(text: str) -> MarkerDigest | None:
    """The manifest digest in a READY file, if any. Accepted line forms:
    ``<hex>`` (SHA-256 of manifest-sha256.txt), ``sha256:<hex>``, ``sm3:<hex>``,
    ``<hex>  <manifest file>`` (sha256sum form; SM3 when the file is manifest-sm3.txt)."""
    for line in text.splitlines():
        m = _DIGEST_LINE.match(line)
        if not m:
            continue
        file = m["file"]
        algo = (m["algo"] or ("sm3" if file and "sm3" in file.lower() else "sha256")).lower()
        return MarkerDigest(algo, m["hex"].lower(), file or DEFAULT_MANIFESTS[algo])
    return None


def marker_verdict(batch: Path) -> Verdict:
    """Readiness of a batch in an inbox that uses READY markers."""
    marker = batch / MARKER
    try:
        mode = os.lstat(marker).st_mode
    except FileNotFoundError:
        return Verdict("wait", "no_marker")
    if not stat.S_ISREG(mode):
        return Verdict("refuse", "marker_not_regular", "READY is a link or special file")
    raw = _read_regular(marker, MAX_MARKER_BYTES)
    if raw is None:
        return Verdict("refuse", "marker_not_regular", "READY is a link or special file")
    wanted = parse_marker(raw.decode("utf-8", errors="replace"))
    if wanted is None:
        return READY
    if "/" in wanted.manifest or wanted.manifest in (".", ".."):
        return Verdict("refuse", "marker_bad_manifest", wanted.manifest)
    manifest = batch / wanted.manifest
    try:
        mmode = os.lstat(manifest).st_mode
    except FileNotFoundError:
        return Verdict("wait", "manifest_missing", wanted.manifest)
    found = _digest_regular(manifest, wanted.algorithm) if stat.S_ISREG(mmode) else None
    if found is None:
        return Verdict("refuse", "manifest_not_regular", wanted.manifest)
    if found != wanted.hexdigest:
        return Verdict(
            "wait",
            "manifest_mismatch",
            f"{wanted.manifest} {wanted.algorithm}: READY {wanted.hexdigest}, found {found}",
        )
    return READY


Signature = tuple[tuple[bytes, int, int, int], ...]


def tree_signature(batch: Path) -> Signature:
    """Names, types, sizes and mtimes of everything in a batch (or of a batch delivered as one
    file, a zip), by lstat; links are not followed."""
    try:
        top = os.lstat(batch)
    except FileNotFoundError:
        return ()
    if not stat.S_ISDIR(top.st_mode):
        return ((b"", stat.S_IFMT(top.st_mode), top.st_size, top.st_mtime_ns),)
    out: list[tuple[bytes, int, int, int]] = []
    stack = [os.fsencode(batch)]
    root_len = len(stack[0])
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for de in entries:
            st = de.stat(follow_symlinks=False)
            out.append((de.path[root_len:], stat.S_IFMT(st.st_mode), st.st_size, st.st_mtime_ns))
            if stat.S_ISDIR(st.st_mode):
                stack.append(de.path)
    out.sort()
    return tuple(out)


class QuietTracker:
    """Remembers, per batch, the last signature seen and since when it has not changed."""

    def __init__(self) -> None:
        self._seen: dict[Path, tuple[Signature, float]] = {}

    def verdict(self, batch: Path, quiet_seconds: float, now: float) -> Verdict:
        sig = tree_signature(batch)
        previous = self._seen.get(batch)
        if previous is None or previous[0] != sig:
            self._seen[batch] = (sig, now)
            return Verdict("wait", "changing" if previous else "first_seen")
        if now - previous[1] < quiet_seconds:
            return Verdict("wait", "quiet_pending", f"{now - previous[1]:.0f}/{quiet_seconds:.0f} s")
        return READY

    def forget(self, batch: Path) -> None:
        self._seen.pop(batch, None)

    def prune(self, present: set[Path]) -> None:
        for batch in set(self._seen) - present:
            del self._seen[batch]

    @property
    def pending(self) -> int:
        return len(self._seen)
