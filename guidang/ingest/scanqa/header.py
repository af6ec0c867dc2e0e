"""What a page file says about itself, read from its header with Pillow without decoding.

The decompression-bomb guard lives here: a header that claims more pixels than the profile
allows is rejected before a single pixel is decoded, on every page of a multi-page file
(:func:`select_frame`); the pages of a file are counted only up to the profile's limit
(:func:`count_frames`), so a file of a million tiny pages costs no more than one of the limit.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image

from guidang.ingest.scanqa.options import ScanQAOptions

# Pillow's names of TIFF compressions, mapped to the DA/T 46 M56 wording (图像压缩方案)
_TIFF_COMPRESSION = {
    "raw": "无压缩",
    "tiff_lzw": "LZW",
    "tiff_adobe_deflate": "Deflate",
    "tiff_deflate": "Deflate",
    "packbits": "PackBits",
    "group4": "CCITT Group 4",
    "group3": "CCITT Group 3",
    "tiff_ccitt": "CCITT Group 3 (MH)",
    "jpeg": "JPEG",
    "tiff_jpeg": "JPEG (旧式 TIFF 6.0)",
    "webp": "WebP",
    "tiff_sgilog": "SGILog",
    "tiff_raw_16": "无压缩",
    "lzma": "LZMA",
    "zstd": "Zstandard",
}

# IJG standard luminance quantisation table (natural order) used to estimate JPEG quality
_IJG_LUMA = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)  # fmt: skip


_IJG_LUMA_ARRAY = np.asarray(_IJG_LUMA, dtype=np.float64)


class PageRejected(Exception):
    """The file cannot be measured: unreadable, truncated, or too large to decode safely."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason  # "unreadable" | "truncated" | "bomb" | "too_large" | "too_many_pages"
        self.detail = detail


@dataclass(frozen=True)
class FileHeader:
    """Facts from the file header; nothing here needed the pixels."""

    format: str  # TIFF, JPEG, JPEG2000, PNG, …
    pixel_mode: str  # Pillow mode: 1, L, RGB, P, CMYK, I;16, …
    width: int
    height: int
    dpi: tuple[float, float] | None  # None: the header states no resolution
    compression: str  # DA/T 46 M56 wording
    bits_per_sample: int
    samples: int
    frames: int
    jpeg_quality: int | None  # estimated from the quantisation tables (JPEG only)
    file_bytes: int


def open_image(data: bytes, options: ScanQAOptions) -> Image.Image:
    """Open (header only) and apply the decompression-bomb guard of the profile."""
    try:
        with warnings.catch_warnings():
            # corrupt EXIF, Pillow's own bomb warning…: judged below by the profile's limit, not printed
            warnings.simplefilter("ignore")
            img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # beyond Pillow's hard limit (2 x MAX_IMAGE_PIXELS)
        raise PageRejected("bomb", str(exc)) from exc
    except Exception as exc:  # Pillow raises many types for junk input
        truncated = _truncation(data)
        if truncated:
            raise PageRejected("truncated", truncated) from exc
        raise PageRejected("unreadable", f"{type(exc).__name__}: {exc}") from exc
    _guard(img, options)
    return img


def _guard(img: Image.Image, options: ScanQAOptions) -> None:
    if img.width * img.height > options.max_pixels or img.width <= 0 or img.height <= 0:
        page = f"page {img.tell() + 1}: " if img.tell() else ""
        raise PageRejected("bomb", f"{page}{img.width}x{img.height} > {options.max_pixels} pixels")


def count_frames(img: Image.Image, limit: int) -> int:
    """The pages of ``img``, counted up to ``limit + 1`` at most. Pillow's ``n_frames`` walks every
    page directory of the file, however many; this stops one past the limit. Each step reads one
    page directory after the one before (linear in the pages counted), and the file is left on
    its first page with every counted page's position known, so a later seek costs no walk."""
    if not getattr(img, "is_animated", False):
        return 1
    count = 1
    try:
        while count <= limit:
            img.seek(count)
            count += 1
    except EOFError:
        pass
    except Exception as exc:  # a broken page directory (a loop, an offset past the end)
        img.seek(0)
        raise PageRejected("unreadable", f"page {count + 1}: {type(exc).__name__}: {exc}") from exc
    img.seek(0)
    return count


