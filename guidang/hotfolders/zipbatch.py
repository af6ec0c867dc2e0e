"""A batch delivered as one ZIP file: judged complete, then unpacked safely beside itself.

Vendors on Windows often drop ``批次.zip`` instead of a folder. Such zips carry file names in
the code page of the machine that made them (GBK on Chinese Windows) unless the UTF-8 flag
(bit 11) is set; Python's ``zipfile`` then shows them as CP437 mojibake, so the raw bytes are
recovered and decoded as UTF-8 or GB18030. A zip is refused whole, with the reason, when it is
unreadable, encrypted, holds a link, a device or a name that could escape the folder (``..``,
absolute, a drive letter), two names that are one after NFC or case folding, a file that is also
a folder, more bytes than allowed, or bytes that expand more than allowed from what they take in
the zip (a zip bomb); nothing of a refused zip is left unpacked. Sizes the zip declares are
judged first, and the bytes actually written are counted again (declared sizes can lie), against
the size limit, the ratio limit and the free space of the filesystem. Unpacking goes to a hidden
folder renamed into place when whole, so a crash never leaves a half batch that looks complete.
"""

from __future__ import annotations

import errno
import lzma
import os
import shutil
import stat
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from guidang.fsutil import fsync_dir
from guidang.hotfolders.options import WatchOptions
from guidang.ingest.cjktext import is_cjk
from guidang.pipeline.listing import has_control

SUFFIX = ".zip"
_UTF8_FLAG = 0x800
_ENCRYPTED_FLAG = 0x1
_UNIX = 3  # ZipInfo.create_system
_CHUNK = 1 << 20
_NAME_ERRNOS = (errno.EEXIST, errno.ENOTDIR, errno.EISDIR, errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL)


@dataclass(frozen=True)
class ZipLimits:
    """What unpacking one zip may cost (``[watch]`` options; sources in docs/operations.md)."""

    max_bytes: int  # unpacked bytes of the whole zip
    max_ratio: float = 200.0  # unpacked / packed bytes, of each member and of the whole zip
    ratio_floor: int = 1 << 20  # below this many unpacked bytes a member (or zip) is not ratio-checked
    min_free_bytes: int = 1 << 30  # free space the filesystem keeps after unpacking

    def budget(self, folder: Path) -> int:
        """Bytes that may be written under ``folder``: the size limit, or less when space is short."""
        return min(self.max_bytes, shutil.disk_usage(folder).free - self.min_free_bytes)


def limits_of(options: WatchOptions) -> ZipLimits:
    return ZipLimits(options.max_unpacked_bytes, options.max_zip_ratio, min_free_bytes=options.zip_min_free_bytes)


def _no_space(needed: int, budget: int) -> OSError:
    """Not the vendor's fault: an ENOSPC error, which the worker treats as "retry later"."""
    return OSError(errno.ENOSPC, f"unpacking needs {needed} bytes, {max(budget, 0)} may be written here")


class ZipRefused(Exception):
    """Why a zip is not unpacked: a reason of ``validators/checks/_refusals.toml`` and its detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason, detail)
        self.reason, self.detail = reason, detail


def is_zip_name(name: str) -> bool:
    return name.lower().endswith(SUFFIX) and len(name) > len(SUFFIX)


def unpacked_dir(zip_path: Path) -> Path:
    """Where a zip's batch is unpacked: beside it, named after it without ``.zip``."""
    return zip_path.with_name(zip_path.name[: -len(SUFFIX)])


def staging_dir(zip_path: Path) -> Path:
    """Where a zip is unpacked before it is whole."""
    return zip_path.with_name(f".unpacking-{zip_path.name}")


def made_from(zip_path: Path) -> set[Path]:
    """What unpacking a zip may leave beside it (not batches of their own)."""
    return {unpacked_dir(zip_path), staging_dir(zip_path)} if is_zip_name(zip_path.name) else set()


def remove_unpacked(zip_path: Path) -> None:
    """Remove what unpacking made (whole or half) beside the zip; the zip itself stays."""
    for folder in made_from(zip_path):
        shutil.rmtree(folder, ignore_errors=True)


def _raw_name(info: zipfile.ZipInfo) -> bytes:
    return info.orig_filename.encode("cp437")


def _foreign(text: str) -> int:
    """Characters neither ASCII nor CJK: what reading Chinese names in the wrong encoding yields."""
    return sum(1 for ch in text if not ch.isascii() and not is_cjk(ch))


