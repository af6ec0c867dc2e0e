"""Paper size and resolution from the pixel size: is the header's dpi plausible?

A4 at 300 dpi is 2480 x 3508 pixels. A header that says 300 dpi on a 1240 x 1754 page
describes an A4 sheet only if it is wrong (that page is A4 at 150 dpi, or A5 at ~212 dpi).
The best (paper, dpi) explanation of the pixel size is what the metadata gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

#: resolutions scanners are set to; an inferred dpi snaps to one of them when close
STANDARD_DPI = (72, 96, 100, 150, 200, 240, 250, 300, 400, 600, 800, 1200)


@dataclass(frozen=True)
class PaperFit:
    paper: str | None  # best matching paper size at the header's dpi (None: none within tolerance)
    header_plausible: bool  # the header's dpi explains the pixel size as a known paper
    effective_dpi: float | None  # header dpi if plausible, else dpi inferred from a known paper
    inferred_paper: str | None  # the paper of the inferred dpi
    size_mm: tuple[float, float] | None  # page size at the header's dpi


def _error(w_mm: float, h_mm: float, size: tuple[float, float]) -> float:
    pw, ph = size
    if (w_mm > h_mm) != (pw > ph):
        pw, ph = ph, pw
    return max(abs(w_mm - pw) / pw, abs(h_mm - ph) / ph)


def fit_paper(
    width: int,
    height: int,
    dpi: tuple[float, float] | None,
    sizes: Mapping[str, tuple[float, float]],
    tolerance: float,
) -> PaperFit:
    if dpi is not None:
        w_mm, h_mm = width / dpi[0] * 25.4, height / dpi[1] * 25.4
        name, err = min(((n, _error(w_mm, h_mm, s)) for n, s in sizes.items()), key=lambda t: t[1])
        if err <= tolerance:
            return PaperFit(name, True, float(round(min(dpi))), name, (round(w_mm, 1), round(h_mm, 1)))
        size: tuple[float, float] | None = (round(w_mm, 1), round(h_mm, 1))
    else:
        size = None
    inferred = _infer(width, height, sizes, tolerance)
    return PaperFit(None, False, inferred[1] if inferred else None, inferred[0] if inferred else None, size)


def _infer(
    width: int, height: int, sizes: Mapping[str, tuple[float, float]], tolerance: float
) -> tuple[str, float] | None:
    """The (paper, standard dpi) pair that explains the pixel size best, if any does."""
    best: tuple[float, str, float] | None = None
    for name, (pw, ph) in sizes.items():
        if (width > height) != (pw > ph):
            pw, ph = ph, pw
        dx, dy = width / (pw / 25.4), height / (ph / 25.4)
        mean = (dx + dy) / 2
        if abs(dx - dy) / mean > tolerance:
            continue
        std = min(STANDARD_DPI, key=lambda d: abs(d - mean))
        err = abs(std - mean) / std
        if err <= tolerance and (best is None or err < best[0]):
            best = (err, name, float(std))
    return (best[1], best[2]) if best else None
