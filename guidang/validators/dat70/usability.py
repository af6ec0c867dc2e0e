"""DA/T 70 可用性 (usability) checks 3-1 … 3-9 (3-4 is manual: the registry reports it)."""

from __future__ import annotations

import json
import platform
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from importlib import metadata as importlib_metadata
from pathlib import Path, PurePosixPath

import pikepdf

from guidang.packaging import aip
from guidang.packaging.fixity import FixityError, digest_file_with
from guidang.validators.dat70.package import CHECKS_JSON, METADATA, PackageView
from guidang.validators.dat70.subject import Dat70Subject, ev
from guidang.validators.file_checks import check_file
from guidang.validators.formats import extension_fits
from guidang.validators.pdf_checks import pdfa_approved
from guidang.validators.registry import check
from guidang.validators.result import Finding, Status

FAIL, WARN, PASS = Status.FAIL, Status.WARN, Status.PASS

# non-open (proprietary) compression and archive formats (3-8), by PRONOM id
CLOSED_COMPRESSION = {
    "x-fmt/264": "RAR",
    "fmt/411": "RAR 2.9",
    "fmt/613": "RAR 5",
    "x-fmt/265": "ARJ",
    "fmt/626": "LHA",
    "x-fmt/418": "ACE",
    "x-fmt/419": "StuffIt",
    "fmt/409": "Microsoft Cabinet",
}


# TIFF compressions with public specifications still in use (TIFF 6.0 + Adobe supplements):
# none, CCITT RLE/G3/G4, LZW, JPEG (new style), Deflate, PackBits. Old-style JPEG (6) is withdrawn;
# anything else (vendor codes like ThunderScan, Kodak, Nikon) is not an open, durable choice.
OPEN_TIFF_COMPRESSION = frozenset({1, 2, 3, 4, 5, 7, 8, 32773, 32946})


def tiff_compression(path: Path) -> int | None:
    """The Compression tag (259) of the first image of a TIFF, None if unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            value = getattr(im, "tag_v2", {}).get(259)
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    return int(value) if value is not None else 1


@check("3-1")
def metadata_readable(s: Dat70Subject) -> Iterator[Finding]:
    pkg = s.package
    if pkg.metadata is None:
        yield Finding(
            FAIL,
            "unreadable",
            {"file": METADATA, "detail": pkg.metadata_error},
            ev(METADATA, expected="well-formed XML", found=pkg.metadata_error),
        )


@check("3-2")
def database_reachable(s: Dat70Subject) -> Iterator[Finding]:
    db = s.context.db
    if db is None:
        yield Finding(WARN, "no_db")
        return
    try:
        db.ping()
    except Exception as exc:  # any driver error means "not accessible"; the message says which
        yield Finding(FAIL, "unreachable", {"detail": str(exc)}, ev("catalogue DB", found=str(exc)))


def _content_pdfs(s: Dat70Subject) -> list[str]:
    return [f for f in s.package.content_files if f.lower().endswith(".pdf")]


def _accepted(s: Dat70Subject, relpath: str, accepted: list[str]) -> tuple[list[str], str]:
    """The formats a record file may take, and the finding key when it does not.

    A born-digital record keeps its originals as delivered (masters/, ``original_formats``: office formats are
    acceptable there) beside its preservation copy (content/, ``preservation_formats`` only); a digitised
    record's files are all held to ``accepted`` (data/archival_formats.toml says which family is which)."""
    if not s.package.born_digital:
        return accepted, ""
    if relpath in s.package.master_files:
        return s.options.original_formats, "not_original"
    return s.options.preservation_formats, "not_preservation_copy"


