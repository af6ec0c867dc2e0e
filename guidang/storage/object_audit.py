"""Fixity audit of one stored OCFL object: every defect found in its bytes and its structure, nothing touched.

This is the storage half of ``guidang audit`` (BC stage): it knows OCFL (declaration, inventory and its
sidecar, version directories, the manifest of content paths and their SHA-256) and nothing of the package
format. Each content file is read once, by the digest function the caller passes (the pipeline passes
:func:`guidang.packaging.fixity.digest_file`, SHA-256 and SM3 in one read), so SM3 is computed here and
compared above, against the package's own ``manifest-sm3.txt``.

The defects, each a :class:`Defect` with the object path and the expected and found values:

* ``inventory_changed``: the root inventory's SHA-256 is not the one in its sidecar, or it differs from the
  head version's copy (OCFL 3.5.3: they must be identical);
* ``object_truncated``: the object was cut short: its declaration, inventory or a version directory the
  inventory names is gone, or the inventory is not readable JSON;
* ``missing_file``: a content path of the manifest is not on disk;
* ``digest_mismatch``: a content file's SHA-256 is not the manifest's (bit rot, an edit, a truncation);
* ``extra_file``: a file in the object that no inventory names (a file added behind guidang's back).

Memory is flat in the object's size: files are streamed by the digest function, one at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guidang.storage.ocfl_store import _VERSION_RE, INVENTORY, SIDECAR, SPEC_VERSION, OcflStore

DigestFn = Callable[[Path], Mapping[str, str]]
"""A file's digests by algorithm name (must include ``sha256``)."""


@dataclass(frozen=True, slots=True)
class Defect:
    kind: str  # see the module docstring
    path: str  # path inside the object ("" for the object as a whole)
    expected: str | None = None
    found: str | None = None
    algorithm: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectFixity:
    """What the audit of one object found: its defects, and the digests of the head version's files."""

    code: str
    path: Path
    defects: tuple[Defect, ...]
    files: int  # content files read
    bytes: int  # bytes read
    head: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # logical path → digests found
    head_files: Mapping[str, Path] = field(default_factory=dict)  # logical path → its content file
    inventory_digest: str | None = None  # SHA-256 of the root inventory as found

    @property
    def intact(self) -> bool:
        return not self.defects


def sha256_file(path: Path) -> dict[str, str]:
    """SHA-256 alone (the default digest function; the pipeline passes SHA-256 + SM3)."""
    h = hashlib.sha256()
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            h.update(view[:n])
    return {"sha256": h.hexdigest()}


_OCFL_FILES = frozenset({f"0=ocfl_object_{SPEC_VERSION}", INVENTORY, SIDECAR})


def _sidecar_digest(obj: Path) -> str | None:
    try:
        return (obj / SIDECAR).read_text("ascii").split()[0].lower()
    except (OSError, UnicodeDecodeError, IndexError):
        return None


def _walk_files(obj: Path) -> Iterator[str]:
    for dirpath, _dirs, names in os.walk(obj):
        for name in names:
            yield (Path(dirpath) / name).relative_to(obj).as_posix()


def _newer_version_files(obj: Path, head: str) -> set[str]:
    """Files of a version directory newer than the root inventory's head that carries its own inventory: a
    commit in progress (or cut short, rolled forward on the next write), not files added behind guidang."""
    out: set[str] = set()
    for entry in obj.iterdir():
        m = _VERSION_RE.match(entry.name)
        if m is None or int(m.group(1)) <= int(head[1:]) or not (entry / INVENTORY).is_file():
            continue
        try:
            inventory = json.loads((entry / INVENTORY).read_bytes())
            out |= {p for paths in inventory["manifest"].values() for p in paths if p.startswith(f"{entry.name}/")}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        out |= {f"{entry.name}/{INVENTORY}", f"{entry.name}/{SIDECAR}"}
    return out


