"""Image preparation: derivatives for OCR and the PDF/A, never changes to the masters.

Only scanner artefacts are corrected (DA/T 31-2017 chapter 10): a wrong orientation, skew,
the scanner's black border. Stains, discolouration and binding holes of the original stay.
Every operation is returned with its parameters so the pipeline can record it as process
metadata (业务实体: 业务行为 + 行为描述). A page with red or colour content is never turned
grey, whatever the caller asks.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from guidang.errors import InputError
from guidang.fsutil import replace_file
from guidang.ingest.scanqa.decode import decode_full
from guidang.ingest.scanqa.header import PageRejected, open_page
from guidang.ingest.scanqa.inspect import PageMeasurement
from guidang.ingest.scanqa.options import ScanQAOptions
from guidang.ingest.scanqa.regions import find_regions

#: smaller measured skew is left alone (below what resampling can improve)
MIN_DESKEW_DEG = 0.1
#: a border narrower than this is not worth a crop
MIN_CROP_MM = 0.5

_ACTION_ZH = {
    "rotate": "旋转",
    "deskew": "纠偏",
    "crop_border": "裁边",
    "to_grey": "转灰度",
    "keep_colour": "保持彩色",
}


@dataclass(frozen=True)
class ImageOperation:
    """One operation applied to make the derivative, with its parameters."""

    action: str  # rotate | deskew | crop_border | to_grey | keep_colour
    params: Mapping[str, object] = field(default_factory=dict)  # a plain dict: results cross process pools

    @property
    def action_zh(self) -> str:
        return _ACTION_ZH[self.action]

    def describe(self) -> str:
        """行为描述 for the process metadata, e.g. ``纠偏：旋转-1.3度（逆时针为正）``."""
        p = dict(self.params)
        if self.action == "rotate":
            return f"旋转：逆时针旋转{p['degrees_ccw']}度，使页面正向"
        if self.action == "deskew":
            return f"纠偏：旋转{p['degrees_ccw']}度（逆时针为正），消除{p['measured_skew']}度倾斜"
        if self.action == "crop_border":
            return f"裁边：去除扫描黑边，保留区域{p['box']}（像素），原图{p['size']}"
        if self.action == "to_grey":
            return "转灰度：仅用于识别的衍生图像"
        return f"保持彩色：页面含红色/彩色内容，未转灰度（{p.get('reason', '')}）"


@dataclass(frozen=True)
class PreparedPage:
    """The derivative of one master page and how it was made."""

    source: Path
    image: NDArray[np.uint8]  # grey (H, W) or BGR (H, W, 3)
    path: Path | None  # where the derivative was written, if asked
    dpi: float | None
    operations: tuple[ImageOperation, ...]


def prepare_page(
    path: Path,
    measurement: PageMeasurement,
    options: ScanQAOptions,
    *,
    out: Path | None = None,
    grey: bool = False,
) -> PreparedPage:
    """Make the derivative of ``path`` (rotated upright, deskewed, border cropped).

    ``measurement`` is the page's :func:`inspect_page` result; ``out`` (``.png`` or ``.tif``)
    receives the derivative and must not be the master itself. ``grey`` asks for a grey
    derivative (for OCR); pages with red or colour content stay in colour.
    """
    if not measurement.readable:
        raise InputError(
            f"第{measurement.name}页无法读取，不能生成衍生图像：{measurement.error}",
            f"page {measurement.name} is unreadable; no derivative can be made: {measurement.error}",
        )
    if out is not None and out.exists() and os.path.samefile(out, path):
        raise InputError(f"衍生图像不能覆盖原始文件：{out}", f"a derivative must not overwrite the master: {out}")
    try:
        # the page alone (a later page of a TIFF copied out), the bomb guard on its own header
        img, _ = open_page(path.read_bytes(), measurement.frame, options)
        pixels = decode_full(img, img.tell())
    except PageRejected as exc:
        raise InputError(f"无法解码{path.name}：{exc.detail}", f"cannot decode {path.name}: {exc.detail}") from exc
    ops: list[ImageOperation] = []
    had_border = measurement.border_mm is not None and max(measurement.border_mm) > 0

    if grey and pixels.ndim == 3:  # first: the geometry below then moves one channel, not three
        if measurement.keep_colour:
            reason = f"red {measurement.red_fraction or 0.0:.3%}, colour {measurement.colour_fraction or 0.0:.3%}"
            ops.append(ImageOperation("keep_colour", {"reason": reason}))
        else:
            pixels = np.asarray(cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
            ops.append(ImageOperation("to_grey"))

    o = measurement.orientation
    if o is not None and o.confident and o.rotation in (90, 180, 270):
        pixels = _turn(pixels, o.rotation)
        ops.append(ImageOperation("rotate", {"degrees_ccw": o.rotation, "method": o.method}))

    if measurement.skew_deg is not None and abs(measurement.skew_deg) >= MIN_DESKEW_DEG:
        pixels = _deskew(pixels, measurement.skew_deg, black_fill=had_border)
        ops.append(
            ImageOperation(
                "deskew",
                {"degrees_ccw": round(-measurement.skew_deg, 3), "measured_skew": measurement.skew_deg},
            )
        )

    dpi = measurement.dpi
    if had_border:
        pixels, crop = _crop_border(pixels, options, dpi)
        if crop is not None:
            ops.append(ImageOperation("crop_border", dict(crop)))

    if out is not None:
        _write(out, pixels, dpi)
    return PreparedPage(source=path, image=pixels, path=out, dpi=dpi, operations=tuple(ops))


def _turn(pixels: NDArray[np.uint8], content_clockwise: int) -> NDArray[np.uint8]:
    code = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}[content_clockwise]
    return np.asarray(cv2.rotate(pixels, code), dtype=np.uint8)


def _deskew(pixels: NDArray[np.uint8], skew_deg: float, black_fill: bool) -> NDArray[np.uint8]:
    """Rotate by -skew on a canvas large enough to keep every corner of the sheet."""
    h, w = pixels.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -skew_deg, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = round(h * sin + w * cos), round(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    if black_fill:  # the fill joins the scanner border and is cropped with it
        fill: tuple[float, ...] = (0.0, 0.0, 0.0)
    else:
        sample = pixels[::8, ::8].reshape(-1, pixels.shape[2] if pixels.ndim == 3 else 1)
        fill = tuple(float(v) for v in np.percentile(sample, 90, axis=0))
    out = cv2.warpAffine(pixels, m, (nw, nh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=fill)
    return np.asarray(out, dtype=np.uint8)


def _crop_border(
    pixels: NDArray[np.uint8], options: ScanQAOptions, dpi: float | None
) -> tuple[NDArray[np.uint8], dict[str, object] | None]:
    h, w = pixels.shape[:2]
    factor = max(1.0, max(h, w) / options.work_long_side)
    small = cv2.resize(pixels, (round(w / factor), round(h / factor)), interpolation=cv2.INTER_AREA)
    grey = small if small.ndim == 2 else cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    regions = find_regions(np.asarray(grey, dtype=np.uint8), options.border_threshold, options.ink_contrast)
    px_per_mm = (dpi or 300.0) / 25.4 / factor
    if max(regions.border) / px_per_mm < MIN_CROP_MM:
        return pixels, None
    x0, y0, x1, y1 = regions.page_box
    box = (round(x0 * factor), round(y0 * factor), min(w, round(x1 * factor)), min(h, round(y1 * factor)))
    cropped = np.ascontiguousarray(pixels[box[1] : box[3], box[0] : box[2]])
    return cropped, {"box": list(box), "size": [w, h]}


def _write(out: Path, pixels: NDArray[np.uint8], dpi: float | None) -> None:
    rgb = pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    pil = Image.fromarray(rgb)
    kwargs: dict[str, object] = {"dpi": (dpi, dpi)} if dpi else {}
    suffix = out.suffix.lower()
    if suffix in (".tif", ".tiff"):
        kwargs["compression"] = "tiff_lzw"
    elif suffix == ".png":
        kwargs["compress_level"] = 3
    buf = io.BytesIO()
    pil.save(buf, "TIFF" if suffix in (".tif", ".tiff") else "PNG", **kwargs)
    replace_file(out, buf.getvalue())