def _format_findings(s: Dat70Subject, allowed: list[str], key: str, check_extension: bool) -> Iterator[Finding]:
    for relpath in s.package.record_files:
        fid = s.identify(relpath)
        if not fid.identified and relpath == f"{aip.CONTENT_DIR}/{s.package.archival_code}.txt" \
                and s.package.size(relpath) == 0:  # fmt: skip
            # the package's text is UTF-8 by construction (aip); empty when nothing in the record has words
            yield Finding(WARN, "empty_text", {"file": relpath}, ev(relpath, "字节数", "UTF-8 text", 0))
            continue
        if not fid.identified:
            yield Finding(FAIL, "unidentified", {"file": relpath}, ev(relpath, "PRONOM", found=fid.basis or "none"))
            continue
        accepted, role_key = _accepted(s, relpath, allowed)
        if fid.puid not in accepted:
            yield Finding(
                FAIL,
                role_key or key,
                {"file": relpath, "format": fid.label(), "puid": fid.puid},
                ev(relpath, "PRONOM", "allowed format", f"{fid.puid} {fid.label()}"),
            )
        elif check_extension and not extension_fits(s.path(relpath), fid):
            yield Finding(
                FAIL,
                "extension",
                {"file": relpath, "format": fid.label()},
                ev(relpath, "extension", fid.mime, PurePosixPath(relpath).suffix),
            )
    for relpath in _content_pdfs(s):
        ok, problems = pdfa_approved(s.path(relpath), s.options.pdfa_part)
        if not ok:
            detail = "；".join(problems[:3]) + (f"（共 {len(problems)} 项）" if len(problems) > 3 else "")
            yield Finding(
                FAIL,
                "not_pdfa",
                {"file": relpath, "part": s.options.pdfa_part, "detail": detail},
                ev(relpath, "PDF/A", f"PDF/A-{s.options.pdfa_part}", detail),
            )
    for relpath in _content_ofds(s):  # an OFD as the preservation copy: its structure and seal digests hold
        report = check_file(s.path(relpath), s.options, shown=relpath)
        failures = [r for r in report.results if r.status is FAIL]
        if failures:
            detail = "；".join(r.message_zh for r in failures[:3])
            yield Finding(FAIL, "not_ofd", {"file": relpath, "detail": detail},
                          ev(relpath, "OFD", "GB/T 33190", detail))


def _content_ofds(s: Dat70Subject) -> list[str]:
    return [f for f in s.package.content_files if f.lower().endswith(".ofd")] if s.package.born_digital else []


@check("3-3")
def formats_allowed(s: Dat70Subject) -> Iterator[Finding]:
    yield from _format_findings(s, s.options.allowed_formats, "not_allowed", check_extension=True)


@check("3-5")
def formats_for_preservation(s: Dat70Subject) -> Iterator[Finding]:
    yield from _format_findings(s, s.options.preservation_formats, "not_preservation", check_extension=False)


# ---------------------------------------------------------------------------------------------- 3-6, 3-7
TOOLS = ("qpdf", "clamd", "tesseract")
PACKAGES = ("guidang", "pikepdf", "pygfried", "lxml", "pillow")