def legacy_encoding(infos: list[zipfile.ZipInfo]) -> str:
    """The encoding of a zip's names written without the UTF-8 flag, decided once for the zip.
    GBK bytes are often valid UTF-8 too (目录 is C4BF C2BC: "Ŀ¼"), and UTF-8 bytes often valid
    GB18030 (目录 becomes 鐩綍), so of the readings that decode, the one with fewer characters that
    are neither ASCII nor CJK wins; a tie goes to UTF-8."""
    raws = [_raw_name(i) for i in infos if not i.flag_bits & _UTF8_FLAG]
    foreign: dict[str, int] = {}
    for encoding in ("utf-8", "gb18030"):
        try:
            foreign[encoding] = sum(_foreign(r.decode(encoding)) for r in raws)
        except UnicodeDecodeError:
            continue
    return min(foreign, key=foreign.__getitem__) if foreign else "gb18030"


def member_name(info: zipfile.ZipInfo, legacy: str) -> str:
    """The member's name as its maker meant it (see the module docstring), NFC, with ``/``."""
    if info.flag_bits & _UTF8_FLAG:
        name = info.filename
    else:
        try:
            name = _raw_name(info).decode(legacy)
        except UnicodeDecodeError:
            raise ZipRefused("zip_bad_member", f"undecodable name {_raw_name(info).hex()}") from None
    return unicodedata.normalize("NFC", name.replace("\\", "/"))


def _safe_parts(name: str) -> tuple[str, ...]:
    path = PurePosixPath(name)
    parts = tuple(p for p in path.parts if p not in ("", "."))
    if (
        name.startswith("/")
        or (len(name) > 1 and name[1] == ":")
        or ".." in parts
        or not parts
        or has_control(name)
    ):
        raise ZipRefused("zip_bad_member", repr(name))
    return parts


def check_complete(zip_path: Path) -> None:
    """Raise ZipRefused('zip_unreadable') unless the zip's central directory can be read (a zip
    still being copied has none yet: it is written last)."""
    try:
        with zipfile.ZipFile(zip_path) as zf:
            zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise ZipRefused("zip_unreadable", str(exc)) from None


def _fold(parts: tuple[str, ...]) -> tuple[str, ...]:
    """The key under which two names are one on a case-insensitive filesystem (Windows, macOS)."""
    return tuple(unicodedata.normalize("NFC", p.casefold()) for p in parts)


def _conflicts(members: list[tuple[zipfile.ZipInfo, tuple[str, ...]]]) -> None:
    """Refuse names that cannot all be unpacked side by side: a file that is also a folder
    (``extra`` and ``extra/y.txt``), or two names (of files or folders) that differ only in case."""
    files = {_fold(parts): "/".join(parts) for info, parts in members if not info.is_dir()}
    seen: dict[tuple[str, ...], str] = {}
    for info, parts in members:
        for depth in range(1, len(parts) + 1):
            key, name = _fold(parts[:depth]), "/".join(parts[:depth])
            if (depth < len(parts) or info.is_dir()) and key in files:
                raise ZipRefused("zip_bad_member", f"{files[key]} (a file and a folder)")
            earlier = seen.setdefault(key, name)
            if earlier != name:
                raise ZipRefused("zip_bad_member", f"{name} ({earlier}, differing only in case)")


def _ratio(unpacked: int, packed: int) -> float:
    return unpacked / max(packed, 1)


def plan(zf: zipfile.ZipFile, limits: ZipLimits | int) -> list[tuple[zipfile.ZipInfo, tuple[str, ...]]]:
    """Every member with its safe relative path; raises ZipRefused for anything not to unpack,
    judged on what the zip declares."""
    limits = limits if isinstance(limits, ZipLimits) else ZipLimits(limits)
    max_bytes = limits.max_bytes
    out: list[tuple[zipfile.ZipInfo, tuple[str, ...]]] = []
    seen: set[tuple[str, ...]] = set()
    total = packed = 0
    infos = zf.infolist()
    legacy = legacy_encoding(infos)
    for info in infos:
        name = member_name(info, legacy)
        parts = _safe_parts(name)
        # the file type is in the high 16 bits only for zips made on Unix (0 there: a plain file)
        fmt = stat.S_IFMT(info.external_attr >> 16) if info.create_system == _UNIX else 0
        if info.flag_bits & _ENCRYPTED_FLAG:
            raise ZipRefused("zip_encrypted", name)
        if fmt not in (0, stat.S_IFREG, stat.S_IFDIR):
            kind = "symlink" if fmt == stat.S_IFLNK else "special file"
            raise ZipRefused("zip_bad_member", f"{name} ({kind})")
        if parts in seen:
            raise ZipRefused("zip_bad_member", f"{name} (twice)")
        seen.add(parts)
        total += info.file_size
        packed += info.compress_size
        if total > max_bytes:
            raise ZipRefused("zip_too_large", f"> {max_bytes} bytes")
        _check_ratio(name, info.file_size, info.compress_size, limits)
        out.append((info, parts))
    _conflicts(out)
    _check_ratio("", total, packed, limits)
    return out