def select_frame(img: Image.Image, frame: int, options: ScanQAOptions) -> None:
    """Move ``img`` to page ``frame`` (0-based) and apply the decompression-bomb guard to it."""
    if img.tell() != frame:
        try:
            img.seek(frame)
        except EOFError as exc:
            raise PageRejected("unreadable", f"page {frame + 1}: no such page") from exc
        except Exception as exc:
            raise PageRejected("unreadable", f"page {frame + 1}: {type(exc).__name__}: {exc}") from exc
    _guard(img, options)


def _truncation(data: bytes) -> str | None:
    """Why a file Pillow cannot open looks like a truncated TIFF/JPEG/PNG, or None."""
    if data[:4] in (b"II*\x00", b"MM\x00*") and len(data) >= 8:
        ifd = int.from_bytes(data[4:8], "little" if data[:2] == b"II" else "big")
        if ifd >= len(data):
            return f"TIFF directory at byte {ifd}, file has {len(data)} bytes"
    if data[:2] == b"\xff\xd8" and data.rstrip(b"\x00")[-2:] != b"\xff\xd9":
        return "JPEG end-of-image marker (FFD9) missing"
    if data[:8] == b"\x89PNG\r\n\x1a\n" and b"IEND" not in data[-12:]:
        return "PNG IEND chunk missing"
    return None


def read_header(img: Image.Image, file_bytes: int, frames: int | None = None) -> FileHeader:
    """The header of the current page; ``frames``: the page count if already counted (see
    :func:`count_frames`; Pillow's own count walks every page of the file)."""
    fmt = img.format or "unknown"
    compression = _compression(img, fmt)
    bands = len(img.getbands())
    bits = _bits_per_sample(img)
    return FileHeader(
        format=fmt,
        pixel_mode=img.mode,
        width=img.width,
        height=img.height,
        dpi=_dpi(img),
        compression=compression,
        bits_per_sample=bits,
        samples=bands,
        frames=frames if frames is not None else int(getattr(img, "n_frames", 1)),
        jpeg_quality=_jpeg_quality(img) if fmt == "JPEG" else None,
        file_bytes=file_bytes,
    )


def check_complete(data: bytes, img: Image.Image) -> None:
    """Cheap structural completeness checks that do not rely on the decoder's leniency."""
    reason = _truncation(data)
    if reason:
        raise PageRejected("truncated", reason)
    if img.format == "TIFF":
        tags = getattr(img, "tag_v2", {})
        offsets = tags.get(273) or tags.get(324) or ()
        counts = tags.get(279) or tags.get(325) or ()
        if isinstance(offsets, int):
            offsets = (offsets,)
        if isinstance(counts, int):
            counts = (counts,)
        if not all(isinstance(v, int) for v in (*offsets, *counts)):  # e.g. given as text (found by fuzzing)
            raise PageRejected("unreadable", "TIFF strip offsets or byte counts are not numbers")
        ends = [int(o) + int(c) for o, c in zip(offsets, counts, strict=False)]
        if ends and max(ends) > len(data):
            raise PageRejected("truncated", f"image data ends at byte {max(ends)}, file has {len(data)} bytes")


def _compression(img: Image.Image, fmt: str) -> str:
    if fmt == "TIFF":
        raw = str(img.info.get("compression", "raw"))
        return _TIFF_COMPRESSION.get(raw, raw)
    if fmt == "JPEG":
        return "JPEG"
    if fmt == "JPEG2000":
        return "JPEG 2000"
    if fmt == "PNG":
        return "Deflate"
    return fmt


