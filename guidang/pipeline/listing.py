"""A safe listing of a delivered folder: what is there, and what must not be touched.

Symlinks, FIFOs, sockets and devices are never followed or opened; a regular file with more
than one name (a hard link: its other name may be outside the batch, and its bytes can change
through it) is flagged and not read; names with ``..``,
control characters, or that collide with another after Unicode NFC normalisation are
flagged. Byte names that are not UTF-8 (GBK from Windows shares and zips) are decoded as
GB18030 and flagged so the receipt can say so.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    path: Path  # absolute path on disk
    relpath: str  # POSIX path relative to the root, decoded for display
    size: int
    is_dir: bool


@dataclass(frozen=True)
class Unsafe:
    relpath: str
    kind: str  # symlink | hardlink | fifo | socket | device | traversal | control_char | nfc_collision | undecodable
    detail: str = ""


@dataclass(frozen=True)
class Listing:
    root: Path
    files: tuple[Entry, ...]
    dirs: tuple[Entry, ...]
    unsafe: tuple[Unsafe, ...] = field(default=())

    def file(self, relpath: str) -> Entry | None:
        return next((f for f in self.files if f.relpath == relpath), None)

    def under(self, folder: str) -> list[Entry]:
        prefix = folder.rstrip("/") + "/"
        return [f for f in self.files if f.relpath.startswith(prefix)]


def decode_name(raw: bytes) -> tuple[str, bool]:
    """Decode a file name given as bytes; True when it was not UTF-8 (GBK/GB18030 assumed)."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace"), True


def has_control(name: str) -> bool:
    """Control or format characters (bells, escapes, bidi overrides; the ZWJ of emoji is allowed)."""
    return any(unicodedata.category(ch) in ("Cc", "Cf") and ch != "\u200d" for ch in name)


def list_tree(root: Path) -> Listing:
    """Walk ``root`` without following links; classify everything found."""
    files: list[Entry] = []
    dirs: list[Entry] = []
    unsafe: list[Unsafe] = []
    seen_nfc: dict[str, str] = {}
    stack: list[tuple[bytes, str]] = [(os.fsencode(root), "")]
    while stack:
        abs_dir, rel_dir = stack.pop()
        with os.scandir(abs_dir) as it:
            entries = sorted(it, key=lambda e: e.name)
        for de in entries:
            name, not_utf8 = decode_name(os.fsencode(de.name))
            rel = f"{rel_dir}{name}"
            if not_utf8:
                unsafe.append(Unsafe(rel, "undecodable", "GB18030"))
            if name in (".", "..") or "/" in name or "\\" in name:
                unsafe.append(Unsafe(rel, "traversal"))
                continue
            if has_control(name):
                unsafe.append(Unsafe(rel, "control_char"))
                continue
            key = unicodedata.normalize("NFC", rel)
            if key in seen_nfc and seen_nfc[key] != rel:
                unsafe.append(Unsafe(rel, "nfc_collision", seen_nfc[key]))
                continue
            seen_nfc[key] = rel
            st = os.lstat(de.path)
            mode = st.st_mode
            abs_path = Path(os.fsdecode(de.path))
            if stat.S_ISLNK(mode):
                unsafe.append(Unsafe(rel, "symlink", os.fsdecode(os.readlink(de.path))))
            elif stat.S_ISFIFO(mode):
                unsafe.append(Unsafe(rel, "fifo"))
            elif stat.S_ISSOCK(mode):
                unsafe.append(Unsafe(rel, "socket"))
            elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
                unsafe.append(Unsafe(rel, "device"))
            elif stat.S_ISDIR(mode):
                dirs.append(Entry(abs_path, rel, 0, True))
                stack.append((de.path if isinstance(de.path, bytes) else os.fsencode(de.path), rel + "/"))
            elif stat.S_ISREG(mode) and st.st_nlink > 1:
                unsafe.append(Unsafe(rel, "hardlink", str(st.st_nlink - 1)))
            elif stat.S_ISREG(mode):
                files.append(Entry(abs_path, rel, st.st_size, False))
    files.sort(key=lambda e: e.relpath)
    dirs.sort(key=lambda e: e.relpath)
    return Listing(root, tuple(files), tuple(dirs), tuple(unsafe))
