"""Where the sheet is, where the scanner's black border is, and which pixels are ink.

Pure functions on the working-resolution grey image. The black border is the set of dark
regions connected to the image frame (the scanner lid or bed around the sheet); ink is
what is clearly darker than the paper inside the sheet. Bleed-through from the back of a
thin sheet is lighter than ``1 - ink_contrast`` of the paper level and so is not ink.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

Mask = NDArray[np.bool_]


@dataclass(frozen=True)
class Regions:
    border: tuple[float, float, float, float]  # left, top, right, bottom black-band widths, working px
    lid: Mask  # the black border itself (dark regions joined to the image frame)
    page_box: tuple[int, int, int, int]  # x0, y0, x1, y1 of the sheet without border, working px
    page: Mask  # sheet pixels (border excluded, edges eroded)
    ink: Mask  # ink pixels, specks removed
    paper_level: float  # grey level of the paper (90th percentile inside the sheet)
    ink_fraction: float  # ink pixels / sheet pixels


def find_regions(grey: NDArray[np.uint8], border_threshold: int, ink_contrast: float) -> Regions:
    h, w = grey.shape
    border = _border_mask(grey, border_threshold)
    widths = _band_widths(border)
    page = ~border
    margin = _margin(grey.shape)
    page_u8 = cv2.erode(page.astype(np.uint8), np.ones((2 * margin + 1, 2 * margin + 1), np.uint8))
    page_u8[:margin, :] = 0
    page_u8[-margin:, :] = 0
    page_u8[:, :margin] = 0
    page_u8[:, -margin:] = 0
    page = page_u8.astype(bool)
    sample = grey[::3, ::3][page[::3, ::3]]
    paper = float(np.percentile(sample, 90)) if sample.size else 255.0
    raw_ink = (grey < paper * (1.0 - ink_contrast)) & page
    ink = _drop_specks(raw_ink)
    area = int(page.sum())
    box = _box(~border) or (0, 0, w, h)
    return Regions(
        border=widths,
        lid=border,
        page_box=box,
        page=page,
        ink=ink,
        paper_level=paper,
        ink_fraction=float(ink.sum()) / area if area else 0.0,
    )


def _border_mask(grey: NDArray[np.uint8], threshold: int) -> Mask:
    dark = (grey < threshold).astype(np.uint8)
    if not dark.any():
        return np.zeros(grey.shape, bool)
    n, labels = cv2.connectedComponents(dark, connectivity=4)
    edge = np.unique(np.concatenate((labels[0], labels[-1], labels[:, 0], labels[:, -1])))
    edge = edge[edge != 0]
    if edge.size == 0:
        return np.zeros(grey.shape, bool)
    lut = np.zeros(n, bool)
    lut[edge] = True
    return np.asarray(lut[labels], dtype=bool)


def _band_widths(border: Mask) -> tuple[float, float, float, float]:
    """Median width of the border band along each side (robust to a skewed sheet's wedges)."""

    def leading(mask: Mask) -> float:
        # length of the run of True at the start of each row; full rows count as the whole width
        first_false = np.where(mask.all(axis=1), mask.shape[1], np.argmin(mask, axis=1))
        return float(np.median(first_false))

    return (
        leading(border),
        leading(border.T),
        leading(border[:, ::-1]),
        leading(border.T[:, ::-1]),
    )


def _margin(shape: tuple[int, ...]) -> int:
    """Pixels next to the border that are never ink: edge shadows and the sheet's own edge."""
    return max(2, round(max(shape[:2]) * 0.006))


def content_at_border(regions: Regions, reach: int) -> tuple[float, float, float, float]:
    """Per side (left, top, right, bottom): the share of the lines across the black border in
    which ink lies within ``reach`` px beyond the shadow margin next to the border's inner edge.

    A scanner's border lies outside the sheet, or over its blank margin: nothing is written next
    to it. A border lying over the text (a cover sheet, a sheet fed half off the glass) cuts
    through the text lines, so ink runs up to its edge along much of that side. Lines are
    followed one by one, so the wedge of a skewed sheet is followed too.
    """

    def leading(lid: Mask, ink: Mask) -> float:
        edge = np.argmin(lid, axis=1)  # first sheet pixel of each line; 0 where no border
        lines = np.flatnonzero((edge > 0) & ~lid.all(axis=1))
        if lines.size == 0:
            return 0.0
        window = np.minimum(edge[lines, None] + np.arange(reach), ink.shape[1] - 1)
        return float(ink[lines[:, None], window].any(axis=1).mean())

    lid, ink = regions.lid, regions.ink
    if not lid.any():
        return (0.0, 0.0, 0.0, 0.0)
    reach += _margin(lid.shape)
    return (
        leading(lid, ink),
        leading(lid.T, ink.T),
        leading(lid[:, ::-1], ink[:, ::-1]),
        leading(lid.T[:, ::-1], ink.T[:, ::-1]),
    )


def _box(mask: Mask) -> tuple[int, int, int, int] | None:
    cols, rows = np.flatnonzero(mask.any(axis=0)), np.flatnonzero(mask.any(axis=1))
    if cols.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def _drop_specks(mask: Mask) -> Mask:
    """Opening with a 2x2 square: single-pixel dust and noise go, strokes stay."""
    opened = cv2.morphologyEx(mask.view(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    return np.asarray(opened, dtype=bool)
