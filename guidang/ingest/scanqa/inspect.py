"""Measure delivered page files: one header read, one decode, all measurements.

``inspect_page`` never raises for a bad file: an unreadable, truncated or oversized page
comes back as a measurement with ``rejected`` set, which SCAN-READ reports. The other
checks read the numbers measured here; nothing in this module decides pass or fail.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image

from guidang.ingest.scanqa.colour import measure_colour
from guidang.ingest.scanqa.decode import WorkImage, decode_working
from guidang.ingest.scanqa.fingerprint import fingerprint
from guidang.ingest.scanqa.header import (
    FileHeader,
    PageRejected,
    check_complete,
    count_frames,
    open_image,
    open_page,
    read_header,
    select_frame,
    tiff_pages,
)
from guidang.ingest.scanqa.options import ScanQAOptions
from guidang.ingest.scanqa.orientation import Orientation, layout_orientation, osd_crop, tesseract_osd
from guidang.ingest.scanqa.paper import PaperFit, fit_paper
from guidang.ingest.scanqa.regions import content_at_border, find_regions
from guidang.ingest.scanqa.skew import ink_points, measure_skew

log = logging.getLogger(__name__)

FALLBACK_DPI = 300.0  # only to express widths in mm when neither header nor paper tell the dpi
#: how far past the border (and its shadow margin) ink counts as touching it
BORDER_REACH_MM = 3.0
LINE_POINTS = 400_000  # ink pixels for the text-line cues (a 150 dpi A4 page has 50-150 thousand)


@dataclass(frozen=True)
class PageMeasurement:
    """Everything measured on one page (one file, or one frame of a multi-page TIFF)."""

    path: Path
    frame: int
    file_bytes: int
    header: FileHeader | None  # None: not even the header could be read
    rejected: str | None = None  # "unreadable" | "truncated" | "bomb" | "too_large" | "too_many_pages"
    error: str | None = None
    paper: PaperFit | None = None
    stored_mode: str | None = None  # "bitonal" | "grey" | "colour" as stored in the file
    content_mode: str | None = None  # "bitonal" | "grey" | "colour": what the content needs
    effective_mode: str | None = None  # the mode the pixels use (an RGB file with R=G=B is grey)
    colour_fraction: float | None = None
    red_fraction: float | None = None
    keep_colour: bool = False  # red or colour content: never turn this page grey or bitonal
    skew_deg: float | None = None
    skew_sharpness: float | None = None
    orientation: Orientation | None = None
    ink_fraction: float | None = None
    blank: bool | None = None
    border_mm: tuple[float, float, float, float] | None = None  # left, top, right, bottom
    #: per side, the share of the lines across the border with ink next to it (it covers content)
    border_content: tuple[float, float, float, float] | None = None
    page_box: tuple[int, int, int, int] | None = None  # sheet without border, full-resolution px
    text_height_mm: float | None = None
    phash: int | None = None
    thumbnail: bytes = b""
    seconds: float = 0.0
    osd_seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.path.name if self.frame == 0 else f"{self.path.name}#{self.frame + 1}"

    @property
    def readable(self) -> bool:
        return self.rejected is None

    @property
    def dpi(self) -> float | None:
        """The resolution to believe: the header's if plausible, else the one inferred from the paper."""
        return self.paper.effective_dpi if self.paper else None


@dataclass(frozen=True)
class ItemMeasurement:
    archival_code: str
    pages: tuple[PageMeasurement, ...]


@dataclass(frozen=True)
class BatchMeasurement:
    items: Mapping[str, ItemMeasurement]

    @property
    def pages(self) -> tuple[PageMeasurement, ...]:
        return tuple(p for item in self.items.values() for p in item.pages)


def inspect_page(path: Path, options: ScanQAOptions, frame: int = 0) -> PageMeasurement:
    """Measure one page file (or one frame of a multi-page file). Never raises for a bad file:
    a page that cannot be measured comes back with ``rejected`` set."""
    try:
        return _inspect(path, options, frame)
    except Exception as exc:  # an odd page must not take its batch down; SCAN-READ reports it
        log.exception("measuring %s failed", path)
        return PageMeasurement(path, frame, 0, None, "unreadable", f"measurement failed: {type(exc).__name__}: {exc}")


def _inspect(path: Path, options: ScanQAOptions, frame: int) -> PageMeasurement:
    start = time.perf_counter()
    opened = _open(path, options)
    if isinstance(opened, PageMeasurement):
        return opened if frame == 0 else replace(opened, frame=frame)
    return _inspect_frame(path, opened, frame, options, start)


@dataclass(frozen=True)
class _Opened:
    img: Image.Image  # the file opened on its first page
    data: bytes
    size: int
    frames: int
    pages: list[int] | None  # directory offsets of a classic TIFF's pages