def _check_ratio(name: str, unpacked: int, packed: int, limits: ZipLimits) -> None:
    """Refuse a member (``name``) or the whole zip (``""``) that expands more than the limit."""
    if unpacked > limits.ratio_floor and _ratio(unpacked, packed) > limits.max_ratio:
        what = f"{name}: " if name else ""
        raise ZipRefused(
            "zip_ratio", f"{what}{unpacked} bytes from {packed} (> {limits.max_ratio:g}:1)"
        )


def batch_folder(unpacked: Path) -> Path:
    """The batch in an unpacked zip: the zip's top level, or the one folder that is all of it
    (Windows' "Send to > Compressed folder" on the batch folder puts the folder itself in the zip)."""
    entries = list(unpacked.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return unpacked


def unpack(zip_path: Path, limits: ZipLimits | int) -> Path:
    """Unpack ``zip_path`` into :func:`unpacked_dir`; returns the batch folder in it. Idempotent:
    a folder already in place is whole (it was renamed there complete) and is kept. Raises
    ZipRefused for a zip not to unpack, OSError(ENOSPC) when the filesystem has too little room;
    either way nothing of it is left behind."""
    limits = limits if isinstance(limits, ZipLimits) else ZipLimits(limits)
    dest = unpacked_dir(zip_path)
    if dest.is_dir():
        return batch_folder(dest)
    staging = staging_dir(zip_path)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        _unpack_into(zip_path, staging, limits)
    except ZipRefused:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        shutil.rmtree(staging, ignore_errors=True)  # CRC errors, unknown compression, bad data
        raise ZipRefused("zip_unreadable", str(exc)) from None
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)  # nothing half-unpacked stays
        if exc.errno in _NAME_ERRNOS:  # a name this filesystem cannot hold: the zip's fault, final
            raise ZipRefused("zip_bad_member", f"{exc.filename or ''} ({os.strerror(exc.errno or 0)})") from None
        raise  # disk full and the like: retried later
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)  # a stop
        raise
    os.rename(staging, dest)
    fsync_dir(dest.parent)
    return batch_folder(dest)


def _read(src: IO[bytes], name: str) -> bytes:
    """The next chunk of a member; a corrupt compressed stream refuses the zip (zlib, LZMA and bz2
    report it by their own exceptions, bz2 as an OSError without an errno; found by fuzzing)."""
    try:
        return src.read(_CHUNK)
    except (zlib.error, lzma.LZMAError, EOFError, ValueError, zipfile.BadZipFile) as exc:
        raise ZipRefused("zip_unreadable", f"{name}: {type(exc).__name__}: {exc}") from None
    except OSError as exc:
        if exc.errno is not None:
            raise
        raise ZipRefused("zip_unreadable", f"{name}: {type(exc).__name__}: {exc}") from None


def _unpack_into(zip_path: Path, staging: Path, limits: ZipLimits) -> None:
    budget = limits.budget(staging)
    packed = zip_path.stat().st_size  # members sharing their bytes (overlapping entries) count once
    with zipfile.ZipFile(zip_path) as zf:
        members = plan(zf, limits)
        declared = sum(info.file_size for info, _ in members)
        if declared > budget:
            raise _no_space(declared, budget)
        written = 0
        for info, parts in members:
            target = staging.joinpath(*parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            member = 0
            with zf.open(info) as src, target.open("xb") as out:
                while chunk := _read(src, "/".join(parts)):  # the sizes in the directory can lie: count again
                    written += len(chunk)
                    member += len(chunk)
                    if written > limits.max_bytes:
                        raise ZipRefused("zip_too_large", f"> {limits.max_bytes} bytes")
                    if written > budget:
                        raise _no_space(written, budget)
                    _check_ratio("/".join(parts), member, info.compress_size, limits)
                    _check_ratio("", written, packed, limits)
                    out.write(chunk)
