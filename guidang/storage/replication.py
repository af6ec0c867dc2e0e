"""Copying a whole OCFL object from one storage root to another: the second copy, an offline carrier, a repair.

The copy is assembled in the target's staging folder, every content file checked against the SHA-256 its
inventory records while it is copied (a damaged source is never copied as good), then renamed into place.
An object the target already holds is replaced only when asked (``replace=True``: a second copy brought up
to date after a correction, or a repair); the old copy is then moved into the target's ``quarantine/`` (kept
as evidence, never deleted by guidang) before the new one is renamed in. Between those two renames the
target lacks the object; an audit in that instant reports it missing, and the next sync or repair completes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

from guidang.errors import StorageError
from guidang.fsutil import fsync_dir
from guidang.storage.ocfl_store import INVENTORY, ObjectExistsError, OcflStore, copy_checking_sha256


def quarantine_root(store: OcflStore) -> Path:
    return store.staging.parent / "quarantine"


def copy_object(src: OcflStore, dst: OcflStore, code: str, *, replace: bool = False) -> Path:
    """Copy object ``code`` from ``src`` into ``dst``, verified; returns its folder in ``dst``.

    Raises :class:`StorageError` when a source file does not match its inventory (nothing is written to
    ``dst``), :class:`ObjectExistsError` when ``dst`` holds the object and ``replace`` is false.
    """
    source = src.object_path(code)
    target = dst.object_path(code)
    if target.exists() and not replace:
        raise ObjectExistsError(f"目标存储中已有对象 {code}", f"the target store already holds object {code}")
    inventory: dict[str, Any] = json.loads((source / INVENTORY).read_bytes())
    if str(inventory.get("id")) != code:
        raise StorageError(f"对象 {code} 的清点文件标识不符", f"the inventory of object {code} names another id")
    stage = Path(tempfile.mkdtemp(prefix="copy-", dir=dst.staging))
    try:
        content = {p: d for d, paths in inventory["manifest"].items() for p in paths}
        for dirpath, _dirs, names in os.walk(source):
            for name in names:
                path = Path(dirpath) / name
                rel = path.relative_to(source).as_posix()
                out = stage / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                if rel in content:
                    found = copy_checking_sha256(path, out)
                    if found != content[rel]:
                        raise StorageError(
                            f"源对象 {code} 的文件“{rel}”已损坏（SHA-256 应为 {content[rel]}，实为 {found}），不复制",
                            f"{rel} of object {code} is damaged in the source (SHA-256 {found}, expected "
                            f"{content[rel]}); not copied",
                        )
                elif "/" in rel and not rel.endswith((INVENTORY, f"{INVENTORY}.sha256")):
                    raise StorageError(f"源对象 {code} 含清点文件未记录的文件“{rel}”，不复制",
                                       f"object {code} holds {rel}, which no inventory names; not copied")
                else:
                    shutil.copyfile(path, out)
        missing = sorted(set(content) - {p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file()})
        if missing:
            raise StorageError(f"源对象 {code} 缺少文件：{', '.join(missing[:5])}，不复制",
                               f"object {code} lacks {', '.join(missing[:5])} in the source; not copied")
        for dirpath, _dirs, _names in os.walk(stage):
            fsync_dir(Path(dirpath))
        with dst._lock():
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                if not replace:
                    raise ObjectExistsError(f"目标存储中已有对象 {code}", f"the target store already holds {code}")
                quarantine = quarantine_root(dst)
                quarantine.mkdir(exist_ok=True)
                stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
                os.rename(target, quarantine / f"{stamp}-{urllib.parse.quote(code, safe='')}")
            os.rename(stage, target)
            fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return target