def stored_objects(store: OcflStore) -> Iterator[tuple[str, Path]]:
    """(档号, folder) of every object in the store, found by walking it, not by reading inventories: an
    object whose inventory is gone or cut short is still found (its 档号 is then its folder's name)."""
    for dirpath, dirs, names in os.walk(store.root):
        here = Path(dirpath)
        if here == store.root:
            dirs[:] = sorted(d for d in dirs if d != "extensions")
            continue
        dirs.sort()
        if f"0=ocfl_object_{SPEC_VERSION}" in names or INVENTORY in names:
            dirs[:] = []
            try:
                code = str(json.loads((here / INVENTORY).read_bytes())["id"])
            except (OSError, ValueError, KeyError, TypeError):
                code = urllib.parse.unquote(here.name)
            yield code, here


def audit_object(store: OcflStore, code: str, digest: DigestFn = sha256_file, obj: Path | None = None) -> ObjectFixity:
    """Audit the object ``code`` in ``store`` (read only: no roll-forward, no repair); ``obj``: its folder
    when already known (see :func:`stored_objects`)."""
    obj = obj if obj is not None else store.object_path(code)
    defects: list[Defect] = []
    if not obj.is_dir():
        return ObjectFixity(code, obj, (Defect("object_truncated", "", expected="object folder", found="none"),), 0, 0)
    if not (obj / f"0=ocfl_object_{SPEC_VERSION}").is_file():
        defects.append(Defect("object_truncated", f"0=ocfl_object_{SPEC_VERSION}", expected="present", found="none"))
    try:
        inv_bytes = (obj / INVENTORY).read_bytes()
    except OSError:
        defects.append(Defect("object_truncated", INVENTORY, expected="present", found="none"))
        return ObjectFixity(code, obj, tuple(defects), 0, 0)
    inv_digest = hashlib.sha256(inv_bytes).hexdigest()
    recorded = _sidecar_digest(obj)
    if recorded != inv_digest:
        defects.append(Defect("inventory_changed", INVENTORY, recorded, inv_digest, "sha256"))
    try:
        inventory: dict[str, Any] = json.loads(inv_bytes)
        manifest: dict[str, list[str]] = inventory["manifest"]
        versions: dict[str, Any] = inventory["versions"]
        head = str(inventory["head"])
        head_state: dict[str, list[str]] = versions[head]["state"]
    except (ValueError, KeyError, TypeError):
        defects.append(Defect("object_truncated", INVENTORY, expected="a complete OCFL inventory",
                              found=f"{len(inv_bytes)} bytes, not readable"))
        return ObjectFixity(code, obj, tuple(defects), 0, 0, inventory_digest=inv_digest)
    head_copy = obj / head / INVENTORY
    if head_copy.is_file() and hashlib.sha256(head_copy.read_bytes()).hexdigest() != inv_digest:
        defects.append(Defect("inventory_changed", f"{head}/{INVENTORY}", inv_digest,
                              hashlib.sha256(head_copy.read_bytes()).hexdigest(), "sha256"))
    known = set(_OCFL_FILES)
    for v in versions:
        if not (obj / v).is_dir():
            defects.append(Defect("object_truncated", v, expected="version directory", found="none"))
        known |= {f"{v}/{INVENTORY}", f"{v}/{SIDECAR}"}
    known |= _newer_version_files(obj, head)
    found_by_digest: dict[str, Mapping[str, str]] = {}
    files = size = 0
    for expected, paths in sorted(manifest.items(), key=lambda kv: kv[1][0]):
        for content_path in paths:
            known.add(content_path)
            path = obj / content_path
            if not path.is_file():
                defects.append(Defect("missing_file", content_path, expected, None, "sha256"))
                continue
            size += path.stat().st_size
            got = digest(path)
            files += 1
            found_by_digest.setdefault(expected, got)
            if got["sha256"] != expected:
                defects.append(Defect("digest_mismatch", content_path, expected, got["sha256"], "sha256"))
    defects.extend(Defect("extra_file", rel, None, "present") for rel in sorted(set(_walk_files(obj)) - known))
    head_digests = {p: found_by_digest[d] for d, paths in head_state.items() if d in found_by_digest for p in paths}
    head_files = {p: obj / manifest[d][0] for d, paths in head_state.items() if d in manifest for p in paths}
    return ObjectFixity(code, obj, tuple(defects), files, size, head_digests, head_files, inv_digest)


def same_object(a: ObjectFixity, b: ObjectFixity) -> bool:
    """Two intact copies hold the same object when their root inventories are byte for byte the same."""
    return a.inventory_digest is not None and a.inventory_digest == b.inventory_digest