def environment() -> dict[str, str]:
    """The checking environment, as recorded by GD-3-6 and compared by BC-3-7."""
    env = {
        "os": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
        "python": platform.python_version(),
        "qpdf": pikepdf.__libqpdf_version__,
    }
    for name in PACKAGES:
        try:
            env[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            env[name] = "absent"
    return env


def _summary(env: dict[str, str]) -> str:
    return json.dumps(env, ensure_ascii=False, sort_keys=True)


@check("3-6")
def environment_recorded(s: Dat70Subject) -> Iterator[Finding]:
    pkg = s.package
    forbidden = [f.lower() for f in s.options.forbidden_programs]
    for block in pkg.file_blocks:
        name = pkg.text_of("计算机文件名", block) or "?"
        program = pkg.text_of("文档创建程序", block) or ""
        system = pkg.text_of("信息系统描述", block) or pkg.text_of("信息系统描述") or ""
        if not (program or system):
            yield Finding(FAIL, "not_recorded", {"file": name}, ev(METADATA, "文档创建程序", "recorded", "empty"))
        for value in (program, system):
            if value and any(f in value.lower() for f in forbidden):
                yield Finding(
                    FAIL,
                    "forbidden",
                    {"file": name, "program": value},
                    ev(METADATA, "文档创建程序", "an acceptable program", value),
                )
    for tool in TOOLS:
        if shutil.which(tool) is None:
            yield Finding(WARN, "tool_missing", {"tool": tool}, ev(field=tool, expected="installed", found="absent"))
    env = environment()
    summary = _summary(env)
    yield Finding(PASS, "environment", {"summary": summary}, ev(field="environment", found=summary))


def _recorded_environment(pkg: PackageView) -> dict[str, str] | None:
    path = pkg.path(CHECKS_JSON)
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    results = data if isinstance(data, list) else data.get("results", []) if isinstance(data, dict) else []
    for r in results:
        if isinstance(r, dict) and r.get("check") == "GD-3-6":
            for e in r.get("evidence", []):
                if isinstance(e, dict) and e.get("field") == "environment":
                    try:
                        env = json.loads(e.get("found", ""))
                    except ValueError:
                        return None
                    return {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else None
    return None


@check("3-7")
def environment_changes(s: Dat70Subject) -> Iterator[Finding]:
    now = environment()
    before = _recorded_environment(s.package)
    if before is None:
        yield Finding(WARN, "no_record", {"summary": _summary(now)}, ev(CHECKS_JSON, "GD-3-6", found=_summary(now)))
        return
    changed = False
    for component in sorted(set(before) | set(now)):
        b, a = before.get(component, "absent"), now.get(component, "absent")
        if a != b:
            changed = True
            yield Finding(
                WARN,
                "changed",
                {"component": component, "before": b, "after": a},
                ev(CHECKS_JSON, component, b, a),
            )
    if not changed:
        yield Finding(PASS, "unchanged")


# ---------------------------------------------------------------------------------------------- 3-8
@check("3-8")
def no_encryption_or_closed_compression(s: Dat70Subject) -> Iterator[Finding]:
    for relpath in s.package.record_files:
        path = s.path(relpath)
        fid = s.identify(relpath)
        if fid.puid in CLOSED_COMPRESSION:
            yield Finding(
                FAIL,
                "closed_compression",
                {"file": relpath, "format": CLOSED_COMPRESSION[fid.puid]},
                ev(relpath, "PRONOM", "open format", fid.puid),
            )
            continue
        if fid.mime == "image/tiff":
            code = tiff_compression(path)
            if code is not None and code not in OPEN_TIFF_COMPRESSION:
                yield Finding(
                    FAIL,
                    "closed_compression",
                    {"file": relpath, "format": f"TIFF Compression={code}"},
                    ev(relpath, "TIFF tag 259", "/".join(map(str, sorted(OPEN_TIFF_COMPRESSION))), code),
                )
        elif fid.mime == "application/pdf" or path.suffix.lower() == ".pdf":
            try:
                with pikepdf.open(path) as pdf:
                    if pdf.is_encrypted:
                        yield Finding(
                            FAIL,
                            "encrypted_pdf",
                            {"file": relpath},
                            ev(relpath, "/Encrypt", "none", "present"),
                        )
            except pikepdf.PasswordError:
                yield Finding(
                    FAIL, "encrypted_pdf", {"file": relpath}, ev(relpath, "/Encrypt", "none", "user password")
                )
            except (pikepdf.PdfError, OSError) as exc:
                yield Finding(FAIL, "unreadable", {"file": relpath, "detail": str(exc)}, ev(relpath, found=str(exc)))
        elif zipfile.is_zipfile(path):
            try:
                with zipfile.ZipFile(path) as z:
                    for info in z.infolist():
                        if info.flag_bits & 0x1:
                            yield Finding(
                                FAIL,
                                "encrypted_zip",
                                {"file": relpath, "member": info.filename},
                                ev(relpath, info.filename, "not encrypted", "encrypted"),
                            )
            except (zipfile.BadZipFile, OSError) as exc:
                yield Finding(FAIL, "unreadable", {"file": relpath, "detail": str(exc)}, ev(relpath, found=str(exc)))


# ---------------------------------------------------------------------------------------------- 3-9
def _restore(backup: Path, into: Path) -> Path:
    """Restore a backup (a folder, a .zip or a .tar[.gz|.xz|.bz2]) into ``into``; return the package root."""
    if backup.is_dir():
        return backup
    if zipfile.is_zipfile(backup):
        with zipfile.ZipFile(backup) as z:
            for name in z.namelist():
                target = (into / name).resolve()
                if not target.is_relative_to(into.resolve()):
                    raise ValueError(f"unsafe path in backup: {name}")
            z.extractall(into)
    elif tarfile.is_tarfile(backup):
        with tarfile.open(backup) as t:
            t.extractall(into, filter="data")
    else:
        raise ValueError("neither a folder nor a zip or tar archive")
    entries = list(into.iterdir())
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else into


@check("3-9")
def backups_restorable(s: Dat70Subject) -> Iterator[Finding]:
    backups = list(s.context.backups)
    if not backups:
        yield Finding(FAIL, "no_backup")
        return
    originals = {f: s.digest(f) for f in s.package.files if f not in s.package.symlinks}
    for backup in backups:
        name = str(backup)
        if not backup.exists():
            yield Finding(FAIL, "backup_missing", {"backup": name}, ev(name))
            continue
        with tempfile.TemporaryDirectory(prefix="guidang-restore-") as tmp:
            try:
                root = _restore(backup, Path(tmp))
            except (OSError, ValueError, tarfile.TarError, zipfile.BadZipFile) as exc:
                yield Finding(FAIL, "restore_failed", {"backup": name, "detail": str(exc)}, ev(name, found=str(exc)))
                continue
            restored = PackageView(root)
            for relpath, digest in originals.items():
                p = restored.path(relpath)
                if not p.is_file():
                    yield Finding(
                        FAIL,
                        "restored_differs",
                        {"backup": name, "file": relpath, "detail": "missing"},
                        ev(relpath, "SHA-256", digest, "missing"),
                    )
                    continue
                try:
                    found = digest_file_with(p, "sha256")
                except FixityError as exc:
                    found = exc.message("en")
                if found != digest:
                    yield Finding(
                        FAIL,
                        "restored_differs",
                        {"backup": name, "file": relpath, "detail": "SHA-256"},
                        ev(relpath, "SHA-256", digest, found),
                    )
