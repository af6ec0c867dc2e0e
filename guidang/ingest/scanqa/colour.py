"""Colour content of a colour scan: how much is colour at all, and how much is red.

Colour is measured as the Lab chroma distance from the paper's own tint, so yellowed paper
with black text counts as grey content (a colour scan of it is a waste of space), while a
red header (红头), a red seal (印章) or a photo is colour. Red pages are flagged so that no
derivative ever turns them grey or bitonal (DA/T 31-2017 9.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Colour:
    colour_fraction: float  # share of sheet pixels whose chroma differs from the paper tint
    red_fraction: float  # share of sheet pixels that are saturated red (seals, red headers)


def measure_colour(bgr: NDArray[np.uint8], page: NDArray[np.bool_], min_chroma: float) -> Colour:
    sub = (slice(None, None, 2), slice(None, None, 2))  # a quarter of the pixels is plenty for shares
    lab = cv2.cvtColor(np.ascontiguousarray(bgr[sub]), cv2.COLOR_BGR2LAB).astype(np.int16)
    mask = page[sub]
    area = int(mask.sum())
    if area == 0:
        return Colour(0.0, 0.0)
    a, b = lab[..., 1] - 128, lab[..., 2] - 128
    paper_a, paper_b = float(np.median(a[mask])), float(np.median(b[mask]))
    da, db = a - paper_a, b - paper_b
    colour = (da * da + db * db > min_chroma * min_chroma) & mask
    ca, cb = a[colour], b[colour]  # hue only where there is colour: red sits near 0-55 degrees in a*b*
    hue = np.degrees(np.arctan2(cb, ca))
    red = int(np.count_nonzero((ca > 25) & (hue > -30) & (hue < 55)))
    return Colour(colour_fraction=float(np.count_nonzero(colour)) / area, red_fraction=red / area)
