"""Refuse configurations that would loop or destroy data, and judge the names found in an inbox.

An inbox that overlaps the store, the outbox, a processing area, the code or the
virtualenv would have the watcher eat its own output (OCRmyPDF #484) or code. Names of
batch folders are judged before anything else is done with them: symlinks, FIFOs and
devices are never followed or opened, control characters are refused, non-UTF-8 byte
names (GBK from Windows shares and zips) are decoded as GB18030.
"""

from __future__ import annotations

import os
import stat
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import guidang
from guidang.config import Settings
from guidang.errors import ConfigError
from guidang.pipeline.listing import decode_name, has_control

PROCESSED = "processed"


def processing_area(settings: Settings, profile: str) -> Path:
    configured = settings.watch.processing.get(profile)
    if configured is None:
        return settings.processing_root / profile
    return configured if configured.is_absolute() else settings.home / configured


def processed_area(settings: Settings, profile: str) -> Path:
    return settings.path(PROCESSED) / profile


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def _real(p: Path) -> Path:
    return Path(os.path.realpath(p))


def protected_paths(settings: Settings) -> dict[str, Path]:
    """Everything an inbox must neither contain nor lie inside."""
    paths = {
        "store": settings.store_root,
        "outbox": settings.outbox_root,
        "rejected": settings.rejected_root,
        "work": settings.work_root,
        "processed": settings.path(PROCESSED),
        "processing": settings.processing_root,
        "code": Path(guidang.__file__).parent,
        "virtualenv": Path(sys.prefix),
    }
    if settings.db_url.startswith("sqlite:///"):
        paths["database"] = Path(settings.db_url.removeprefix("sqlite:///"))
    for profile in settings.profiles:
        paths[f"processing area of {profile}"] = processing_area(settings, profile)
    return paths


def check_layout(settings: Settings) -> None:
    """Raise ConfigError when an inbox overlaps another inbox or a protected path, or when a
    processing area is not on its inbox's filesystem (the claim must be an atomic rename)."""
    protected = {k: _real(v) for k, v in protected_paths(settings).items()}
    inboxes = {name: _real(settings.inbox_of(name)) for name in settings.profiles}
    for name, inbox in inboxes.items():
        for what, path in protected.items():
            if _overlap(inbox, path):
                raise ConfigError(
                    f"收件箱 {inbox}（{name}）与{what} {path} 重叠，拒绝启动",
                    f"inbox {inbox} ({name}) overlaps the {what} {path}; refusing to start",
                )
        for other, path in inboxes.items():
            if other < name and _overlap(inbox, path):
                raise ConfigError(
                    f"收件箱 {inbox}（{name}）与收件箱 {path}（{other}）重叠，拒绝启动",
                    f"inbox {inbox} ({name}) overlaps inbox {path} ({other}); refusing to start",
                )
    for name in settings.profiles:
        inbox, area = settings.inbox_of(name), processing_area(settings, name)
        inbox.mkdir(parents=True, exist_ok=True)
        area.mkdir(parents=True, exist_ok=True)
        if os.stat(inbox).st_dev != os.stat(area).st_dev:
            raise ConfigError(
                f"处理区 {area} 与收件箱 {inbox} 不在同一文件系统，无法原子认领；"
                f"请在 [watch.processing] 中为 {name} 指定同一文件系统上的目录",
                f"processing area {area} is not on the filesystem of inbox {inbox}, so a claim cannot be "
                f"an atomic rename; set [watch.processing] {name} to a folder on that filesystem",
            )


@dataclass(frozen=True)
class InboxEntry:
    """One thing found at the top of an inbox, judged by its name and lstat alone."""

    raw: bytes  # the name as on disk
    name: str  # decoded, NFC-normalised: the batch name used from here on
    path: Path  # the path on disk (surrogate-escaped when the name is not UTF-8)
    kind: str  # dir | file | symlink | fifo | socket | device
    problem: str | None  # why it must be rejected, or None
    detail: str = ""
    decoded_from: str | None = None  # "GB18030" when the name was not UTF-8


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def judge_entries(inbox: Path, raws: Iterable[bytes]) -> list[InboxEntry]:
    """Judge the names at the top of an inbox (hidden names are in-progress copies: skipped)."""
    entries: list[InboxEntry] = []
    seen: dict[str, bytes] = {}
    for raw in sorted(raws):
        if raw.startswith(b"."):
            continue
        text, not_utf8 = decode_name(raw)
        name = unicodedata.normalize("NFC", text)
        path = Path(os.fsdecode(os.path.join(os.fsencode(inbox), raw)))
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        kind = _kind(mode)
        problem: str | None = None
        detail = ""
        if kind in ("symlink", "fifo", "socket", "device"):
            problem = kind
            if kind == "symlink":
                detail = os.fsdecode(os.readlink(path))
        elif "\ufffd" in text:
            problem, detail = "undecodable", raw.hex()
        elif has_control(name) or "/" in name or "\\" in name or name in (".", ".."):
            problem, detail = "bad_name", repr(text)
        elif name in seen:
            problem, detail = "nfc_collision", os.fsdecode(seen[name])
        seen.setdefault(name, raw)
        entries.append(InboxEntry(raw, name, path, kind, problem, detail, "GB18030" if not_utf8 else None))
    return entries


def safe_label(name: str) -> str:
    """A name usable as a folder for a rejected entry whose own name is refused."""
    cleaned = "".join(ch if ch.isprintable() and ch not in "/\\" else "_" for ch in name).strip(". ")
    return cleaned[:120] or "_"
