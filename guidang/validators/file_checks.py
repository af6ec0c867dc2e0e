"""Checks of one delivered file other than a PDF: format by content, images decode, OFD structure and seals."""

from __future__ import annotations

import os
import stat
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml import etree
from PIL import Image, UnidentifiedImageError

from guidang import safexml
from guidang.validators.dat70_options import Dat70Options
from guidang.validators.formats import extension_fits, identify
from guidang.validators.registry import REGISTRY, check
from guidang.validators.result import Evidence, Finding, Report, Status
from guidang.validators.signatures import ofd_signature_problems, ofd_signatures

IMAGE_SUFFIXES = frozenset({".tif", ".tiff", ".jpg", ".jpeg", ".png", ".jp2", ".bmp", ".gif"})
# an OFD member is not read when it would inflate past these: the same bounds as an XLSX catalogue's parts
# (pipeline.limits.BatchLimits max_xlsx_part_bytes and max_xlsx_ratio; docs/security.md)
OFD_MAX_MEMBER_BYTES = 256 * 1024 * 1024
OFD_MAX_RATIO = 200.0


@dataclass(frozen=True)
class FileSubject:
    path: Path
    options: Dat70Options
    shown: str

    def ev(
        self, field: str | None = None, expected: str | None = None, found: str | None = None
    ) -> tuple[Evidence, ...]:
        return (Evidence(file=self.shown, field=field, expected=expected, found=found),)


@check("FILE-FORMAT")
def file_format(s: FileSubject) -> Iterator[Finding]:
    fid = identify(s.path)
    if not fid.identified:
        yield Finding(Status.FAIL, "unidentified", evidence=s.ev("PRONOM", found=fid.basis or "none"))
        return
    params = {"format": fid.label(), "puid": fid.puid, "mime": fid.mime or "?"}
    if fid.puid not in s.options.allowed_formats:
        yield Finding(Status.FAIL, "not_allowed", params, s.ev("PRONOM", "allowed format", fid.puid))
    elif not extension_fits(s.path, fid):
        yield Finding(
            Status.FAIL, "extension", {**params, "suffix": s.path.suffix}, s.ev("extension", fid.mime, s.path.suffix)
        )
    else:
        yield Finding(Status.PASS, "identified", params, s.ev("PRONOM", found=f"{fid.puid} {fid.label()}"))


_SPECIAL = {
    stat.S_IFIFO: ("FIFO", "命名管道（FIFO）"),
    stat.S_IFSOCK: ("socket", "套接字"),
    stat.S_IFCHR: ("character device", "字符设备"),
    stat.S_IFBLK: ("block device", "块设备"),
}


@check("FILE-KIND")
def file_kind(s: FileSubject) -> Iterator[Finding]:
    """What ``lstat`` says the entry is: only regular files are opened (links are never followed)."""
    mode = os.lstat(s.path).st_mode
    if stat.S_ISLNK(mode):
        target = os.readlink(s.path)
        yield Finding(Status.FAIL, "symlink", {"target": target}, s.ev("type", "regular file", f"symlink -> {target}"))
    elif not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        kind, kind_zh = _SPECIAL.get(stat.S_IFMT(mode), ("special file", "特殊文件"))
        yield Finding(Status.FAIL, "special", {"kind": kind, "kind_zh": kind_zh}, s.ev("type", "regular file", kind))


def check_kind(path: Path, shown: str | None = None) -> Report:
    """FILE-KIND alone: for an entry that is a link or a special file, which nothing else may open."""
    return REGISTRY.run(("FILE-KIND",), FileSubject(path, Dat70Options(), shown or str(path)))


@check("FILE-IMAGE")
def image_decodes(s: FileSubject) -> Iterator[Finding]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(s.path) as im:
                frames = getattr(im, "n_frames", 1)
                for i in range(frames):
                    im.seek(i)
                    im.load()
                size, mode = im.size, im.mode
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
        EOFError,
    ) as exc:
        detail = f"{type(exc).__name__}: {exc}"
        yield Finding(Status.FAIL, "broken", {"detail": detail}, s.ev("decode", "complete", detail))
        return
    yield Finding(Status.PASS, "decoded", {"width": size[0], "height": size[1], "mode": mode, "frames": frames})


@check("FILE-OFD")
def ofd_structure(s: FileSubject) -> Iterator[Finding]:
    try:
        with zipfile.ZipFile(s.path) as z:
            infos = z.infolist()
            names = {i.filename for i in infos}
            for info in infos:
                if info.flag_bits & 0x1:
                    yield Finding(
                        Status.FAIL,
                        "encrypted",
                        {"member": info.filename},
                        s.ev(info.filename, "not encrypted", "encrypted"),
                    )
            if "OFD.xml" not in names:
                yield Finding(Status.FAIL, "no_entry", evidence=s.ev("OFD.xml", "present", "absent"))
                return
            for info in infos:
                parts = info.filename.replace("\\", "/").split("/")
                if info.filename.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                    yield Finding(
                        Status.FAIL, "unsafe_member", {"member": info.filename},
                        s.ev(info.filename, "a path inside the package", info.filename),
                    )  # fmt: skip
                    continue
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > OFD_MAX_MEMBER_BYTES or ratio > OFD_MAX_RATIO:
                    yield Finding(
                        Status.FAIL,
                        "too_large",
                        {"member": info.filename, "size": info.file_size, "ratio": f"{ratio:.0f}"},
                        s.ev(info.filename, f"≤ {OFD_MAX_MEMBER_BYTES} bytes, ratio ≤ {OFD_MAX_RATIO:.0f}",
                             f"{info.file_size} bytes, ratio {ratio:.0f}"),
                    )
                    continue
                if info.filename.lower().endswith(".xml") and not info.flag_bits & 0x1:
                    try:
                        etree.fromstring(z.read(info), safexml.parser())
                    except etree.XMLSyntaxError as exc:
                        yield Finding(
                            Status.FAIL,
                            "bad_xml",
                            {"member": info.filename, "detail": str(exc)},
                            s.ev(info.filename, "well-formed XML", str(exc)),
                        )
    except (zipfile.BadZipFile, OSError) as exc:
        yield Finding(Status.FAIL, "not_zip", {"detail": str(exc)}, s.ev(found=str(exc)))
        return
    problems = ofd_signature_problems(s.path)
    for problem in problems:
        yield Finding(Status.FAIL, "signature", {"detail": problem}, s.ev("Signature.xml", "digests match", problem))
    if not problems:
        for sig_path in ofd_signatures(s.path):  # SM2 seal values: unverified, never a pass
            yield Finding(Status.WARN, "unverified", {"name": sig_path}, s.ev(sig_path, "signature value verified",
                                                                              "not verified (SM2 seal)"))


def checks_for(path: Path) -> tuple[str, ...]:
    suffix = path.suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return ("FILE-FORMAT", "FILE-IMAGE")
    if suffix == ".ofd":
        return ("FILE-FORMAT", "FILE-OFD")
    return ("FILE-FORMAT",)


def check_file(path: Path, options: Dat70Options | None = None, shown: str | None = None) -> Report:
    """The FILE family on one file (PDFs go to pdf_checks.check_pdf)."""
    subject = FileSubject(path, options or Dat70Options(), shown or str(path))
    return REGISTRY.run(checks_for(path), subject)
