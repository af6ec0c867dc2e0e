"""Page images as PDF image XObjects, without losing information.

- JPEG: the file's bytes are the stream (DCTDecode); nothing is decoded.
- TIFF CCITT Group 4 in one strip: the strip is the stream (CCITTFaxDecode).
- Other bilevel images: encoded again as G4 in one strip (G4 is lossless).
- PNG (not interlaced, ≤ 8 bits, no alpha): the IDAT data is the stream (FlateDecode
  with the PNG predictor); nothing is decoded.
- Anything else (TIFF LZW/Deflate/PackBits/uncompressed/multi-strip G4, BMP, …): the
  pixels are decoded and compressed again losslessly with Flate (PNG "Up" predictor
  for grey and colour).

Modes kept as they are: bilevel, 8-bit grey, 8-bit RGB, palette (Indexed), and 16-bit
grey/RGB for PDF/A-2/3 (PDF/A-1 is PDF 1.4, which has no 16-bit samples). Refused with
a clear error: CMYK (the output intent is sRGB), transparency that is not fully opaque,
and multi-page images (one page image per file, as DA/T 31 names them).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pikepdf
from PIL import Image, TiffImagePlugin

from guidang.errors import InputError

Image.MAX_IMAGE_PIXELS = 400_000_000  # A0 at 600 dpi is ~ 350 Mpx; beyond that is not a scan


@dataclass(frozen=True)
class EmbeddedImage:
    """An image ready to be put on a page."""

    stream: pikepdf.Stream
    width: int
    height: int
    dpi: tuple[float, float] | None  # as recorded in the file
    method: str  # how it was embedded: "jpeg-passthrough", "g4-passthrough", "png-passthrough", "flate"


def _error(name: str, zh: str, en: str) -> InputError:
    return InputError(f"图像 {name}：{zh}", f"image {name}: {en}")


def _dpi(info: Mapping[Any, Any]) -> tuple[float, float] | None:
    dpi = info.get("dpi")
    if not dpi:
        return None
    x, y = round(float(dpi[0]), 1), round(float(dpi[1]), 1)
    return (x, y) if x > 1 and y > 1 else None


def _stream(pdf: pikepdf.Pdf, data: bytes, **entries: Any) -> pikepdf.Stream:
    stream = pikepdf.Stream(pdf, data)
    stream.Type = pikepdf.Name.XObject
    stream.Subtype = pikepdf.Name.Image
    for key, value in entries.items():
        stream[f"/{key}"] = value
    return stream


def _jpeg(pdf: pikepdf.Pdf, data: bytes, im: Image.Image, name: str) -> EmbeddedImage:
    if im.mode == "L":
        space = pikepdf.Name.DeviceGray
    elif im.mode == "RGB":
        space = pikepdf.Name.DeviceRGB
    else:
        raise _error(
            name,
            f"不支持 {im.mode} 模式的 JPEG（需要灰度或 RGB）",
            f"JPEG in mode {im.mode} is not supported (need grey or RGB)",
        )
    stream = _stream(
        pdf,
        data,
        Filter=pikepdf.Name.DCTDecode,
        Width=im.width,
        Height=im.height,
        ColorSpace=space,
        BitsPerComponent=8,
    )
    return EmbeddedImage(stream, im.width, im.height, _dpi(im.info), "jpeg-passthrough")


def _g4_strip(data: bytes, im: TiffImagePlugin.TiffImageFile) -> bytes | None:
    """The single G4 strip of a bilevel TIFF, or None when it cannot be passed through."""
    tags = im.tag_v2
    if tags.get(259) != 4 or tags.get(266, 1) != 1:  # Compression = T.6, FillOrder = MSB first
        return None
    offsets, counts = tags.get(273), tags.get(279)
    if not offsets or not counts:
        return None
    offsets = offsets if isinstance(offsets, tuple) else (offsets,)
    counts = counts if isinstance(counts, tuple) else (counts,)
    if len(offsets) != 1 or len(counts) != 1 or offsets[0] + counts[0] > len(data):
        return None
    return data[offsets[0] : offsets[0] + counts[0]]


def _ccitt(pdf: pikepdf.Pdf, strip: bytes, im: TiffImagePlugin.TiffImageFile, method: str) -> EmbeddedImage:
    entries: dict[str, Any] = {
        "Width": im.width,
        "Height": im.height,
        "ColorSpace": pikepdf.Name.DeviceGray,
        "BitsPerComponent": 1,
        "Filter": pikepdf.Name.CCITTFaxDecode,
        "DecodeParms": pikepdf.Dictionary(K=-1, Columns=im.width, Rows=im.height, BlackIs1=False),
    }
    if im.tag_v2.get(262, 0) == 1:  # Photometric BlackIsZero: the codec's white runs are black
        entries["Decode"] = pikepdf.Array([1, 0])
    return EmbeddedImage(_stream(pdf, strip, **entries), im.width, im.height, _dpi(im.info), method)


def _g4(pdf: pikepdf.Pdf, im: Image.Image) -> EmbeddedImage:
    """A bilevel image encoded again as single-strip G4 (lossless)."""
    buf = io.BytesIO()
    im.save(buf, format="TIFF", compression="group4", strip_size=2**31 - 1, dpi=_dpi(im.info) or (0, 0))
    data = buf.getvalue()
    again = Image.open(io.BytesIO(data))
    assert isinstance(again, TiffImagePlugin.TiffImageFile)
    strip = _g4_strip(data, again)
    if strip is None:  # Pillow without libtiff's one-strip support: Flate instead
        return _flate_bits(pdf, im)
    return _ccitt(pdf, strip, again, "g4")


def _flate_bits(pdf: pikepdf.Pdf, im: Image.Image) -> EmbeddedImage:
    data = zlib.compress(im.tobytes(), 6)
    stream = _stream(
        pdf, data, Filter=pikepdf.Name.FlateDecode, Width=im.width, Height=im.height,
        ColorSpace=pikepdf.Name.DeviceGray, BitsPerComponent=1,
    )  # fmt: skip
    return EmbeddedImage(stream, im.width, im.height, _dpi(im.info), "flate")


def _png_idat(data: bytes, im: Image.Image) -> bytes | None:
    """The concatenated IDAT data of a PNG that can be passed through, else None."""
    if im.info.get("interlace") or im.mode not in ("1", "L", "RGB", "P"):
        return None
    if im.mode == "P" and "transparency" in im.info:
        return None
    pos, chunks = 8, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"IDAT":
            chunks.append(data[pos + 8 : pos + 8 + length])
        elif kind == b"IHDR":
            bit_depth, colour_type = data[pos + 16], data[pos + 17]
            if bit_depth > 8 or colour_type in (4, 6):
                return None
        pos += 12 + length
    return b"".join(chunks) or None


def _png_bits(data: bytes) -> int:
    return data[24]  # IHDR bit depth (signature 8 + length 4 + type 4 + width 4 + height 4)


def _palette(pdf: pikepdf.Pdf, im: Image.Image) -> pikepdf.Array:
    palette = im.getpalette() or []
    entries = max(1, len(palette) // 3)
    return pikepdf.Array(
        [
            pikepdf.Name.Indexed,
            pikepdf.Name.DeviceRGB,
            entries - 1,
            pikepdf.String(bytes(palette[: entries * 3])),
        ]
    )


def _up_predicted(array: np.ndarray[Any, Any]) -> bytes:
    """Rows PNG-filtered with "Up" (filter byte 2), for /Predictor 15."""
    rows = array.reshape(array.shape[0], -1)
    if rows.dtype != np.uint8:
        rows = rows.astype(">u2").view(np.uint8).reshape(rows.shape[0], -1)
    diff = rows.copy()
    diff[1:] = rows[1:] - rows[:-1]  # uint8 arithmetic wraps, as PNG wants
    out = np.empty((rows.shape[0], rows.shape[1] + 1), dtype=np.uint8)
    out[:, 0] = 2
    out[:, 1:] = diff
    return out.tobytes()


def _flate(pdf: pikepdf.Pdf, im: Image.Image, name: str, part: int) -> EmbeddedImage:
    mode = im.mode
    if mode in ("LA", "RGBA", "PA") or (mode == "P" and "transparency" in im.info):
        alpha = im.getchannel("A") if mode != "P" else im.convert("RGBA").getchannel("A")
        if alpha.getextrema() != (255, 255):
            raise _error(
                name,
                "含透明通道（PDF/A 扫描件不应有透明）",
                "has transparency (a scan has none; PDF/A-1 forbids it)",
            )
        im = im.convert({"LA": "L", "RGBA": "RGB", "PA": "RGB", "P": "RGB"}[mode])
        mode = im.mode
    if mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        raise _error(
            name,
            f"不支持 {mode} 色彩模式（输出意图为 sRGB）",
            f"colour mode {mode} is not supported (the output intent is sRGB)",
        )
    entries: dict[str, Any] = {"Width": im.width, "Height": im.height}
    if mode == "1":
        return _g4(pdf, im)
    if mode == "P":
        data = zlib.compress(im.tobytes(), 6)
        entries.update(ColorSpace=_palette(pdf, im), BitsPerComponent=8)
        return EmbeddedImage(
            _stream(pdf, data, Filter=pikepdf.Name.FlateDecode, **entries),
            im.width,
            im.height,
            _dpi(im.info),
            "flate",
        )
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        if part == 1:
            raise _error(
                name,
                "16 位图像不能写入 PDF/A-1（PDF 1.4 无 16 位样本）；请改用 PDF/A-2b",
                "16-bit images cannot go into PDF/A-1 (PDF 1.4 has no 16-bit samples); use PDF/A-2b",
            )
        array = np.asarray(im).astype(np.uint16)
        bits, colours, space = 16, 1, pikepdf.Name.DeviceGray
    elif mode in ("L", "RGB"):
        array = np.asarray(im)
        bits, colours = 8, (1 if mode == "L" else 3)
        space = pikepdf.Name.DeviceGray if mode == "L" else pikepdf.Name.DeviceRGB
    else:
        raise _error(name, f"不支持的图像模式 {mode}", f"unsupported image mode {mode}")
    data = zlib.compress(_up_predicted(array), 6)
    entries.update(
        ColorSpace=space,
        BitsPerComponent=bits,
        DecodeParms=pikepdf.Dictionary(Predictor=15, Colors=colours, BitsPerComponent=bits, Columns=im.width),
    )
    return EmbeddedImage(
        _stream(pdf, data, Filter=pikepdf.Name.FlateDecode, **entries),
        im.width,
        im.height,
        _dpi(im.info),
        "flate",
    )


def embed_image(pdf: pikepdf.Pdf, source: Path | bytes, *, part: int = 2) -> EmbeddedImage:
    """Make an image XObject in *pdf* from an image file (path or bytes), losslessly."""
    name = source.name if isinstance(source, Path) else "<bytes>"
    try:
        data = source.read_bytes() if isinstance(source, Path) else bytes(source)
        im = Image.open(io.BytesIO(data))
        if getattr(im, "n_frames", 1) > 1:
            raise _error(
                name,
                "含多页图像；每个图像文件应为一页",
                "holds several frames; each image file must be one page",
            )
        if im.format == "JPEG":
            return _jpeg(pdf, data, im, name)
        if im.format == "TIFF" and im.mode == "1" and isinstance(im, TiffImagePlugin.TiffImageFile):
            strip = _g4_strip(data, im)
            if strip is not None:
                return _ccitt(pdf, strip, im, "g4-passthrough")
        if im.format == "PNG":
            idat = _png_idat(data, im)
            if idat is not None:
                bits = _png_bits(data)
                colours = 3 if im.mode == "RGB" else 1
                space: Any = pikepdf.Name.DeviceRGB if im.mode == "RGB" else pikepdf.Name.DeviceGray
                if im.mode == "P":
                    space = _palette(pdf, im)
                stream = _stream(
                    pdf,
                    idat,
                    Filter=pikepdf.Name.FlateDecode,
                    Width=im.width,
                    Height=im.height,
                    ColorSpace=space,
                    BitsPerComponent=bits,
                    DecodeParms=pikepdf.Dictionary(
                        Predictor=15, Colors=colours, BitsPerComponent=bits, Columns=im.width
                    ),
                )
                return EmbeddedImage(stream, im.width, im.height, _dpi(im.info), "png-passthrough")
        im.load()
        return _flate(pdf, im, name, part)
    except InputError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise _error(name, f"无法读取：{exc}", f"cannot be read: {exc}") from exc
