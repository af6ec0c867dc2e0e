"""The archival package (AIP) of one 件, as it is built, checked and handed to the OCFL store.

Layout (paths relative to the package root; ``<档号>`` is the canonical archival code)::

    content/<档号>.pdf              PDF/A with the OCR text layer
    content/<档号>.txt              OCR text, UTF-8
    masters/<name as delivered>     page images, byte for byte
    metadata/metadata.xml           DA/T 46 metadata, with the process history as 业务实体 events
    metadata/checks.json            the GD check report (added after the checks)
    manifest-sha256.txt             "<hex>  <path>" for every file above (BagIt manifest form, sorted)
    manifest-sm3.txt                the same with SM3
    tagmanifest-sha256.txt          SHA-256 of both manifests
    tagmanifest-sm3.txt             SM3 of both manifests

Fixity is computed once: a file is hashed while it is copied in, or its digests come from intake
(``masters`` may be objects with ``path``, ``sha256``, ``sm3`` and ``size``, e.g. ``models.PageFile``);
nothing already listed is hashed again when the package is refreshed.

The package digest (DA/T 70 item 1-14, 固化信息) for an algorithm is the digest of the manifest for
that algorithm. The manifest is canonical (one line per file, sorted by path, LF, UTF-8), so the
package digest fixes every byte of every file and the file list. It is recorded in the tag
manifests, which read like a BagIt tag manifest.

Adding the check report (:func:`add_checks_report`): the checks run against the package as built,
so the report cannot be inside the manifests it checked. It is added afterwards: ``checks.json``
is written, its digests computed (only that file is hashed), its line added to (or replaced in)
both manifests, and the tag manifests rewritten. The package digest therefore changes when the
report is added; the report itself should quote the package digest it checked.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal, Protocol

from guidang.errors import InputError
from guidang.fsutil import fsync_dir, replace_file
from guidang.packaging import manifest
from guidang.packaging.fixity import ALGORITHMS, Digests, copy_with_digests, digest_bytes, digest_file

CONTENT_DIR = "content"
MASTERS_DIR = "masters"
METADATA_DIR = "metadata"
METADATA_XML = f"{METADATA_DIR}/metadata.xml"
CHECKS_JSON = f"{METADATA_DIR}/checks.json"
# a volume's (案卷) document-level DA/T 46 records, one per document by its place: metadata/文件-0001.xml …
DOCUMENT_RECORD = "文件-{number:04d}.xml"
DOCUMENT_RECORD_PATTERN = r"文件-[0-9]{4}\.xml"
PAYLOAD_DIRS = (CONTENT_DIR, MASTERS_DIR, METADATA_DIR)


def manifest_name(algorithm: str) -> str:
    return f"manifest-{algorithm}.txt"


def tagmanifest_name(algorithm: str) -> str:
    return f"tagmanifest-{algorithm}.txt"


TAG_FILES = tuple(manifest_name(a) for a in ALGORITHMS) + tuple(tagmanifest_name(a) for a in ALGORITHMS)


class PackageError(InputError):
    """A package cannot be built or read (bad input, bad layout, unreadable manifest)."""

    code = "PACKAGE"


class DigestedFile(Protocol):
    """A file whose digests were computed at intake (``models.PageFile`` is one)."""

    @property
    def path(self) -> Path: ...
    @property
    def sha256(self) -> str: ...
    @property
    def sm3(self) -> str: ...
    @property
    def size(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One fixity or completeness problem found by :func:`verify_package` (bagit-python style detail)."""

    path: str
    problem: Literal["missing", "unlisted", "digest", "manifest"]
    algorithm: str | None = None
    expected: str | None = None
    found: str | None = None

    def message(self, language: str = "zh") -> str:
        zh = {
            "missing": f"清单列出的文件不存在：{self.path}",
            "unlisted": f"文件未列入清单：{self.path}",
            "digest": f"{self.algorithm} 摘要不符：{self.path}（清单 {self.expected}，实际 {self.found}）",
            "manifest": f"清单文件有误：{self.path}（{self.found}）",
        }
        en = {
            "missing": f"file listed in the manifest is missing: {self.path}",
            "unlisted": f"file not listed in the manifests: {self.path}",
            "digest": f"{self.algorithm} digest mismatch: {self.path} (manifest {self.expected}, found {self.found})",
            "manifest": f"bad manifest file: {self.path} ({self.found})",
        }
        return (en if language == "en" else zh)[self.problem]


