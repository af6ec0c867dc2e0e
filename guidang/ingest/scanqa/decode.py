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


def decode_working(img: Image.Image, long_side: int, frame: int = 0) -> WorkImage:
    """Decode ``img`` (already opened, header checked) into a :class:`WorkImage`."""
    if frame:
        img.seek(frame)
    full_w, full_h = img.size
    factor = max(full_w, full_h) / long_side
    colour = img.mode not in ("1", "L", "LA", "I;16", "I;16B", "I;16L", "I", "F")
    if img.mode == "P":
        colour = not _grey_palette(img)
    if img.format == "JPEG" and factor >= 2:
        img.draft("RGB" if colour else "L", (math.ceil(full_w / factor), math.ceil(full_h / factor)))
    try:
        img.load()
    except Exception as exc:  # Pillow reports truncation and codec failures as OSError/SyntaxError/…
        raise PageRejected("truncated", f"{type(exc).__name__}: {exc}") from exc
    target = (max(1, round(full_w / max(factor, 1))), max(1, round(full_h / max(factor, 1))))
    if colour:
        rgb = np.asarray(img.convert("RGB"))
        bgr = _resize(np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), dtype=np.uint8), target)
        equal = bool(np.array_equal(bgr[..., 0], bgr[..., 1]) and np.array_equal(bgr[..., 1], bgr[..., 2]))
        grey = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        return WorkImage(grey=grey, bgr=bgr, scale=full_w / grey.shape[1], channels_equal=equal)
    grey = _resize(_to_grey8(img), target)
    return WorkImage(grey=grey, bgr=None, scale=full_w / grey.shape[1], channels_equal=False)


def _to_grey8(img: Image.Image) -> Grey:
    if img.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode != "I" else max(float(arr.max()), 1.0)
        return np.clip(arr * (255.0 / top), 0, 255).astype(np.uint8)
    return np.asarray(img.convert("L"), dtype=np.uint8)


def _resize(arr: NDArray[np.uint8], size: tuple[int, int]) -> NDArray[np.uint8]:
    if (arr.shape[1], arr.shape[0]) == size:
        return np.ascontiguousarray(arr)
    return np.asarray(cv2.resize(arr, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


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
