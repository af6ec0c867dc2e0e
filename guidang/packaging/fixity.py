"""Fixity (固化信息): SM3 and SHA-256 of a file in one read.

Every file is hashed once, at intake, with both algorithms; the digests are then carried through the
package manifests, the OCFL inventory and the EEP without being recomputed (Archivematica hashes the
same file four times, artefactual/archivematica#918). Verification recomputes and compares.

Speed: SM3 is about four times slower than SHA-256 (OpenSSL has no SM3 instructions on x86), so
the dual digest is bounded by SM3. Both hashers release the GIL for buffers above 2 KiB, so a large
file is read in 1 MiB chunks into a small ring of reused buffers; the calling thread reads and
feeds SHA-256, a second thread feeds SM3 from the same buffers. The dual digest then runs at the
speed of SM3 alone (see bench/bench_fixity.py and docs/benchmarks.md).
"""

from __future__ import annotations

import hashlib
import io
import os
import queue
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from guidang.errors import InputError, MissingDependencyError, StorageError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

ALGORITHMS: tuple[str, ...] = ("sha256", "sm3")
"""Algorithm names as written in manifests, inventories and reports (lower case, hashlib names)."""

CHUNK_SIZE = 1 << 20
RING_BUFFERS = 4
THREADED_MIN_SIZE = 4 * CHUNK_SIZE
"""Below this size both digests are fed from the calling thread: a second thread would cost more
than it saves."""


class FixityError(InputError):
    """A file could not be read for hashing."""

    code = "FIXITY"


@dataclass(frozen=True, slots=True)
class Digests:
    """SHA-256 and SM3 (lower-case hex) and the size in bytes of one file."""

    sha256: str
    sm3: str
    size: int

    def of(self, algorithm: str) -> str:
        """The digest for ``algorithm`` (one of :data:`ALGORITHMS`)."""
        if algorithm == "sha256":
            return self.sha256
        if algorithm == "sm3":
            return self.sm3
        raise ValueError(f"unsupported fixity algorithm {algorithm!r}; supported: {', '.join(ALGORITHMS)}")

    def as_dict(self) -> dict[str, str | int]:
        return {"sha256": self.sha256, "sm3": self.sm3, "size": self.size}

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> Digests:
        """Build from ``{"sha256": …, "sm3": …, "size": …}`` (e.g. a digest recorded at intake)."""
        try:
            sha256, sm3, size = str(data["sha256"]).lower(), str(data["sm3"]).lower(), data["size"]
        except KeyError as exc:
            raise ValueError(f"digest record lacks {exc.args[0]!r}") from None
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"digest record has a bad size: {size!r}")
        for name, value in (("sha256", sha256), ("sm3", sm3)):
            if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
                raise ValueError(f"digest record has a malformed {name}: {value!r}")
        return cls(sha256=sha256, sm3=sm3, size=size)