@dataclass(frozen=True)
class Package:
    """A package as read from its manifests (nothing is re-hashed to build this)."""

    root: Path
    code: str
    files: Mapping[str, Digests]  # payload path → digests, sorted by path
    package_digest: Mapping[str, str]  # algorithm → digest of manifest-<algorithm>.txt

    @property
    def pdf(self) -> str:
        return f"{CONTENT_DIR}/{self.code}.pdf"

    @property
    def text(self) -> str:
        return f"{CONTENT_DIR}/{self.code}.txt"

    @property
    def masters(self) -> tuple[str, ...]:
        return tuple(p for p in self.files if p.startswith(MASTERS_DIR + "/"))

    @property
    def has_checks_report(self) -> bool:
        return CHECKS_JSON in self.files

    def path(self, relpath: str) -> Path:
        return self.root / relpath


# -- manifests -------------------------------------------------------------------------------------


def manifest_text(files: Mapping[str, Digests], algorithm: str) -> bytes:
    """The canonical manifest: ``<hex>  <path>\\n`` per file, sorted by the path's UTF-8 bytes."""
    lines = [f"{files[p].of(algorithm)}  {manifest.encode_path(p)}\n" for p in sorted(files, key=lambda p: p.encode())]
    return "".join(lines).encode("utf-8")


def parse_manifest(data: bytes, name: str) -> dict[str, str]:
    """A manifest guidang wrote (strict grammar, see :mod:`guidang.packaging.manifest`): path -> digest."""
    parsed = manifest.parse_manifest(data, manifest.algorithm_of(name), strict=True)
    if parsed.errors:
        first = parsed.errors[0]
        if first.reason == "encoding":
            raise PackageError(f"清单不是 UTF-8 编码：{name}", f"manifest is not UTF-8: {name}")
        raise PackageError(f"清单 {name} 格式错误，{first.describe('zh')}",
                           f"manifest {name} is malformed, {first.describe('en')}")
    return parsed.as_dict()


def tag_files_bytes(files: Mapping[str, Digests]) -> dict[str, bytes]:
    """The manifests and tag manifests for ``files``: file name → bytes."""
    out = {manifest_name(a): manifest_text(files, a) for a in ALGORITHMS}
    digests = {a: digest_bytes(out[manifest_name(a)]) for a in ALGORITHMS}
    for a in ALGORITHMS:
        tag = "".join(f"{digests[m].of(a)}  {manifest_name(m)}\n" for m in sorted(ALGORITHMS))
        out[tagmanifest_name(a)] = tag.encode("ascii")
    return out


def _write_manifests(root: Path, files: Mapping[str, Digests]) -> None:
    for name, data in tag_files_bytes(files).items():
        replace_file(root / name, data)


# -- building --------------------------------------------------------------------------------------


def _check_name(name: str, what: str) -> None:
    bad = not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name
    if bad or any(c in name for c in "\r\n"):
        raise PackageError(f"{what}的文件名不可用：{name!r}", f"unusable file name for {what}: {name!r}")