def _bits_per_sample(img: Image.Image) -> int:
    tags = getattr(img, "tag_v2", None)
    if tags is not None and 258 in tags:
        value = tags[258]
        return int(value[0] if isinstance(value, tuple) else value)
    return {"1": 1, "I;16": 16, "I;16B": 16, "I": 32, "F": 32}.get(img.mode, 8)


def _dpi(img: Image.Image) -> tuple[float, float] | None:
    dpi = img.info.get("dpi")
    if dpi and len(dpi) == 2:
        try:
            x, y = float(dpi[0]), float(dpi[1])
        except (TypeError, ValueError):  # a resolution tag that is not a number (found by fuzzing)
            return None
        if x > 1 and y > 1:  # JFIF "aspect ratio only" and TIFFs without units give 1 or 72-less junk
            return (round(x, 2), round(y, 2))
    return None


def _jpeg_quality(img: Image.Image) -> int | None:
    """IJG quality (1-100) whose scaled luminance table is nearest to the file's table."""
    tables = getattr(img, "quantization", None)
    if not tables or 0 not in tables:
        return None
    table = list(tables[0])
    if len(table) != 64:
        return None
    q = np.arange(1, 101, dtype=np.float64)[:, None]
    scale = np.where(q < 50, 5000 / q, 200 - 2 * q)
    expected = np.clip(np.floor((_IJG_LUMA_ARRAY[None, :] * scale + 50) / 100), 1, 255)
    errors = np.abs(expected - np.asarray(table, dtype=np.float64)[None, :]).sum(axis=1)
    return int(np.argmin(errors)) + 1


# -- the pages of a multi-page TIFF, one at a time ------------------------------------------------
# libtiff (in Pillow and in OpenCV alike) reaches page n of a file by walking every page directory
# before it, each time it is opened, so decoding page after page costs the square of the pages.
# A page is therefore decoded from a TIFF of its own: its directory, the values the directory points
# to and its strips or tiles, copied out of the file (linear in the page's bytes).

_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
_DATA_TAGS = ((273, 279), (324, 325))  # (strip offsets, byte counts), (tile offsets, byte counts)
_POINTER_TAGS = frozenset({330, 34665, 34853, 40965, 513})  # SubIFDs, EXIF, GPS, interop, old JPEG: dropped
_OLD_JPEG = 513


def tiff_pages(data: bytes, limit: int) -> list[int] | None:
    """Offsets of the page directories of a classic TIFF, at most ``limit + 1`` of them; None when
    ``data`` is not a classic TIFF or a directory lies outside it or loops back (the caller then
    falls back to Pillow, which reports the file)."""
    if len(data) < 8 or data[:4] not in (b"II*\x00", b"MM\x00*"):
        return None
    end = "<" if data[:2] == b"II" else ">"
    offsets: list[int] = []
    seen: set[int] = set()
    (offset,) = struct.unpack_from(end + "I", data, 4)
    while offset and len(offsets) <= limit:
        if offset in seen or offset + 2 > len(data):
            return None
        seen.add(offset)
        (count,) = struct.unpack_from(end + "H", data, offset)
        if offset + 2 + 12 * count + 4 > len(data):
            return None
        offsets.append(offset)
        (offset,) = struct.unpack_from(end + "I", data, offset + 2 + 12 * count)
    return offsets


