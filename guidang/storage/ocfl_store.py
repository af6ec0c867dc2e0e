"""The long-term store: an OCFL 1.1 storage root, one object per 件 (object id = 档号).

Layout (a local OCFL storage layout extension, documented in the storage root itself)::

    <root>/0=ocfl_1.1
    <root>/ocfl_layout.json                                   names the layout extension
    <root>/guidang-archival-code-storage-layout.md            what the layout is, in Chinese and English
    <root>/extensions/guidang-archival-code-storage-layout/config.json
    <root>/extensions/guidang-archival-code-storage-layout/staging/   objects and versions being written
    <root>/Z109/WS·2011/Y/BGS/Z109-WS·2011-Y-BGS-0001/   an object: 档号 levels as folders, then 档号
        0=ocfl_object_1.1  inventory.json  inventory.json.sha256
        v1/inventory.json  v1/inventory.json.sha256  v1/content/<the AIP, see packaging.aip>
        v2/…                                                  a correction: only the changed files

Why guidang writes objects itself and uses ocfl-py (2.1) to validate and to resolve the layout:
ocfl-py's writer (``Object.create`` / ``write_new_version``) writes in place (a crash leaves a half
object in the store), re-hashes every file (the package manifests already hold SHA-256, computed
once at intake), and percent-encodes content paths (Chinese file names become unreadable on disk).
Here, an object or version is assembled under ``staging/`` inside the storage root (so on the same
filesystem) and renamed into place; the rename of a directory onto a non-empty one fails, so an
existing object is never overwritten. The content digest is SHA-256 (OCFL allows it; ocfl-py warns
W004 because SHA-512 is preferred), which lets the inventory reuse the package manifest. SM3 lives
in the package's ``manifest-sm3.txt``, a content file of every version.

A new version (``new_version``) is written as ``vN/`` in staging, renamed into the object, then the
root inventory and its sidecar are replaced (each by an atomic rename). If a crash falls between those
steps, the next access rolls the root inventory forward from the newest complete version directory: the
version directory is the commit point.

The store is a leaf: it stores files (each with its SHA-256, already known), versions and inventories, and
knows nothing of the package format. An archival package goes in and out through
:mod:`guidang.packaging.ocfl_package` (add, new version, checkout, digests, verify); correction policy is
:mod:`guidang.pipeline.corrections`.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocfl.layout import Layout, LayoutException
from ocfl.layout_registry import add_layout
from ocfl.storage_root import StorageRoot
from ocfl.validator import Validator

from guidang.errors import InputError, StorageError
from guidang.fsutil import fsync_dir, replace_file, write_new
from guidang.names import within

log = logging.getLogger(__name__)

SPEC_VERSION = "1.1"
LAYOUT_NAME = "guidang-archival-code-storage-layout"
LEVEL_SEPARATOR = "-"
INVENTORY = "inventory.json"
SIDECAR = "inventory.json.sha256"
CONTENT_DIR = "content"
_VERSION_RE = re.compile(r"^v([1-9][0-9]*)$")
_UNSAFE = re.compile(r'[%<>:"/\\|?*\x00-\x1f\x7f]')


class ObjectExistsError(StorageError):
    """An object with this 档号 is already in the store; it is never overwritten."""

    code = "OBJECT_EXISTS"


class ObjectNotFoundError(InputError):
    """No object (or version, or file) under that 档号: a bad argument, not a failing store."""

    code = "OBJECT_NOT_FOUND"


# -- the storage layout extension ------------------------------------------------------------------


def _encode_level(text: str) -> str:
    if not text:
        raise ValueError("empty level")
    out = _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), text)
    if out.startswith("."):
        out = "%2E" + out[1:]
    if len(out.encode()) > 255:
        raise ValueError(f"level longer than 255 bytes: {text!r}")
    return out


def identifier_to_path(identifier: str, separator: str = LEVEL_SEPARATOR) -> str:
    """Object path for a 档号: each level above the last as a folder, then the whole 档号.

    ``Z109-WS·2011-Y-BGS-0001`` → ``Z109/WS·2011/Y/BGS/Z109-WS·2011-Y-BGS-0001``. Characters that are
    unsafe in file names (``% < > : " / \\ | ? *``, control characters, a leading ``.``) are
    percent-encoded as UTF-8 bytes.
    """
    levels = identifier.split(separator)
    try:
        return "/".join([*(_encode_level(level) for level in levels[:-1]), _encode_level(identifier)])
    except ValueError as exc:
        raise InputError(
            f"档号无法映射为存储路径：{identifier!r}（{exc}）",
            f"archival code cannot be mapped to a storage path: {identifier!r} ({exc})",
        ) from None


class ArchivalCodeLayout(Layout):  # type: ignore[misc]
    """ocfl-py layout class for the extension, so ocfl-py resolves and validates this store."""

    def __init__(self) -> None:
        super().__init__()
        self.NAME = LAYOUT_NAME
        self.DESCRIPTION = (
            "guidang: 档号 levels (split on '-') as nested folders, then a folder named by the whole 档号 "
            f"(see {LAYOUT_NAME}.md in the storage root)"
        )
        self.separator = LEVEL_SEPARATOR
        self.PARAMS = {"levelSeparator": self._set_separator}

    def _set_separator(self, value: object) -> None:
        if value is None:
            return
        if not isinstance(value, str) or len(value) != 1 or value in "/\\%.":
            raise LayoutException(f"bad levelSeparator {value!r}")
        self.separator = value

    @property
    def config(self) -> dict[str, str]:
        return {"extensionName": self.NAME, "levelSeparator": self.separator}

    def identifier_to_path(self, identifier: str) -> str:
        try:
            return identifier_to_path(identifier, self.separator)
        except InputError as exc:
            raise LayoutException(exc.en) from None


add_layout(LAYOUT_NAME, ArchivalCodeLayout)

LAYOUT_DOC = f"""# {LAYOUT_NAME}

本存储根（OCFL 1.1）由 guidang 写入。每件档案是一个 OCFL 对象，对象标识符为档号。
对象目录：档号按“-”分成各级，除最后一级外每级一层文件夹，最后一层文件夹以完整档号命名。
例：`Z109-WS·2011-Y-BGS-0001` → `Z109/WS·2011/Y/BGS/Z109-WS·2011-Y-BGS-0001/`
（DA/T 92-2022 8.2.1：以档号命名，按档号各级逐级建立文件夹）。
文件名中不安全的字符（% < > : " / \\ | ? *、控制字符、开头的“.”）按 UTF-8 字节写成 %XX。
参数见 `extensions/{LAYOUT_NAME}/config.json`：`levelSeparator`（级间分隔符，默认“-”）。
`extensions/{LAYOUT_NAME}/staging/` 存放正在写入的对象或版本，写完后原子改名移入存储位置；
其中的内容不是存储的一部分，可在无写入进行时删除。

对象内容（逻辑路径）：`content/<档号>.pdf`（PDF/A）、`content/<档号>.txt`（OCR 文本）、
`masters/`（原始扫描图像）、`metadata/metadata.xml`（DA/T 46 元数据，含业务实体即处理过程）、
`metadata/checks.json`（四性检测报告）、`manifest-sha256.txt` / `manifest-sm3.txt`（每个文件的
SHA-256 / SM3 摘要）、`tagmanifest-*.txt`（清单的摘要，即档案包摘要）。清单格式同 BagIt：“摘要  路径”。
OCFL 清点文件（inventory）的摘要算法为 sha256。元数据更正产生新版本（v2、v3…），旧版本不变。

This OCFL 1.1 storage root is written by guidang. One OCFL object per archival record (件); the object
id is the archival code (档号). Object path: split the id on `levelSeparator` (default "-"); every level
but the last is a folder, and the object folder is named by the whole id. Example:
`Z109-WS·2011-Y-BGS-0001` → `Z109/WS·2011/Y/BGS/Z109-WS·2011-Y-BGS-0001/`. Characters unsafe in file
names (% < > : " / \\ | ? *, control characters, a leading ".") are percent-encoded as UTF-8 bytes.
`extensions/{LAYOUT_NAME}/staging/` holds objects and versions being written; they are renamed into
place when complete and are not part of the store. Inside each object the logical paths are the
archival package: the PDF/A, OCR text, masters, DA/T 46 metadata (with the process history as
业务实体 events), check report, and
BagIt-style manifests with SHA-256 and SM3 digests. Corrections of metadata are new versions.
"""


# -- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StoredVersion:
    code: str
    version: str  # "v1", "v2", …
    path: Path  # object root
    package_digest: Mapping[str, str]  # algorithm → digest of the version's manifest-<algorithm>.txt


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: str
    created: str
    message: str
    user: str


@dataclass(frozen=True, slots=True)
class StoreValidation:
    valid: bool
    objects: int
    good_objects: int
    messages: tuple[str, ...]  # ocfl-py's messages (errors, then warnings), with spec codes


# -- the store -------------------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")








def _inventory_bytes(inventory: Mapping[str, Any]) -> bytes:
    return (json.dumps(inventory, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _sidecar_bytes(inventory_data: bytes) -> bytes:
    return f"{hashlib.sha256(inventory_data).hexdigest()} {INVENTORY}\n".encode("ascii")


class OcflStore:
    """An OCFL storage root with the 档号 layout; created on first use if ``create`` (default)."""

    def __init__(self, root: str | os.PathLike[str], *, create: bool = True) -> None:
        self.root = Path(root)
        self._ext = self.root / "extensions" / LAYOUT_NAME
        self.staging = self._ext / "staging"
        declaration = self.root / f"0=ocfl_{SPEC_VERSION}"
        if not declaration.is_file():
            if not create:
                raise StorageError(f"不是 OCFL 存储根：{self.root}", f"not an OCFL storage root: {self.root}")
            self._initialize()
        self._check_layout()
        self.staging.mkdir(exist_ok=True)

    # -- set-up --------------------------------------------------------------------------------

    def _initialize(self) -> None:
        """Write the layout files first and the root declaration last (the declaration commits)."""
        self.root.mkdir(parents=True, exist_ok=True)
        known = {"extensions", "ocfl_layout.json", f"{LAYOUT_NAME}.md"}
        others = {p.name for p in self.root.iterdir()} - known
        if others:
            raise StorageError(
                f"存储目录非空且不是 OCFL 存储根：{self.root}（含 {', '.join(sorted(others)[:5])}）",
                f"store directory is not empty and not an OCFL storage root: {self.root}",
            )
        self._ext.mkdir(parents=True, exist_ok=True)
        layout = ArchivalCodeLayout()
        replace_file(self._ext / "config.json", (json.dumps(layout.config, indent=2) + "\n").encode())
        layout_json = {"extension": LAYOUT_NAME, "description": layout.DESCRIPTION}
        replace_file(self.root / "ocfl_layout.json", (json.dumps(layout_json, indent=2) + "\n").encode())
        replace_file(self.root / f"{LAYOUT_NAME}.md", LAYOUT_DOC.encode("utf-8"))
        replace_file(self.root / f"0=ocfl_{SPEC_VERSION}", f"ocfl_{SPEC_VERSION}\n".encode())
        fsync_dir(self.root)

    def _check_layout(self) -> None:
        try:
            layout = json.loads((self.root / "ocfl_layout.json").read_text("utf-8"))
            config = json.loads((self._ext / "config.json").read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise StorageError(
                f"存储根的布局说明缺失或无法解析：{self.root}（{exc}）",
                f"the storage root's layout files are missing or unreadable: {self.root} ({exc})",
            ) from exc
        if layout.get("extension") != LAYOUT_NAME:
            raise StorageError(
                f"存储根使用其他布局（{layout.get('extension')}），guidang 只写入 {LAYOUT_NAME}",
                f"the storage root uses another layout ({layout.get('extension')}), not {LAYOUT_NAME}",
            )
        self.separator = str(config.get("levelSeparator", LEVEL_SEPARATOR))

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Serialise commits (renames and root inventory updates) across processes."""
        with (self._ext / "lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- lookup --------------------------------------------------------------------------------

    def object_path(self, code: object) -> Path:
        """The object's folder; the 档号 is outside input, so the path is proven to stay in the store."""
        return within(self.root, self.root / identifier_to_path(str(code), self.separator))

    def exists(self, code: object) -> bool:
        return (self.object_path(code) / f"0=ocfl_object_{SPEC_VERSION}").is_file()

    def inventory(self, code: object) -> dict[str, Any]:
        """The root inventory of the object (rolled forward first if a version commit was cut short)."""
        path = self.object_path(code)
        if not self.exists(code):
            raise ObjectNotFoundError(
                f"存储中没有档号为 {code} 的对象", f"no object with archival code {code} in the store"
            )
        self._roll_forward(path)
        data: dict[str, Any] = json.loads((path / INVENTORY).read_bytes())
        return data

    def versions(self, code: object) -> list[VersionInfo]:
        inv = self.inventory(code)
        out = []
        for v in sorted(inv["versions"], key=lambda v: int(v[1:])):
            block = inv["versions"][v]
            out.append(
                VersionInfo(
                    v,
                    block.get("created", ""),
                    block.get("message", ""),
                    block.get("user", {}).get("name", ""),
                )
            )
        return out

    def logical_files(self, code: object, version: str | None = None) -> dict[str, Path]:
        """Logical path → file on disk for a version (default: head)."""
        inv = self.inventory(code)
        v = version or inv["head"]
        if v not in inv["versions"]:
            raise ObjectNotFoundError(f"对象 {code} 没有版本 {v}", f"object {code} has no version {v}")
        root = self.object_path(code)
        out: dict[str, Path] = {}
        for digest, paths in inv["versions"][v]["state"].items():
            content = root / inv["manifest"][digest][0]
            for logical in paths:
                out[logical] = content
        return dict(sorted(out.items()))

    def read_file(self, code: object, logical_path: str, version: str | None = None) -> bytes:
        files = self.logical_files(code, version)
        if logical_path not in files:
            raise ObjectNotFoundError(
                f"对象 {code} 中没有文件 {logical_path}", f"object {code} has no file {logical_path}"
            )
        return files[logical_path].read_bytes()

    def checkout(self, code: object, dest: str | os.PathLike[str], version: str | None = None) -> Path:
        """Copy a version of the object out as a folder of its logical files (``dest`` must not exist)."""
        target = Path(dest)
        if target.exists():
            raise StorageError(f"目标目录已存在：{target}", f"destination already exists: {target}")
        files = self.logical_files(code, version)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            for logical, src in files.items():
                (work / logical).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, work / logical)
            os.rename(work, target)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        return target

    def list_codes(self) -> Iterator[str]:
        """Object ids in the store (read from the inventories)."""
        for dirpath, dirs, names in os.walk(self.root):
            here = Path(dirpath)
            if here == self.root:
                dirs[:] = [d for d in dirs if d != "extensions"]
                continue
            if f"0=ocfl_object_{SPEC_VERSION}" in names:
                dirs[:] = []
                with contextlib.suppress(OSError, ValueError, KeyError):
                    yield str(json.loads((here / INVENTORY).read_bytes())["id"])

    # -- writing -------------------------------------------------------------------------------

    def add_object(
        self,
        code: object,
        sources: Mapping[str, Source],
        *,
        package_digest: Mapping[str, str],
        agent: str = "guidang",
        message: str = "归档 (archived)",
        move: bool = False,
    ) -> StoredVersion:
        """Store ``sources`` (logical path → bytes and their SHA-256) as a new object (v1).

        Raises :class:`ObjectExistsError` if the 档号 is taken. Files given by path are copied (``move=True``
        renames them instead); while copying, each file's SHA-256 is checked against the one given.
        ``package_digest`` is reported back in the result (the caller's digest of what it stored).
        """
        code = str(code)
        identifier_to_path(code, self.separator)
        if self.exists(code):
            raise ObjectExistsError(
                f"存储中已有档号为 {code} 的对象，不会覆盖；更正请用新版本",
                f"an object with archival code {code} is already stored and is never overwritten; "
                "use a new version for corrections",
            )
        stage = Path(tempfile.mkdtemp(prefix="obj-", dir=self.staging))
        try:
            inventory = {
                "id": code,
                "type": f"https://ocfl.io/{SPEC_VERSION}/spec/#inventory",
                "digestAlgorithm": "sha256",
                "head": "v1",
                "manifest": {},
                "versions": {},
            }
            self._stage_version(stage, inventory, sources, move=move, agent=agent, message=message)
            write_new(stage / f"0=ocfl_object_{SPEC_VERSION}", f"ocfl_object_{SPEC_VERSION}\n".encode())
            inv_bytes = (stage / "v1" / INVENTORY).read_bytes()
            write_new(stage / INVENTORY, inv_bytes)
            write_new(stage / SIDECAR, _sidecar_bytes(inv_bytes))
            self._check_staged(stage)
            fsync_dir(stage)
            target = self.object_path(code)
            with self._lock():
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.rename(stage, target)
                except OSError as exc:
                    self._remove_empty_parents(target.parent)
                    if target.exists():
                        raise ObjectExistsError(
                            f"存储中已有档号为 {code} 的对象，不会覆盖",
                            f"an object with archival code {code} is already stored; not overwritten",
                        ) from exc
                    raise StorageError(
                        f"无法把对象 {code} 移入存储：{exc.strerror or exc}",
                        f"cannot move object {code} into the store: {exc.strerror or exc}",
                    ) from exc
                fsync_dir(target.parent)
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            raise
        return StoredVersion(code, "v1", target, dict(package_digest))

    def head_state(self, code: object) -> dict[str, str]:
        """Logical path → SHA-256 in the head version."""
        inv = self.inventory(code)
        return {p: str(d) for d, paths in inv["versions"][inv["head"]]["state"].items() for p in paths}

    def remove_object(self, code: object) -> bool:
        """Take an object out of the store (only destruction after appraisal does this; the caller has
        registered it first). The folder is renamed into staging (it leaves the store in one step), then
        deleted. Returns False when there was no such object."""
        target = self.object_path(code)
        if not target.is_dir():
            return False
        with self._lock():
            doomed = Path(tempfile.mkdtemp(prefix="destroyed-", dir=self.staging))
            os.rename(target, doomed / "object")
            fsync_dir(target.parent)
            self._remove_empty_parents(target.parent)
        shutil.rmtree(doomed, ignore_errors=True)
        return True

    # -- internals -----------------------------------------------------------------------------

    def _stage_version(
        self,
        stage: Path,
        inventory: dict[str, Any],
        sources: Mapping[str, Source],
        *,
        move: bool,
        agent: str,
        message: str,
    ) -> None:
        """Write ``<stage>/<head>/`` (content + inventory + sidecar); update ``inventory`` in place."""
        head = inventory["head"]
        vdir = stage / head
        (vdir / CONTENT_DIR).mkdir(parents=True)
        manifest: dict[str, list[str]] = inventory["manifest"]
        state: dict[str, list[str]] = {}
        for logical in sorted(sources, key=lambda p: p.encode()):
            src = sources[logical]
            state.setdefault(src.sha256, []).append(logical)
            if src.sha256 in manifest:
                continue  # already in the object (earlier version) or in this version: not stored twice
            content_path = f"{head}/{CONTENT_DIR}/{logical}"
            dst = stage / content_path
            dst.parent.mkdir(parents=True, exist_ok=True)
            src.materialise(dst, move=move)
            manifest[src.sha256] = [content_path]
        inventory["versions"][head] = {
            "created": _now(),
            "message": message,
            "state": state,
            "user": {"name": agent},
        }
        inv_bytes = _inventory_bytes(inventory)
        write_new(vdir / INVENTORY, inv_bytes)
        write_new(vdir / SIDECAR, _sidecar_bytes(inv_bytes))
        for dirpath, _dirs, _names in os.walk(vdir):
            fsync_dir(Path(dirpath))

    def new_version(
        self,
        code: object,
        sources: Mapping[str, Source],
        *,
        agent: str,
        message: str,
        package_digest: Mapping[str, str],
        move: bool = False,
    ) -> StoredVersion:
        """Store ``sources`` as the next version of an existing object (the whole new state).

        Only content not yet in the object is written (OCFL forward delta). Raises :class:`InputError` when
        the new state equals the current one.
        """
        code = str(code)
        obj = self.object_path(code)
        inventory = copy.deepcopy(self.inventory(code))
        previous = inventory["versions"][inventory["head"]]["state"]
        if {d: sorted(p) for d, p in previous.items()} == _state_of(sources):
            raise InputError(
                "新版本与当前版本内容相同，未产生新版本",
                "the new version equals the current one; none written",
            )
        head = f"v{int(inventory['head'][1:]) + 1}"
        inventory["head"] = head
        stage = Path(tempfile.mkdtemp(prefix="ver-", dir=self.staging))
        try:
            self._stage_version(stage, inventory, sources, move=move, agent=agent, message=message)
            inv_bytes = (stage / head / INVENTORY).read_bytes()
            with self._lock():
                try:
                    os.rename(stage / head, obj / head)
                except OSError as exc:
                    raise StorageError(
                        f"对象 {code} 的版本 {head} 已被另一进程写入，请重试",
                        f"version {head} of object {code} was written concurrently; retry",
                    ) from exc
                fsync_dir(obj)
                replace_file(obj / INVENTORY, inv_bytes)
                replace_file(obj / SIDECAR, _sidecar_bytes(inv_bytes))
                fsync_dir(obj)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        return StoredVersion(code, head, obj, dict(package_digest))

    def _remove_empty_parents(self, folder: Path) -> None:
        """Empty folders are invalid in an OCFL storage root (E073): undo the ones a failed add made."""
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def _check_staged(self, stage: Path) -> None:
        """Structural check by ocfl-py (digests are not recomputed) before the object becomes visible."""
        validator = Validator(check_digests=False, log_warnings=False)
        if not validator.validate_object(str(stage)):
            raise StorageError(
                f"生成的 OCFL 对象无效：{validator.status_str()}",
                f"the OCFL object built is invalid: {validator.status_str()}",
            )

    def _roll_forward(self, obj: Path) -> None:
        """Finish a version commit cut short between the version rename and the root inventory."""
        try:
            head = json.loads((obj / INVENTORY).read_bytes())["head"]
        except (OSError, ValueError, KeyError):
            head = "v0"
        newest = max((int(m.group(1)) for p in obj.iterdir() if (m := _VERSION_RE.match(p.name))), default=0)
        if newest <= int(head[1:]):
            return
        with self._lock():
            inv_bytes = (obj / f"v{newest}" / INVENTORY).read_bytes()
            replace_file(obj / INVENTORY, inv_bytes)
            replace_file(obj / SIDECAR, _sidecar_bytes(inv_bytes))
            fsync_dir(obj)
        log.warning("rolled %s forward to v%d after an interrupted commit", obj, newest)

    def clean_staging(self, older_than_seconds: float = 24 * 3600) -> list[Path]:
        """Remove leftovers of interrupted writes from staging (none of them is in the store)."""
        removed = []
        cutoff = time.time() - older_than_seconds
        with self._lock():
            for entry in self.staging.iterdir():
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed.append(entry)
        return removed

    # -- checking ------------------------------------------------------------------------------

    def validate(self, *, check_digests: bool = True) -> StoreValidation:
        """Validate the whole storage root and every object with ocfl-py's validator."""
        root = StorageRoot(root=str(self.root))
        root.registered_extensions = [*root.registered_extensions, LAYOUT_NAME]
        valid = bool(root.validate(check_digests=check_digests, log_warnings=True, log_errors=True))
        messages = [str(m) for m in (root.log.messages if root.log else [])]
        messages += [msg for _path, msg in root.errors]
        return StoreValidation(
            valid=valid and root.good_objects == root.num_objects,
            objects=int(root.num_objects),
            good_objects=int(root.good_objects),
            messages=tuple(messages),
        )


def _state_of(sources: Mapping[str, Source]) -> dict[str, list[str]]:
    state: dict[str, list[str]] = {}
    for logical, src in sources.items():
        state.setdefault(src.sha256, []).append(logical)
    return {d: sorted(p) for d, p in state.items()}


@dataclass(frozen=True, slots=True)
class Source:
    """A file of a new version: its SHA-256 (known) and where its bytes come from (a file, or bytes)."""

    sha256: str
    path: Path | None
    data: bytes | None

    def materialise(self, dst: Path, *, move: bool) -> None:
        if self.data is not None:
            write_new(dst, self.data)
            return
        assert self.path is not None
        if move:
            os.rename(self.path, dst)
            return
        copied = copy_checking_sha256(self.path, dst)
        if copied != self.sha256:
            raise StorageError(
                f"文件在打包后被改变（SHA-256 与清单不符）：{self.path}",
                f"file changed after packaging (SHA-256 differs from the manifest): {self.path}",
            )


def copy_checking_sha256(src: Path, dst: Path) -> str:
    h = hashlib.sha256()
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    with src.open("rb", buffering=0) as fin, dst.open("xb", buffering=0) as fout:
        while n := fin.readinto(buf):
            h.update(view[:n])
            chunk = view[:n]
            while chunk:
                chunk = chunk[fout.write(chunk) :]
        os.fsync(fout.fileno())
    return h.hexdigest()