def build_package(
    dest: str | os.PathLike[str],
    *,
    code: str,
    pdf: str | os.PathLike[str],
    text: str | os.PathLike[str] | bytes,
    masters: Sequence[str | os.PathLike[str] | DigestedFile],
    metadata_xml: bytes | str | os.PathLike[str],
    extra_metadata: Mapping[str, bytes] | None = None,
) -> Package:
    """Build the package at ``dest`` (which must not exist) and return it.

    ``pdf`` becomes ``content/<code>.pdf``; a file named ``*.ofd`` becomes ``content/<code>.ofd`` (a born-digital
    record whose preservation copy is its OFD).

    ``text`` and ``metadata_xml`` may be file paths or the bytes themselves (``text`` bytes must be
    UTF-8). ``masters`` are paths, or intake records carrying digests (those are not re-hashed; their
    size is checked). ``extra_metadata`` are further files of ``metadata/`` by name (a volume's
    document-level metadata, ``文件-0001.xml`` …). The package is built in a temporary sibling
    directory and renamed into place, so ``dest`` either does not exist or is complete.
    """
    code = str(code)
    _check_name(code, "档号")
    target = Path(dest)
    if target.exists():
        raise PackageError(f"档案包目录已存在：{target}", f"package directory already exists: {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".building", dir=target.parent))
    try:
        for d in PAYLOAD_DIRS:
            (work / d).mkdir()
        files: dict[str, Digests] = {}
        # the fixed-layout copy: a PDF/A, or an OFD kept as a born-digital record's preservation copy
        content = f"{code}.ofd" if Path(pdf).suffix.lower() == ".ofd" else f"{code}.pdf"
        files[f"{CONTENT_DIR}/{content}"] = copy_with_digests(pdf, work / CONTENT_DIR / content)
        text_rel = f"{CONTENT_DIR}/{code}.txt"
        if isinstance(text, bytes):
            files[text_rel] = _put_bytes(work, text_rel, text)
        else:
            files[text_rel] = copy_with_digests(text, work / text_rel)
        _require_utf8(work / text_rel, "OCR 文本", "OCR text")
        if isinstance(metadata_xml, bytes):
            files[METADATA_XML] = _put_bytes(work, METADATA_XML, metadata_xml)
        else:
            files[METADATA_XML] = copy_with_digests(metadata_xml, work / METADATA_XML)
        for name, data in (extra_metadata or {}).items():
            _check_name(name, "元数据")
            rel = f"{METADATA_DIR}/{name}"
            if rel in files:
                raise PackageError(f"元数据文件名重复：{name}", f"duplicate metadata file name: {name}")
            files[rel] = _put_bytes(work, rel, data)
        names = [Path(m if isinstance(m, (str, os.PathLike)) else m.path).name for m in masters]
        for name in {n for n in names if names.count(n) > 1}:
            raise PackageError(f"原始图像文件名重复：{name}", f"duplicate master file name: {name}")
        for master in masters:
            rel, digests = _add_master(work, master)
            files[rel] = digests
        _write_manifests(work, files)
        _fsync_tree(work)
        os.rename(work, target)
        fsync_dir(target.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return read_package(target)


def _put_bytes(root: Path, rel: str, data: bytes) -> Digests:
    path = root / rel
    with path.open("xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return digest_bytes(data)


def _require_utf8(path: Path, what_zh: str, what_en: str) -> None:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackageError(
            f"{what_zh}不是 UTF-8 编码（第 {exc.start} 字节）", f"{what_en} is not UTF-8 (byte {exc.start})"
        ) from exc


def _add_master(root: Path, master: str | os.PathLike[str] | DigestedFile) -> tuple[str, Digests]:
    if isinstance(master, (str, os.PathLike)):
        src = Path(master)
        _check_name(src.name, "原始图像")
        rel = f"{MASTERS_DIR}/{src.name}"
        return rel, copy_with_digests(src, root / rel)
    src = Path(master.path)
    _check_name(src.name, "原始图像")
    rel = f"{MASTERS_DIR}/{src.name}"
    try:
        recorded = Digests.from_mapping({"sha256": master.sha256, "sm3": master.sm3, "size": master.size})
    except ValueError as exc:
        raise PackageError(f"接收时记录的摘要无效：{src}（{exc}）", f"bad intake digests for {src}: {exc}") from exc
    try:
        shutil.copyfile(src, root / rel)
        copied = (root / rel).stat().st_size
    except OSError as exc:
        raise PackageError(
            f"无法复制原始图像：{src}（{exc.strerror or exc}）",
            f"cannot copy master {src}: {exc.strerror or exc}",
        ) from exc
    if copied != recorded.size:
        raise PackageError(
            f"原始图像自接收后已改变：{src}（接收时 {recorded.size} 字节，现在 {copied} 字节）",
            f"master changed since intake: {src} ({recorded.size} bytes at intake, {copied} now)",
        )
    return rel, recorded




def _fsync_tree(root: Path) -> None:
    """Flush every file and directory under ``root`` (files copied by shutil were not fsynced)."""
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


# -- reading and verifying -------------------------------------------------------------------------


def _read_manifests(root: Path) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for a in ALGORITHMS:
        path = root / manifest_name(a)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise PackageError(f"档案包缺少清单：{path}", f"package lacks its manifest: {path}") from None
        except OSError as exc:
            raise PackageError(f"无法读取清单：{path}（{exc}）", f"cannot read manifest {path}: {exc}") from exc
        out[a] = parse_manifest(data, manifest_name(a))
    return out


def _sizes(root: Path, paths: Iterable[str]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for p in paths:
        try:
            sizes[p] = (root / p).stat().st_size
        except OSError as exc:
            raise PackageError(
                f"清单列出的文件无法读取：{root / p}（{exc.strerror or exc}）",
                f"file listed in the manifest cannot be read: {root / p} ({exc.strerror or exc})",
            ) from exc
    return sizes


def read_package(path: str | os.PathLike[str]) -> Package:
    """Read a package from its manifests; raise :class:`PackageError` when it is not a package."""
    root = Path(path)
    if not root.is_dir():
        raise PackageError(f"不是档案包目录：{root}", f"not a package directory: {root}")
    manifests = _read_manifests(root)
    listed = manifests[ALGORITHMS[0]]
    if any(set(m) != set(listed) for m in manifests.values()):
        raise PackageError(f"各清单列出的文件不一致：{root}", f"the manifests do not list the same files: {root}")
    top = [p for p in listed if p.startswith(f"{CONTENT_DIR}/") and p.count("/") == 1]
    pdfs = [p for p in top if p.endswith(".pdf")]
    ofds = [p for p in top if p.endswith(".ofd")]
    if len(pdfs) != 1 and not (not pdfs and len(ofds) == 1):  # a born-digital record's OFD may be its copy
        raise PackageError(
            f"档案包应在 content/ 下恰有一个 PDF，实有 {len(pdfs)} 个：{root}",
            f"a package has exactly one PDF in content/, found {len(pdfs)}: {root}",
        )
    code = PurePosixPath((pdfs or ofds)[0]).stem
    sizes = _sizes(root, listed)
    files = {
        p: Digests(sha256=manifests["sha256"][p], sm3=manifests["sm3"][p], size=sizes[p])
        for p in sorted(listed, key=lambda p: p.encode())
    }
    package_digest = {a: digest_file(root / manifest_name(a)).of(a) for a in ALGORITHMS}
    return Package(root=root, code=code, files=files, package_digest=package_digest)


def _walk_payload(root: Path) -> set[str]:
    found: set[str] = set()
    for top in PAYLOAD_DIRS:
        base = root / top
        if not base.is_dir():
            continue
        for dirpath, _dirs, names in os.walk(base):
            for name in names:
                found.add(Path(dirpath, name).relative_to(root).as_posix())
    return found


def verify_package(path: str | os.PathLike[str]) -> list[Mismatch]:
    """Recompute every digest and compare with the manifests; return every problem found.

    All files are checked even after a first problem, so the report names each changed file.
    """
    root = Path(path)
    problems: list[Mismatch] = []
    try:
        manifests = _read_manifests(root)
    except PackageError as exc:
        return [Mismatch(path=str(root), problem="manifest", found=exc.en)]
    listed: set[str] = set().union(*manifests.values())
    for a, entries in manifests.items():
        for p in sorted(listed - set(entries)):
            problems.append(Mismatch(path=p, problem="manifest", algorithm=a, found=f"not in {manifest_name(a)}"))
    problems.extend(_verify_tagmanifests(root))
    for p in sorted(_walk_payload(root) - listed):
        problems.append(Mismatch(path=p, problem="unlisted"))
    for p in sorted(listed, key=lambda p: p.encode()):
        file = root / p
        if not file.is_file():
            problems.append(Mismatch(path=p, problem="missing"))
            continue
        actual = digest_file(file)
        for a, entries in manifests.items():
            if p in entries and entries[p] != actual.of(a):
                problems.append(
                    Mismatch(path=p, problem="digest", algorithm=a, expected=entries[p], found=actual.of(a))
                )
    return problems


def _verify_tagmanifests(root: Path) -> list[Mismatch]:
    problems: list[Mismatch] = []
    actual = {m: digest_file(root / manifest_name(m)) for m in ALGORITHMS}
    for a in ALGORITHMS:
        name = tagmanifest_name(a)
        try:
            entries = parse_manifest((root / name).read_bytes(), name)
        except FileNotFoundError:
            problems.append(Mismatch(path=name, problem="missing"))
            continue
        except PackageError as exc:
            problems.append(Mismatch(path=name, problem="manifest", found=exc.en))
            continue
        for m in ALGORITHMS:
            expected = entries.get(manifest_name(m))
            if expected is None:
                problems.append(
                    Mismatch(path=manifest_name(m), problem="manifest", algorithm=a, found=f"not in {name}")
                )
            elif expected != actual[m].of(a):
                problems.append(
                    Mismatch(
                        path=manifest_name(m),
                        problem="digest",
                        algorithm=a,
                        expected=expected,
                        found=actual[m].of(a),
                    )
                )
    return problems


# -- changing a package before it is stored ----------------------------------------------------------


def add_checks_report(path: str | os.PathLike[str], report: bytes | Mapping[str, object]) -> Package:
    """Write ``metadata/checks.json`` and refresh the manifests (only the report is hashed).

    A mapping is written as UTF-8 JSON. Calling it again replaces the report and its lines.
    """
    data = (
        report
        if isinstance(report, bytes)
        else (json.dumps(report, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
    )
    return replace_files(path, {CHECKS_JSON: data})


def replace_files(path: str | os.PathLike[str], new: Mapping[str, bytes]) -> Package:
    """Write (or replace) payload files under ``metadata/`` and refresh the manifests.

    Only the new files are hashed; every other line of the manifests is carried over.
    """
    root = Path(path)
    pkg = read_package(root)
    files = dict(pkg.files)
    for rel, data in new.items():
        if not rel.startswith(METADATA_DIR + "/") or rel.count("/") != 1:
            raise PackageError(f"只能替换 metadata/ 下的文件：{rel}", f"only files in metadata/ can be replaced: {rel}")
        _check_name(rel.split("/", 1)[1], "元数据")
        replace_file(root / rel, data)
        files[rel] = digest_bytes(data)
    _write_manifests(root, files)
    return read_package(root)