def single_page_tiff(data: bytes, ifd: int) -> bytes | None:
    """The page whose directory is at ``ifd`` as a TIFF of its own, or None when it cannot be
    copied out (a value or a strip outside the file, old-style JPEG): the caller falls back to
    Pillow on the whole file."""
    end = "<" if data[:2] == b"II" else ">"
    (count,) = struct.unpack_from(end + "H", data, ifd)
    entries = []
    for i in range(count):
        tag, kind, n, raw = struct.unpack_from(end + "HHI4s", data, ifd + 2 + 12 * i)
        if tag == _OLD_JPEG:
            return None
        if tag not in _POINTER_TAGS:
            entries.append((tag, kind, n, raw))
    by_tag = {e[0]: e for e in entries}
    values_at = 8 + 2 + 12 * len(entries) + 4
    values = bytearray()
    blobs = bytearray()
    out_entries: list[bytes] = []
    blocks: dict[int, list[tuple[int, int]]] = {}
    for offsets_tag, counts_tag in _DATA_TAGS:
        if offsets_tag in by_tag:
            offs = _numbers(data, end, by_tag[offsets_tag])
            cnts = _numbers(data, end, by_tag[counts_tag]) if counts_tag in by_tag else None
            if offs is None or cnts is None or len(offs) != len(cnts):
                return None
            if any(o + c > len(data) for o, c in zip(offs, cnts, strict=True)):
                return None
            blocks[offsets_tag] = list(zip(offs, cnts, strict=True))
    for tag, kind, n, raw in entries:
        size = _TYPE_SIZES.get(kind, 1) * n
        if tag in blocks:
            kind, size, n = 4, 4 * n, n  # offsets rewritten below as LONGs
        if size <= 4 and tag not in blocks:
            out_entries.append(struct.pack(end + "HHI4s", tag, kind, n, raw))
            continue
        if tag in blocks:
            placeholder = len(values)
            values += bytes(size)
            out_entries.append(struct.pack(end + "HHI", tag, kind, n) + struct.pack(end + "I", placeholder))
            continue
        (at,) = struct.unpack(end + "I", raw)
        if at + size > len(data):
            return None
        out_entries.append(struct.pack(end + "HHII", tag, kind, n, values_at + len(values)))
        values += data[at : at + size]
        if len(values) % 2:
            values += b"\0"  # values begin on a word boundary
    blobs_at = values_at + len(values)
    for i, (tag, _kind, n, _raw) in enumerate(entries):
        if tag not in blocks:
            continue
        new_offsets = []
        for offset, length in blocks[tag]:
            new_offsets.append(blobs_at + len(blobs))
            blobs += data[offset : offset + length]
        packed = struct.pack(end + f"{n}I", *new_offsets)
        if n == 1:
            out_entries[i] = struct.pack(end + "HHI", tag, 4, 1) + packed
        else:
            (placeholder,) = struct.unpack_from(end + "I", out_entries[i], 8)
            values[placeholder : placeholder + 4 * n] = packed
            out_entries[i] = struct.pack(end + "HHII", tag, 4, n, values_at + placeholder)
    header = data[:4] + struct.pack(end + "I", 8)
    directory = struct.pack(end + "H", len(entries)) + b"".join(out_entries) + struct.pack(end + "I", 0)
    return bytes(header + directory + values + blobs)


def _numbers(data: bytes, end: str, entry: tuple[int, int, int, bytes]) -> list[int] | None:
    """The SHORT or LONG values of a directory entry (inline or pointed to), or None."""
    _tag, kind, n, raw = entry
    code = {3: "H", 4: "I"}.get(kind)
    if code is None:
        return None
    size = struct.calcsize(code) * n
    if size <= 4:
        return list(struct.unpack_from(end + f"{n}{code}", raw))
    (at,) = struct.unpack(end + "I", raw)
    if at + size > len(data):
        return None
    return list(struct.unpack_from(end + f"{n}{code}", data, at))


def open_page(
    data: bytes, frame: int, options: ScanQAOptions, pages: list[int] | None = None
) -> tuple[Image.Image, bytes]:
    """Page ``frame`` of the file ``data``, opened (header only) with the bomb guard applied to its
    own header, and the bytes it was opened from: for a later page of a classic TIFF a TIFF of its
    own (see above; ``pages`` are the directory offsets, when already walked), else the whole file
    moved to that page."""
    if frame:
        offsets = pages if pages is not None else tiff_pages(data, frame)
        if offsets is not None and frame < len(offsets):
            page = single_page_tiff(data, offsets[frame])
            if page is not None:
                try:
                    return open_image(page, options), page
                except PageRejected as exc:
                    raise PageRejected(exc.reason, f"page {frame + 1}: {exc.detail}") from exc
    img = open_image(data, options)
    select_frame(img, frame, options)
    return img, data