def new_hash(algorithm: str) -> hashlib._Hash:
    """A fresh hasher; SM3 comes from OpenSSL 3 through ``hashlib.new``."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unsupported fixity algorithm {algorithm!r}; supported: {', '.join(ALGORITHMS)}")
    try:
        return hashlib.new(algorithm)
    except ValueError:
        raise MissingDependencyError(
            "本机 Python 的 OpenSSL 不提供 SM3 摘要算法（需要 OpenSSL 1.1.1 以上且未禁用 SM3）",
            "this Python's OpenSSL lacks the SM3 digest (OpenSSL >= 1.1.1 with SM3 enabled is needed)",
        ) from None


def digest_bytes(data: bytes | bytearray | memoryview) -> Digests:
    """Both digests of an in-memory byte string."""
    sha, sm3 = new_hash("sha256"), new_hash("sm3")
    sha.update(data)
    sm3.update(data)
    return Digests(sha256=sha.hexdigest(), sm3=sm3.hexdigest(), size=memoryview(data).nbytes)


def digest_file(path: str | os.PathLike[str]) -> Digests:
    """Both digests of a file, reading it once.

    Raises :class:`FixityError` (with the path, in Chinese and English) when the file cannot be read.
    """
    p = Path(path)
    try:
        with p.open("rb", buffering=0) as fh:
            return _digest(fh, None)
    except OSError as exc:
        raise _read_error(p, exc) from exc


def digest_stream(fh: BinaryIO, algorithm: str) -> str:
    """One digest (one of :data:`ALGORITHMS`) of what is left to read from an open file."""
    h = new_hash(algorithm)
    while chunk := fh.read(CHUNK_SIZE):
        h.update(chunk)
    return h.hexdigest()


def digest_file_with(path: str | os.PathLike[str], algorithm: str) -> str:
    """One digest of a file (one of :data:`ALGORITHMS`), for a check that needs no other.

    Raises :class:`FixityError` like :func:`digest_file`.
    """
    p = Path(path)
    try:
        with p.open("rb", buffering=0) as fh:
            return digest_stream(fh, algorithm)
    except OSError as exc:
        raise _read_error(p, exc) from exc


def copy_with_digests(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> Digests:
    """Copy ``src`` to a new file ``dst`` and return the digests of what was read, in one read.

    ``dst`` is flushed to disk (fsync) before returning; it must not exist.
    """
    s, d = Path(src), Path(dst)
    try:
        fin = s.open("rb", buffering=0)
    except OSError as exc:
        raise _read_error(s, exc) from exc
    try:
        with fin, d.open("xb", buffering=0) as fout:

            def write(chunk: memoryview) -> None:
                view = chunk
                try:
                    while view:
                        view = view[fout.write(view) :]
                except OSError as exc:
                    raise _WriteFailed(exc) from exc

            try:
                digests = _digest(fin, write)
            except OSError as exc:
                raise _read_error(s, exc) from exc
            os.fsync(fout.fileno())
    except (_WriteFailed, OSError) as exc:
        cause = exc.args[0] if isinstance(exc, _WriteFailed) else exc
        raise StorageError(
            f"无法写入文件：{d}（{cause.strerror or cause}）",
            f"cannot write file: {d} ({cause.strerror or cause})",
        ) from cause
    return digests


class _WriteFailed(Exception):
    """Carries a write error of the copy's destination through the hashing loop."""


def _read_error(p: Path, exc: OSError) -> FixityError:
    return FixityError(
        f"无法读取文件以计算摘要：{p}（{exc.strerror or exc}）",
        f"cannot read file to compute its digests: {p} ({exc.strerror or exc})",
    )


def _digest(fh: io.RawIOBase, sink: Callable[[memoryview], None] | None) -> Digests:
    if os.fstat(fh.fileno()).st_size < THREADED_MIN_SIZE:
        return _digest_sequential(fh, sink)
    return _digest_threaded(fh, sink)


def _digest_sequential(fh: io.RawIOBase, sink: Callable[[memoryview], None] | None) -> Digests:
    sha, sm3 = new_hash("sha256"), new_hash("sm3")
    buf = bytearray(CHUNK_SIZE)
    view = memoryview(buf)
    size = 0
    while n := fh.readinto(buf):
        chunk = view[:n]
        sha.update(chunk)
        sm3.update(chunk)
        if sink is not None:
            sink(chunk)
        size += n
    return Digests(sha256=sha.hexdigest(), sm3=sm3.hexdigest(), size=size)


_STOP = -1


def _digest_threaded(fh: io.RawIOBase, sink: Callable[[memoryview], None] | None) -> Digests:
    """Read into a ring of reused buffers; SHA-256 (and the copy, if any) here, SM3 in a second thread.

    A buffer goes back to the free list only once SM3 is done with it; SHA-256 has finished with it
    before it is handed over, so no buffer is overwritten while a hasher still reads it.
    """
    sha, sm3 = new_hash("sha256"), new_hash("sm3")
    buffers = [bytearray(CHUNK_SIZE) for _ in range(RING_BUFFERS)]
    free: queue.SimpleQueue[int] = queue.SimpleQueue()
    full: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()
    for index in range(RING_BUFFERS):
        free.put(index)

    failure: list[BaseException] = []

    def feed_sm3() -> None:
        while True:
            index, n = full.get()
            if index == _STOP:
                return
            if not failure:  # after a failure keep handing buffers back, so the reader never blocks
                try:
                    sm3.update(memoryview(buffers[index])[:n])
                except BaseException as exc:
                    failure.append(exc)
            free.put(index)

    worker = threading.Thread(target=feed_sm3, name="guidang-sm3", daemon=True)
    worker.start()
    size = 0
    try:
        while True:
            index = free.get()
            n = fh.readinto(buffers[index])
            if not n:
                break
            chunk = memoryview(buffers[index])[:n]
            sha.update(chunk)
            if sink is not None:
                sink(chunk)
            full.put((index, n))
            size += n
    finally:
        full.put((_STOP, 0))
        worker.join()
    if failure:
        raise failure[0]
    return Digests(sha256=sha.hexdigest(), sm3=sm3.hexdigest(), size=size)
