"""Names are data, never paths, until proven safe.

Every string that comes from outside (a 档号 from a vendor's catalogue, a batch or file name, a zip
member, a case id) is turned into a path component here and nowhere else: :func:`component`
refuses whatever is not exactly one harmless file-name component, with a reason code (data, see
:data:`REASONS`) and a message in Chinese and English. :func:`child` joins checked components
under a root and proves that the result stays under that root (resolved, no symbolic link on the
way) before anything is written or removed there; :func:`remove_owned_tree` removes only such a
proven path. See docs/security.md for the rules and where their limits come from.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import unicodedata
from pathlib import Path

from guidang.errors import InputError

# NAME_MAX of ext4, XFS, btrfs and tmpfs: a component longer than this many bytes cannot be created
NAME_MAX_BYTES = 255
# a 档号 names a folder and, with suffixes, the files in it ("<档号>.pdf", "<档号>.txt", "<档号>-0001.tif"):
# room is left for the longest suffix guidang adds (docs/security.md)
ARCHIVAL_CODE_MAX_BYTES = 200
# CON, PRN, AUX, NUL, COM1-9, LPT1-9 (with or without an extension) cannot be opened on Windows,
# where the rejected area and the outbox are often shared to the vendor
_RESERVED = frozenset({"CON", "PRN", "AUX", "NUL"} | {f"{p}{n}" for p in ("COM", "LPT") for n in "123456789"})
_WINDOWS_FORBIDDEN = frozenset('<>:"|?*')

# reason code -> (中文, English); the reason codes are part of the interface (receipts, logs)
REASONS: dict[str, tuple[str, str]] = {
    "empty": ("名称为空", "the name is empty"),
    "dot": ("名称是“.”或“..”（表示当前或上级目录）", "the name is '.' or '..' (the current or parent folder)"),
    "separator": ("名称含路径分隔符“/”或“\\”", "the name contains a path separator ('/' or '\\')"),
    "control": ("名称含 NUL 或其他控制字符", "the name contains NUL or another control character"),
    "undecodable": ("名称不是有效的 Unicode 文本", "the name is not valid Unicode text"),
    "too_long": ("名称超过 {{limit}} 字节（UTF-8 编码）", "the name is longer than {limit} bytes (UTF-8)"),
    "reserved": ("名称是 Windows 保留名（CON、PRN、AUX、NUL、COM1–9、LPT1–9）",
                 "the name is reserved on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9)"),
    "forbidden_char": ('名称含 Windows 不允许的字符（< > : " | ? *）',
                       'the name contains a character Windows forbids (< > : " | ? *)'),
    "edge": ("名称以空格或句点开头或结尾", "the name starts or ends with a space or a dot"),
    "outside": ("路径指向根目录之外或经过符号链接", "the path leads outside its root or through a symbolic link"),
}


class UnsafeNameError(InputError):
    """An outside string that cannot be used as a path component (or a path outside its root)."""

    code = "UNSAFE_NAME"

    def __init__(self, name: str, reason: str, limit: int = NAME_MAX_BYTES) -> None:
        zh, en = REASONS[reason]
        self.name = name
        self.reason = reason
        self.reason_zh = zh.format(limit=limit)
        self.reason_en = en.format(limit=limit)
        shown = printable(name)
        super().__init__(f"“{shown}”不能用作文件或文件夹名：{self.reason_zh}",
                         f"{shown!r} cannot be used as a file or folder name: {self.reason_en}")


def printable(name: str, limit: int = 120) -> str:
    """``name`` for a message or a receipt: control characters as ``\\xNN``, cut at ``limit`` chars."""
    out = "".join(ch if unicodedata.category(ch) not in ("Cc", "Cf", "Cs") or ch == "\u200d"
                  else f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}" for ch in name)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def refusal(name: str, max_bytes: int = NAME_MAX_BYTES) -> str | None:
    """The reason code why ``name`` is not one safe path component, or None when it is."""
    if not name:
        return "empty"
    if name in (".", ".."):
        return "dot"
    if "/" in name or "\\" in name:
        return "separator"
    if any(unicodedata.category(ch) == "Cc" or (unicodedata.category(ch) == "Cf" and ch != "\u200d")
           for ch in name):
        return "control"
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates, as os.fsdecode makes of undecodable bytes
        return "undecodable"
    if size > max_bytes:
        return "too_long"
    if name != name.strip(" .") or name != name.strip():
        return "edge"
    if any(ch in _WINDOWS_FORBIDDEN for ch in name):
        return "forbidden_char"
    if name.split(".", 1)[0].upper() in _RESERVED:
        return "reserved"
    return None


def component(name: str, max_bytes: int = NAME_MAX_BYTES) -> str:
    """``name`` itself when it is one safe path component; else :class:`UnsafeNameError`."""
    reason = refusal(name, max_bytes)
    if reason is not None:
        raise UnsafeNameError(name, reason, max_bytes)
    return name


def stand_in(name: str, prefix: str = "unsafe") -> str:
    """A safe, stable folder name for something whose own name is refused: ``unsafe-<digest>``.

    The same name always gives the same stand-in, so a resumed run finds its own folder again.
    """
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{prefix}-{digest}"


def component_or_stand_in(name: str, max_bytes: int = NAME_MAX_BYTES, prefix: str = "unsafe") -> str:
    """``name`` when it is a safe component, else its :func:`stand_in`."""
    return name if refusal(name, max_bytes) is None else stand_in(name, prefix)


def within(root: Path, path: Path) -> Path:
    """``path`` when it lies under ``root`` with no symbolic link from ``root`` down to it; else
    :class:`UnsafeNameError` (reason ``outside``). Parts that do not exist yet are fine: only what
    exists can be a link. ``root`` itself may be reached through links (an administrator's choice)."""
    base = root.resolve()
    rel_parts = Path(os.path.abspath(path)).parts
    root_parts = Path(os.path.abspath(root)).parts
    if rel_parts[: len(root_parts)] != root_parts:
        raise UnsafeNameError(str(path), "outside")
    here = base
    for part in rel_parts[len(root_parts):]:
        if part in ("", ".", ".."):
            raise UnsafeNameError(str(path), "outside")
        here = here / part
        try:
            mode = os.lstat(here).st_mode
        except FileNotFoundError:
            break
        if stat.S_ISLNK(mode):
            raise UnsafeNameError(str(path), "outside")
    return path


def child(root: Path, *names: str, max_bytes: int = NAME_MAX_BYTES) -> Path:
    """``root / name / …`` with every name checked by :func:`component` and the result by :func:`within`."""
    path = root.joinpath(*(component(n, max_bytes) for n in names))
    return within(root, path)


def remove_owned_tree(root: Path, path: Path) -> None:
    """Remove ``path``, a folder guidang made under ``root``; refuses a link, ``root`` itself or a path
    outside it. Callers decide ownership (e.g. an owner marker written when the folder was made)."""
    within(root, path)
    if os.path.abspath(path) == os.path.abspath(root):
        raise UnsafeNameError(str(path), "outside")
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode) or not stat.S_ISDIR(mode):
        raise UnsafeNameError(str(path), "outside")
    shutil.rmtree(path)


def batch_folder(name: str, delivery: int = 1) -> str:
    """The folder of one delivery of a batch in the rejected area and the outbox: the batch's own
    name (``-<n>`` added from the second delivery on), or its stand-in when that is not safe."""
    label = f"{name}-{delivery}" if delivery > 1 else name
    return component_or_stand_in(label, prefix="batch")
