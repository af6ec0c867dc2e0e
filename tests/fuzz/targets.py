"""Fuzz targets: one function of bytes per parser of untrusted input. A target returns quietly for
any input the parser handles (accepting or refusing it as designed) and raises for a bug: an
exception the parser's callers do not expect, or a broken invariant. No atheris here, so the
corpus replays in CI with the same functions (tests/test_fuzz_replay.py).

Targets are named after what they parse, not after the function they call today, so that a
parser moved or merged (the three manifest readers are being unified) is repointed here only.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from guidang.errors import InputError
from guidang.hotfolders.zipbatch import ZipLimits, ZipRefused, made_from, remove_unpacked, unpack
from guidang.ingest.scanqa.header import (
    PageRejected,
    check_complete,
    count_frames,
    open_image,
    read_header,
    select_frame,
)
from guidang.ingest.scanqa.options import ScanQAOptions
from guidang.packaging.aip import PackageError, parse_manifest
from guidang.packaging.eep.reader import import_eep
from guidang.packaging.eep.verify import verify_eep
from guidang.pipeline.catalogue_file import read_catalogue
from guidang.pipeline.intake import _read_manifest

_TMP = Path(tempfile.mkdtemp(prefix="guidang-fuzz-"))  # one per process, reused by every input
_IMAGE_OPTIONS = ScanQAOptions(max_pixels=4_000_000, max_pages_per_file=64)
_ZIP_LIMITS = ZipLimits(max_bytes=8 << 20, max_ratio=200.0, ratio_floor=64 << 10, min_free_bytes=0)


def _file(name: str, data: bytes) -> Path:
    folder = _TMP / "batch"
    for old in folder.glob("*") if folder.is_dir() else ():
        old.unlink()
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def catalogue_csv(data: bytes) -> None:
    """The 归档文件目录 as CSV: every input gives rows or a problem, never an exception."""
    read_catalogue(_file("catalogue.csv", data).parent)


def catalogue_xlsx(data: bytes) -> None:
    """The 归档文件目录 as XLSX (a zip of XML parts)."""
    read_catalogue(_file("目录.xlsx", data).parent)


def zip_batch(data: bytes) -> None:
    """A batch delivered as one zip: unpacked, or refused with nothing left behind."""
    path = _TMP / "delivery.zip"
    remove_unpacked(path)
    path.write_bytes(data)
    try:
        out = unpack(path, _ZIP_LIMITS)
    except ZipRefused:
        leftovers = [p for p in made_from(path) if p.exists()]
        if leftovers:
            raise AssertionError(f"a refused zip left {leftovers}") from None
        return
    if not out.is_dir():
        raise AssertionError(f"unpack returned {out}, not a folder")
    written = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and not p.is_symlink())
    if written > _ZIP_LIMITS.max_bytes or any(p.is_symlink() for p in out.rglob("*")):
        raise AssertionError("an unpacked zip is over the limit or holds a link")
    remove_unpacked(path)


def image_header(data: bytes) -> None:
    """A page image's header, every page of it: measured or rejected (PageRejected), never more
    pages counted than the limit allows, no page over the pixel limit let through."""
    try:
        img = open_image(data, _IMAGE_OPTIONS)
        frames = count_frames(img, _IMAGE_OPTIONS.max_pages_per_file)
        if frames > _IMAGE_OPTIONS.max_pages_per_file + 1:
            raise AssertionError(f"{frames} pages counted past the limit")
        for frame in range(min(frames, _IMAGE_OPTIONS.max_pages_per_file)):
            select_frame(img, frame, _IMAGE_OPTIONS)
            if img.width * img.height > _IMAGE_OPTIONS.max_pixels:
                raise AssertionError(f"page {frame + 1}: {img.size} passed the bomb guard")
            read_header(img, len(data), frames)
            check_complete(data, img)
    except PageRejected:
        return


def manifest_intake(data: bytes) -> None:
    """A vendor batch's BagIt manifest as intake reads it (``pipeline.intake._read_manifest``)."""
    _read_manifest(_file("manifest-sha256.txt", data), "manifest-sha256.txt")


def manifest_package(data: bytes) -> None:
    """A package's BagIt manifest (``packaging.aip.parse_manifest``): entries or PackageError."""
    try:
        parse_manifest(data, "manifest-sha256.txt")
    except PackageError:
        return


def eep(data: bytes) -> None:
    """An EEP (DA/T 48 XML): verified (never raises), imported or refused with EepError."""
    verify_eep(data, require_signature=False)
    try:
        import_eep(data)
    except InputError:  # EepError, PackageError
        return


TARGETS: dict[str, Callable[[bytes], None]] = {
    "catalogue_csv": catalogue_csv,
    "catalogue_xlsx": catalogue_xlsx,
    "zip_batch": zip_batch,
    "image_header": image_header,
    "manifest_intake": manifest_intake,
    "manifest_package": manifest_package,
    "eep": eep,
}
