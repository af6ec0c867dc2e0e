"""Perceptual fingerprint of a page, to find pages scanned twice (重扫).

A 64-bit DCT hash (pHash) finds candidates cheaply across a whole batch; a small
thumbnail confirms them by correlation, because two different text pages with the same
layout can share most hash bits. Both are taken from the sheet without its border, so a
rescan with a different border still matches.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

THUMB = (48, 64)  # width, height of the confirming thumbnail


@dataclass(frozen=True)
class Fingerprint:
    phash: int  # 64 bits
    thumbnail: bytes  # THUMB grey pixels, row-major


def fingerprint(grey: NDArray[np.uint8], box: tuple[int, int, int, int]) -> Fingerprint:
    x0, y0, x1, y1 = box
    sheet = grey[y0:y1, x0:x1] if (x1 - x0) > 8 and (y1 - y0) > 8 else grey
    while min(sheet.shape) >= 4 * THUMB[0]:  # halve with a proper filter first: area resampling is slow
        sheet = np.asarray(cv2.pyrDown(sheet), dtype=np.uint8)
    small = cv2.resize(sheet, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    low = cv2.dct(small)[:8, :8].flatten()
    bits = low > np.median(low[1:])
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    thumb = cv2.resize(sheet, THUMB, interpolation=cv2.INTER_AREA)
    return Fingerprint(phash=value, thumbnail=thumb.tobytes())


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def correlation(a: bytes, b: bytes) -> float:
    """Zero-mean normalised correlation of two thumbnails (1 = same picture)."""
    x = np.frombuffer(a, np.uint8).astype(np.float64)
    y = np.frombuffer(b, np.uint8).astype(np.float64)
    x -= x.mean()
    y -= y.mean()
    denom = float(np.sqrt(np.dot(x, x) * np.dot(y, y)))
    if denom == 0.0:
        return 1.0 if np.array_equal(x, y) else 0.0
    return float(np.dot(x, y) / denom)
