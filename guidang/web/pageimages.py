"""Page images for the desk: thumbnails and the large view, rendered from the masters (never changed) into a
cache under the home's work area (never beside the masters), keyed by the master's SHA-256 and the size."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from guidang import names
from guidang.errors import InputError
from guidang.fsutil import replace_file
from guidang.packaging import aip
from guidang.storage.catalogue import FileRow, ItemRow
from guidang.storage.ocfl_store import OcflStore

SIZES = {"thumb": 240, "view": 1400}  # longest side in pixels: a strip of thumbnails, a screen-wide page


@dataclass(frozen=True)
class PageSource:
    number: int  # 1-based, in the order of the masters' names (the order intake read them)
    file: FileRow
    path: Path


def masters(item: ItemRow) -> list[FileRow]:
    return sorted((f for f in item.files if f.role == "master"), key=lambda f: f.relpath)


def page_source(item: ItemRow, number: int, store_root: Path) -> PageSource:
    """The master of page ``number``: the kept delivery of a rejected item, or the archived object's file.
    A recorded path that would leave its folder is refused (names.within)."""
    pages = masters(item)
    if not 1 <= number <= len(pages):
        raise InputError(f"该条目没有第 {number} 页", f"the item has no page {number}")
    f = pages[number - 1]
    if item.rejected_path:
        delivered = Path(item.rejected_path) / "delivered"
        return PageSource(number, f, names.within(delivered, delivered / f.relpath))
    if item.object_id:
        files = OcflStore(store_root).logical_files(item.object_id)
        logical = f"{aip.MASTERS_DIR}/{Path(f.relpath).name}"
        if logical in files:
            return PageSource(number, f, files[logical])
    raise InputError(f"第 {number} 页的原图不在保留区或长期保存库中",
                     f"the master of page {number} is neither kept nor archived")


@dataclass(frozen=True)
class Rendered:
    png: bytes
    width: int  # of the rendering
    height: int
    scale: float  # rendering pixels per master pixel
    dpi: float | None  # of the master, when its header states it


def render(source: PageSource, size: str, cache_root: Path) -> Rendered:
    """The page at ``size`` (thumb | view) as PNG, from the cache when rendered before."""
    if size not in SIZES:
        raise InputError(f"未知尺寸：{size}", f"unknown size {size!r}")
    cached = cache_root / f"{source.file.sha256}-{size}.png"
    meta = cache_root / f"{source.file.sha256}-{size}.txt"
    if cached.is_file() and meta.is_file():
        w, h, ratio, stated = meta.read_text("ascii").split()
        return Rendered(cached.read_bytes(), int(w), int(h), float(ratio), float(stated) if stated != "-" else None)
    try:
        with Image.open(source.path) as im:
            im.seek(0)
            dpi_info = im.info.get("dpi")
            dpi = float(dpi_info[0]) if dpi_info and dpi_info[0] else None
            full = im.size
            page = ImageOps.grayscale(im) if im.mode in ("1", "L", "I;16", "I") else im.convert("RGB")
            page.thumbnail((SIZES[size], SIZES[size]))
            buf = io.BytesIO()
            page.save(buf, "PNG", optimize=True)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise InputError(f"第 {source.number} 页无法显示：{exc}", f"page {source.number} cannot be shown: {exc}") \
            from exc
    png = buf.getvalue()
    scale = page.size[0] / full[0]
    cache_root.mkdir(parents=True, exist_ok=True)
    replace_file(cached, png)
    replace_file(meta, f"{page.size[0]} {page.size[1]} {scale} {dpi if dpi else '-'}".encode("ascii"))
    return Rendered(png, page.size[0], page.size[1], scale, dpi)
