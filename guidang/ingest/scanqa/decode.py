"""One decode per page: the file is decoded once, at a working resolution.

JPEG pages are decoded with DCT scaling (Pillow's draft mode), which costs a fraction of a
full decode but still reads every coded byte, so truncation is still caught. Everything the
measuring functions need (grey, colour, scale) comes out of this single decode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from guidang.ingest.scanqa.header import PageRejected

Grey = NDArray[np.uint8]


@dataclass(frozen=True)
class WorkImage:
    """The page at working resolution: grey always, BGR only when the file stores colour."""

    grey: Grey
    bgr: NDArray[np.uint8] | None
    scale: float  # full-resolution pixels per working pixel
    channels_equal: bool  # a colour file whose three channels are identical (grey content)


#: formats OpenCV decodes straight into an array (about twice as fast as Pillow + copy for LZW TIFF)
_OPENCV_FORMATS = ("TIFF", "PNG")
_OPENCV_MODES = ("1", "L", "RGB", "RGBA", "P", "LA")


def decode_working(img: Image.Image, data: bytes, long_side: int, frame: int = 0) -> WorkImage:
    """Decode ``img`` (opened from ``data``, header checked) into a :class:`WorkImage`."""
    if frame:
        img.seek(frame)
    full_w, full_h = img.size
    colour = img.mode not in ("1", "L", "LA", "I;16", "I;16B", "I;16L", "I", "F")
    if img.mode == "P":
        colour = not _grey_palette(img)
    k = max(1, round(max(full_w, full_h) / long_side))
    if frame == 0 and img.format in _OPENCV_FORMATS and img.mode in _OPENCV_MODES:
        flags = (cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE) | cv2.IMREAD_IGNORE_ORIENTATION
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
        if arr is not None and arr.shape[:2] == (full_h, full_w):
            return _work(np.asarray(arr, dtype=np.uint8), k, full_w)
        # OpenCV could not: Pillow below names the error (or decodes what OpenCV would not)
    if img.format == "JPEG" and k >= 2:  # DCT scaling: 1/2, 1/4 or 1/8 of the pixels are decoded
        img.draft("RGB" if colour else "L", (math.ceil(full_w / k), math.ceil(full_h / k)))
    try:
        img.load()
    except Exception as exc:  # Pillow reports truncation and codec failures as OSError/SyntaxError/…
        raise PageRejected("truncated", f"{type(exc).__name__}: {exc}") from exc
    k = max(1, round(max(img.size) / long_side))  # what is left to reduce after DCT scaling
    if colour:
        rgb = np.asarray(img if img.mode == "RGB" else img.convert("RGB"))
        return _work(np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), dtype=np.uint8), k, full_w)
    return _work(_to_grey8(img), k, full_w)


def _work(pixels: NDArray[np.uint8], k: int, full_w: int) -> WorkImage:
    """Reduce grey (H, W) or BGR (H, W, 3) full pixels by ``k`` into the working image."""
    if pixels.ndim == 2:
        grey = _reduce(pixels, k)
        return WorkImage(grey=grey, bgr=None, scale=full_w / grey.shape[1], channels_equal=False)
    bgr = _reduce(pixels, k)
    equal = bool(np.array_equal(bgr[..., 0], bgr[..., 1]) and np.array_equal(bgr[..., 1], bgr[..., 2]))
    grey = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    return WorkImage(grey=grey, bgr=bgr, scale=full_w / grey.shape[1], channels_equal=equal)


def _to_grey8(img: Image.Image) -> Grey:
    if img.mode == "L":
        return np.asarray(img, dtype=np.uint8)
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode != "I" else max(float(arr.max()), 1.0)
        return np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8)
    return np.asarray(img.convert("L"), dtype=np.uint8)


def _reduce(arr: NDArray[np.uint8], k: int) -> NDArray[np.uint8]:
    """Shrink by the integer factor ``k`` (pixel-area average; OpenCV's fast integer path)."""
    if k <= 1:
        return np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    cropped = arr[: h // k * k, : w // k * k]
    return np.asarray(cv2.resize(cropped, (w // k, h // k), interpolation=cv2.INTER_AREA), dtype=np.uint8)


def _grey_palette(img: Image.Image) -> bool:
    palette = img.getpalette() or []
    triples = np.asarray(palette[: len(palette) // 3 * 3]).reshape(-1, 3)
    return bool(np.all(triples[:, 0] == triples[:, 1]) and np.all(triples[:, 1] == triples[:, 2]))


def decode_full(img: Image.Image, frame: int = 0) -> NDArray[np.uint8]:
    """Full-resolution pixels for preparation: grey (H, W) or BGR (H, W, 3)."""
    if frame:
        img.seek(frame)
    try:
        img.load()
    except Exception as exc:
        raise PageRejected("truncated", f"{type(exc).__name__}: {exc}") from exc
    if img.mode in ("1", "L", "LA", "I;16", "I;16B", "I;16L", "I", "F") or (img.mode == "P" and _grey_palette(img)):
        return _to_grey8(img)
    return np.asarray(cv2.cvtColor(np.asarray(img.convert("RGB")), cv2.COLOR_RGB2BGR), dtype=np.uint8)
