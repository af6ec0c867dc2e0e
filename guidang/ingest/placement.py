"""Where a master image lies on its page when OCR ran on a derivative of it.

Scan preparation (`guidang.ingest.prepare`) turns, deskews and crops a page to make the
derivative Tesseract reads, and OCR may read a smaller copy. Instead of embedding the
derivative in the PDF (a re-encoded, resampled image), guidang embeds the master as
delivered (a JPEG stays the same bytes) and draws it with the affine transform that made
the derivative: the page shows the upright, deskewed, cropped page, and the OCR text lies
on it in the derivative's coordinates.

Affine matrices use the PDF order ``(a, b, c, d, e, f)``: ``(x, y) → (a·x + c·y + e,
b·x + d·y + f)``, in pixels with y downwards and (0, 0) the top-left corner of the image
(continuous coordinates: pixel *i* spans [i, i+1)).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def compose(second: Matrix, first: Matrix) -> Matrix:
    """The transform applying *first*, then *second*."""
    a2, b2, c2, d2, e2, f2 = second
    a1, b1, c1, d1, e1, f1 = first
    return (
        a2 * a1 + c2 * b1,
        b2 * a1 + d2 * b1,
        a2 * c1 + c2 * d1,
        b2 * c1 + d2 * d1,
        a2 * e1 + c2 * f1 + e2,
        b2 * e1 + d2 * f1 + f2,
    )


def apply(matrix: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = matrix
    return a * x + c * y + e, b * x + d * y + f


def turn_clockwise(degrees: int, width: float, height: float) -> tuple[Matrix, tuple[float, float]]:
    """Turning an image of *width* × *height* clockwise by 0/90/180/270: matrix and new size."""
    if degrees == 90:
        return (0.0, 1.0, -1.0, 0.0, height, 0.0), (height, width)
    if degrees == 180:
        return (-1.0, 0.0, 0.0, -1.0, width, height), (width, height)
    if degrees == 270:
        return (0.0, -1.0, 1.0, 0.0, 0.0, width), (height, width)
    if degrees == 0:
        return IDENTITY, (width, height)
    raise ValueError(f"not a quarter turn: {degrees}")


@dataclass(frozen=True)
class Placement:
    """The frame OCR ran in: the master mapped by *matrix* onto an image of *size* pixels."""

    matrix: Matrix
    size: tuple[int, int]


class Operation(Protocol):
    """What `guidang.ingest.prepare.ImageOperation` records (action and parameters)."""

    @property
    def action(self) -> str: ...

    @property
    def params(self) -> Mapping[str, object]: ...


def _deskew(degrees_ccw: float, width: float, height: float) -> tuple[Matrix, tuple[float, float]]:
    """The rotation `prepare` applies (OpenCV's, about the centre, on a canvas that keeps the corners)."""
    angle = math.radians(degrees_ccw)
    alpha, beta = math.cos(angle), math.sin(angle)
    cx, cy = width / 2, height / 2
    # cv2.getRotationMatrix2D((cx, cy), degrees_ccw, 1.0), in pixel-centre coordinates
    m = [alpha, beta, (1 - alpha) * cx - beta * cy, -beta, alpha, beta * cx + (1 - alpha) * cy]
    cos, sin = abs(alpha), abs(beta)
    new_w, new_h = round(height * sin + width * cos), round(height * cos + width * sin)
    m[2] += new_w / 2 - cx
    m[5] += new_h / 2 - cy
    centre: Matrix = (m[0], m[3], m[1], m[4], m[2], m[5])
    # pixel centres → continuous coordinates: x_c = x - 0.5 on both sides
    shift_in: Matrix = (1.0, 0.0, 0.0, 1.0, -0.5, -0.5)
    shift_out: Matrix = (1.0, 0.0, 0.0, 1.0, 0.5, 0.5)
    return compose(shift_out, compose(centre, shift_in)), (float(new_w), float(new_h))


def _number(params: Mapping[str, object], key: str) -> float:
    value = params[key]
    if not isinstance(value, int | float):
        raise ValueError(f"operation parameter {key} is not a number: {value!r}")
    return float(value)


def placement_from_operations(
    operations: Iterable[Operation], master_size: tuple[int, int], *, scale: float = 1.0
) -> Placement:
    """The placement of a master given `prepare`'s operations, then resized by *scale* for OCR."""
    matrix = IDENTITY
    width, height = float(master_size[0]), float(master_size[1])
    for op in operations:
        params = op.params
        if op.action == "rotate":
            ccw = int(_number(params, "degrees_ccw")) % 360
            step, (width, height) = turn_clockwise((360 - ccw) % 360, width, height)
        elif op.action == "deskew":
            step, (width, height) = _deskew(-_number(params, "measured_skew"), width, height)
        elif op.action == "crop_border":
            box = params["box"]
            if not isinstance(box, list | tuple) or len(box) != 4:
                raise ValueError(f"crop box is not four numbers: {box!r}")
            x0, y0, x1, y1 = (float(v) for v in box)
            step, (width, height) = (1.0, 0.0, 0.0, 1.0, -x0, -y0), (x1 - x0, y1 - y0)
        else:  # to_grey, keep_colour: no geometry
            continue
        matrix = compose(step, matrix)
    size = (round(width * scale), round(height * scale))
    if scale != 1.0:
        matrix = compose((size[0] / width, 0.0, 0.0, size[1] / height, 0.0, 0.0), matrix)
    return Placement(matrix, size)