def _open(path: Path, options: ScanQAOptions) -> _Opened | PageMeasurement:
    """The file opened (header only) with its bytes, size and pages, or the measurement that says
    why it cannot be measured."""
    start = time.perf_counter()
    try:
        size = path.stat().st_size
    except OSError as exc:
        return PageMeasurement(path, 0, 0, None, "unreadable", f"{type(exc).__name__}: {exc}")
    if size > options.max_file_bytes:
        return PageMeasurement(path, 0, size, None, "too_large", f"{size} bytes > {options.max_file_bytes}")
    header: FileHeader | None = None
    try:
        data = path.read_bytes()
        img = open_image(data, options)
        limit = options.max_pages_per_file
        pages = tiff_pages(data, limit) if getattr(img, "is_animated", False) else None
        frames = len(pages) if pages else count_frames(img, limit)
        header = read_header(img, size, frames)
        if frames > limit:
            raise PageRejected("too_many_pages", f"> {limit} pages in one file")
    except PageRejected as exc:
        return PageMeasurement(path, 0, size, header, exc.reason, exc.detail, seconds=time.perf_counter() - start)
    except OSError as exc:
        return PageMeasurement(path, 0, size, header, "unreadable", f"{type(exc).__name__}: {exc}")
    return _Opened(img, data, size, frames, pages)


def _inspect_frame(path: Path, f: _Opened, frame: int, options: ScanQAOptions, start: float) -> PageMeasurement:
    """Measure page ``frame`` of the opened file; never raises for a bad page. A later page of a
    TIFF is decoded from a TIFF of its own (header.open_page), so each page costs its own bytes."""
    header: FileHeader | None = None
    size = f.size
    try:
        if frame == 0:
            img, data = f.img, f.data
            select_frame(img, 0, options)
        else:
            img, data = open_page(f.data, frame, options, f.pages)
        header = read_header(img, size, f.frames)
        check_complete(data, img)
        work = decode_working(img, data, options.work_long_side, img.tell())
    except PageRejected as exc:
        return PageMeasurement(path, frame, size, header, exc.reason, exc.detail, seconds=time.perf_counter() - start)
    except OSError as exc:
        return PageMeasurement(path, frame, size, header, "unreadable", f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # an odd page must not take its file down; SCAN-READ reports it
        log.exception("measuring %s page %d failed", path, frame + 1)
        return PageMeasurement(path, frame, size, header, "unreadable", f"measurement failed: {type(exc).__name__}")
    return _measure(path, frame, size, header, work, options, start)


def _measure(
    path: Path, frame: int, size: int, header: FileHeader, work: WorkImage, options: ScanQAOptions, start: float
) -> PageMeasurement:
    paper = fit_paper(header.width, header.height, header.dpi, options.paper_sizes, options.paper_tolerance)
    dpi = paper.effective_dpi or (min(header.dpi) if header.dpi else FALLBACK_DPI)
    work_px_per_mm = dpi / 25.4 / work.scale
    regions = find_regions(work.grey, options.border_threshold, options.ink_contrast)
    points = ink_points(regions.ink)
    skew = measure_skew(points, options.skew_search_deg)
    blank = regions.ink_fraction < options.blank_max_ink
    orientation, lines = layout_orientation(ink_points(regions.ink, LINE_POINTS), skew)
    osd_seconds = 0.0
    # the heuristic is trusted only for "upright"; any other answer, or doubt, is Tesseract's to give
    upright = orientation.confident and orientation.rotation == 0
    if not blank and (options.osd == "always" or (options.osd == "uncertain" and not upright)):
        t0 = time.perf_counter()
        osd = tesseract_osd(osd_crop(work.grey, regions.ink), options.osd_min_confidence, options.osd_characters)
        osd_seconds = time.perf_counter() - t0
        if osd.confident:
            orientation = osd
        elif not upright:  # a turn is claimed only by a confident OSD: the cues alone have been wrong
            unsure = osd if osd.rotation is not None else orientation
            orientation = replace(unsure, confident=False, detail=f"{orientation.detail}; {osd.detail}")
    if blank:
        orientation = Orientation(None, False, "none", "blank page")

    stored = _stored_mode(header, work.bgr is not None)
    colour_fraction = red_fraction = None
    content = stored
    if work.bgr is not None:
        if work.channels_equal:
            colour_fraction = red_fraction = 0.0
        else:
            colour = measure_colour(work.bgr, regions.page, options.colour_min_chroma)
            colour_fraction, red_fraction = colour.colour_fraction, colour.red_fraction
        content = "colour" if colour_fraction >= options.colour_min_fraction else "grey"
    keep_colour = bool(
        (red_fraction or 0.0) >= options.red_min_fraction or (colour_fraction or 0.0) >= options.colour_min_fraction
    )
    fp = fingerprint(work.grey, regions.page_box)
    s = work.scale
    x0, y0, x1, y1 = regions.page_box
    return PageMeasurement(
        path=path,
        frame=frame,
        file_bytes=size,
        header=header,
        paper=paper,
        stored_mode=stored,
        content_mode=content,
        effective_mode="grey" if work.channels_equal else stored,
        colour_fraction=colour_fraction,
        red_fraction=red_fraction,
        keep_colour=keep_colour and stored == "colour",
        skew_deg=None if blank or skew.sharpness <= 1.05 else skew.angle,
        skew_sharpness=skew.sharpness,
        orientation=orientation,
        ink_fraction=regions.ink_fraction,
        blank=blank,
        border_mm=tuple(round(v / work_px_per_mm, 2) for v in regions.border),  # type: ignore[arg-type]
        border_content=tuple(  # type: ignore[arg-type]
            round(v, 3) for v in content_at_border(regions, max(1, round(BORDER_REACH_MM * work_px_per_mm)))
        ),
        page_box=(
            round(x0 * s),
            round(y0 * s),
            min(header.width, round(x1 * s)),
            min(header.height, round(y1 * s)),
        ),
        text_height_mm=round(lines.height / work_px_per_mm, 2) if lines.count >= 3 else None,
        phash=fp.phash,
        thumbnail=fp.thumbnail,
        seconds=time.perf_counter() - start,
        osd_seconds=osd_seconds,
    )


def inspect_file(path: Path, options: ScanQAOptions) -> tuple[PageMeasurement, ...]:
    """All pages of a file: one for a single-page file, one per frame of a multi-page TIFF. The
    file is read and opened once and its pages measured in order, so the cost is linear in the
    pages (opening it again per page, each open counting every page, was quadratic); a file of
    more than ``max_pages_per_file`` pages is one rejected measurement, none of its pages decoded."""
    try:
        opened = _open(path, options)
        if isinstance(opened, PageMeasurement):
            return (opened,)
        return tuple(
            _inspect_frame(path, opened, frame, options, time.perf_counter()) for frame in range(opened.frames)
        )
    except Exception as exc:  # an odd file must not take its batch down; SCAN-READ reports it
        log.exception("measuring %s failed", path)
        return (PageMeasurement(path, 0, 0, None, "unreadable", f"measurement failed: {type(exc).__name__}: {exc}"),)


def page_sequence(path: Path, options: ScanQAOptions) -> tuple[str, int] | None:
    """(档号, page number) from a DA/T 31 page file name, or None if it does not follow the pattern."""
    m = re.match(options.page_name_pattern, path.stem)
    if m is None:
        return None
    return m.group("code"), int(m.group("seq"))


def _order(paths: Iterable[Path], options: ScanQAOptions) -> list[Path]:
    def key(p: Path) -> tuple[int, int, str]:
        seq = page_sequence(p, options)
        return (0, seq[1], p.name) if seq else (1, 0, p.name)

    return sorted(paths, key=key)


def inspect_item(archival_code: str, paths: Sequence[Path], options: ScanQAOptions, jobs: int = 1) -> ItemMeasurement:
    """Measure the page files of one item (件), in page-sequence order."""
    ordered = _order(paths, options)
    if jobs > 1 and len(ordered) > 1:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(lambda p: inspect_file(p, options), ordered))
    else:
        results = [inspect_file(p, options) for p in ordered]
    return ItemMeasurement(archival_code, tuple(p for pages in results for p in pages))


def inspect_batch(items: Mapping[str, Sequence[Path]], options: ScanQAOptions, jobs: int = 1,
                  on_file: Callable[[], None] | None = None) -> BatchMeasurement:
    """Measure every item of a batch; pages run in parallel over ``jobs`` threads (OpenCV and
    Pillow release the GIL for the heavy work). ``on_file`` is called after each file is measured
    (a progress display)."""
    flat = [(code, p) for code, paths in items.items() for p in _order(paths, options)]

    def measure(path: Path) -> tuple[PageMeasurement, ...]:
        pages = inspect_file(path, options)
        if on_file is not None:
            on_file()
        return pages

    if jobs > 1:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(lambda cp: measure(cp[1]), flat))
    else:
        results = [measure(p) for _, p in flat]
    grouped: dict[str, list[PageMeasurement]] = {code: [] for code in items}
    for (code, _), pages in zip(flat, results, strict=True):
        grouped[code].extend(pages)
    return BatchMeasurement({c: ItemMeasurement(c, tuple(ps)) for c, ps in grouped.items()})


def _stored_mode(header: FileHeader, colour: bool) -> str:
    if header.pixel_mode == "1" or header.bits_per_sample == 1:
        return "bitonal"
    return "colour" if colour else "grey"
