"""SCAN-* checks on generated pages of known skew, rotation, blankness, border, resolution…

Every test asserts both the verdict of the check and the measured value it reports.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_scan_pages import black_border, blank_page, encode, render_page, rotate, skew, write

from guidang.ingest.scanqa import ScanQAOptions, inspect_batch, inspect_item, inspect_page
from guidang.validators.result import Report, Status
from guidang.validators.scan_checks import (
    SCAN_CHECK_IDS,
    BatchContext,
    ScanItemSubject,
    batch_context,
    run_scan_checks,
)

CODE = "Z109-WS·2024-D30-BGS-0001"
OPTS = ScanQAOptions()


def item_report(
    tmp: Path,
    pages: list[bytes],
    *,
    suffix: str = ".tif",
    count: int | None = -1,
    options: ScanQAOptions = OPTS,
    names: list[str] | None = None,
) -> tuple[Report, ScanItemSubject]:
    names = names or [f"{CODE}-{i:04d}{suffix}" for i in range(1, len(pages) + 1)]
    paths = [write(tmp / CODE / n, data) for n, data in zip(names, pages, strict=True)]
    item = inspect_item(CODE, paths, options)
    subject = ScanItemSubject.of(item, len(pages) if count == -1 else count, options)
    return run_scan_checks(subject), subject


def statuses(report: Report, check_id: str) -> set[Status]:
    return {r.status for r in report.by_id(check_id)}


def test_every_scan_check_is_implemented_and_clean_item_passes(tmp_path: Path) -> None:
    assert set(SCAN_CHECK_IDS) == {
        "SCAN-READ", "SCAN-DPI", "SCAN-PAPER", "SCAN-COLOUR", "SCAN-SKEW", "SCAN-ROTATION", "SCAN-BLANK",
        "SCAN-BORDER", "SCAN-DUP", "SCAN-COUNT", "SCAN-NAME", "SCAN-FORMAT", "SCAN-DEPTH",
    }  # fmt: skip
    report, _ = item_report(tmp_path, [encode(render_page(200, seed=s, colour=False), "TIFF", 200) for s in (1, 2)])
    assert report.accepted, [r.as_dict() for r in report.failures]
    assert {r.status for r in report.results} == {Status.PASS}
    assert report.results[0].message_zh == "通过"


# skew -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("degrees", [0.5, -1.2, 2.0, 3.5, -5.0, 7.25, 10.0])
def test_skew_is_measured_within_0_3_degrees(tmp_path: Path, degrees: float) -> None:
    data = encode(skew(render_page(200, seed=11), degrees), "TIFF", 200)
    report, subject = item_report(tmp_path, [data])
    measured = subject.pages[0].skew_deg
    assert measured is not None and abs(measured - degrees) <= 0.3
    # beyond the 3° limit: refused; beyond 1°: deskewed on the derivative and the vendor told
    if abs(degrees) > OPTS.max_skew_deg:
        expected, limit, found = Status.FAIL, "<= 3°", f"{abs(measured):.2f}°"
    elif abs(degrees) > OPTS.warn_skew_deg:
        expected, limit, found = Status.WARN, "<= 1°", f"{abs(measured):.1f}°"
    else:
        expected = Status.PASS
    assert statuses(report, "SCAN-SKEW") == {expected}
    if expected is not Status.PASS:
        (r,) = report.by_id("SCAN-SKEW")
        ev = r.evidence[0]
        assert ev.page == 1 and ev.expected == limit and ev.found == found
    if expected is Status.WARN:
        assert f"已自动纠偏{found}" in r.message_zh and "请今后在扫描端纠偏" in r.message_zh
        assert f"deskewed automatically by {found}" in r.message_en


def test_strict_profile_refuses_what_guidang_would_correct(tmp_path: Path) -> None:
    """scan_qa.strict: DA/T 31's letter (the vendor deskews, crops, turns, delivers one format)."""
    strict = ScanQAOptions(strict=True, osd="never")
    page = black_border(rotate(skew(render_page(150, seed=11), 2.0), 180), 150, (6.0, 0.0, 0.0, 0.0))
    data = encode(page, "TIFF", 150)
    lenient, _ = item_report(tmp_path / "a", [data], options=ScanQAOptions(osd="never"))
    report, _ = item_report(tmp_path / "b", [data], options=strict)
    for check_id in ("SCAN-SKEW", "SCAN-BORDER", "SCAN-ROTATION"):
        assert statuses(lenient, check_id) == {Status.WARN}, check_id
        assert statuses(report, check_id) == {Status.FAIL}, check_id
    assert report.by_id("SCAN-SKEW")[0].evidence[0].expected == "<= 1°"
    assert report.by_id("SCAN-BORDER")[0].evidence[0].expected == "<= 3mm"


# rotation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("turned", [0, 90, 180, 270])
def test_rotation_is_found_by_the_layout_heuristic(tmp_path: Path, turned: int) -> None:
    data = encode(rotate(skew(render_page(150, seed=12), 1.5), turned), "TIFF", 150)
    report, subject = item_report(tmp_path, [data], options=ScanQAOptions(osd="never"))
    o = subject.pages[0].orientation
    assert o is not None and o.method == "layout" and o.confident
    assert o.rotation == turned
    # turned upright on the derivative (and in the PDF): a warning for the vendor
    assert statuses(report, "SCAN-ROTATION") == {Status.PASS if turned == 0 else Status.WARN}
    if turned:
        assert "已自动旋转为正向" in report.by_id("SCAN-ROTATION")[0].message_zh
    assert abs((subject.pages[0].skew_deg or 0) - 1.5) <= 0.3  # skew is measured whichever way it lies


def test_a_turn_claimed_by_the_cues_alone_stays_unsure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found on the independent vendor pages (tests/scan_vendor.py): the layout cues called 10 of
    30 upright letter pages upside down with confidence. A turned page is now corrected
    automatically, so only a confident OSD may claim a turn; an unsure OSD leaves it unsure."""
    import guidang.ingest.scanqa.inspect as inspect_module
    from guidang.ingest.scanqa.orientation import Orientation

    data = encode(rotate(skew(render_page(150, seed=12), 1.5), 180), "TIFF", 150)
    path = write(tmp_path / f"{CODE}-0001.tif", data)
    layout = inspect_page(path, ScanQAOptions(osd="never")).orientation
    assert layout is not None and layout.confident and layout.rotation == 180
    monkeypatch.setattr(inspect_module, "tesseract_osd", lambda *a: Orientation(0, False, "osd", "OSD confidence 0.4"))
    m = inspect_page(path, ScanQAOptions(osd="uncertain"))
    assert m.orientation is not None and not m.orientation.confident and "OSD confidence 0.4" in m.orientation.detail
    report = run_scan_checks(ScanItemSubject(CODE, (m,), 1, OPTS), ["SCAN-ROTATION"])
    assert [r.status for r in report.results] == [Status.WARN] and "无法可靠判定" in report.results[0].message_zh


@pytest.mark.parametrize("turned", [270])
def test_rotation_by_tesseract_osd_agrees(tmp_path: Path, turned: int) -> None:
    data = encode(rotate(render_page(150, seed=13, red_header=True), turned), "TIFF", 150)
    m = inspect_page(write(tmp_path / f"{CODE}-0001.tif", data), ScanQAOptions(osd="always"))
    assert m.orientation is not None and m.orientation.method == "osd"
    assert m.orientation.rotation == turned and m.orientation.confident
    assert m.osd_seconds > 0


# blank pages ------------------------------------------------------------------------------------


def test_blank_and_bleed_through_pages_are_blank_a_short_line_is_not(tmp_path: Path) -> None:
    short = render_page(150, seed=14, paragraphs=1)
    short[600:, :] = short[-1, -1]  # keep only the first line or two of text
    pages = [
        encode(blank_page(150, seed=1), "TIFF", 150),
        encode(blank_page(150, seed=2, bleed_through=True), "TIFF", 150),
        encode(short, "TIFF", 150),
    ]
    report, subject = item_report(tmp_path, pages)
    assert [p.blank for p in subject.pages] == [True, True, False]
    assert subject.pages[0].ink_fraction is not None and subject.pages[0].ink_fraction < OPTS.blank_max_ink
    (blank,) = report.by_id("SCAN-BLANK")
    assert blank.status is Status.WARN and [e.page for e in blank.evidence] == [1, 2]
    # an item with nothing on any page: no correction makes it hold the record
    report, _ = item_report(tmp_path / "empty", pages[:2])
    (empty,) = report.by_id("SCAN-BLANK")
    assert empty.status is Status.FAIL and "所有页面均为空白" in empty.message_zh
    # blank pages are not "duplicates" of each other and have no orientation to complain about
    assert statuses(report, "SCAN-DUP") == {Status.PASS}
    assert statuses(report, "SCAN-ROTATION") == {Status.PASS}


# borders ----------------------------------------------------------------------------------------


def test_black_scanner_border_is_measured_in_mm(tmp_path: Path) -> None:
    bordered = black_border(skew(render_page(200, seed=15), 2.0), 200, (9.0, 4.0, 6.0, 0.0))
    report, subject = item_report(
        tmp_path, [encode(bordered, "TIFF", 200), encode(render_page(200, seed=16), "TIFF", 200)]
    )
    left, top, right, bottom = subject.pages[0].border_mm or (0, 0, 0, 0)
    assert left == pytest.approx(9.0, abs=0.6) and top == pytest.approx(4.0, abs=0.6)
    assert right == pytest.approx(6.0, abs=0.6) and bottom == 0.0
    assert subject.pages[1].border_mm == (0.0, 0.0, 0.0, 0.0)
    (result,) = report.by_id("SCAN-BORDER")  # over the margin only: cropped, the vendor told
    assert result.status is Status.WARN and [e.page for e in result.evidence] == [1]
    assert "已自动裁边" in result.message_zh and result.evidence[0].found == f"{left:.1f}mm"
    assert max(subject.pages[0].border_content or (1.0,)) <= OPTS.border_content_max
    assert abs((subject.pages[0].skew_deg or 0) - 2.0) <= 0.3  # the border does not pull the skew to 0


def test_black_border_over_the_text_fails(tmp_path: Path) -> None:
    """A band reaching into the text cuts its lines: cropping cannot bring the text back."""
    page = render_page(200, seed=15)
    grey = page.min(axis=2) if page.ndim == 3 else page
    text_cols = np.flatnonzero((grey < 100).any(axis=0))
    left_mm = (text_cols[0] + (text_cols[-1] - text_cols[0]) * 0.1) * 25.4 / 200  # a tenth into the text
    covered = black_border(page, 200, (left_mm, 0.0, 0.0, 0.0))
    report, subject = item_report(tmp_path, [encode(covered, "TIFF", 200)])
    content = subject.pages[0].border_content
    assert content is not None and content[0] > OPTS.border_content_max and max(content[1:]) == 0.0
    (result,) = report.by_id("SCAN-BORDER")
    assert result.status is Status.FAIL and "遮挡了内容" in result.message_zh
    assert result.evidence[0].field == "border_content" and result.evidence[0].found.startswith("左/left")


# duplicates -------------------------------------------------------------------------------------


def test_duplicate_within_item_fails_across_items_warns(tmp_path: Path) -> None:
    first = render_page(150, seed=17)
    again = encode(first, "JPEG", 150, quality=80)  # the same sheet scanned again, saved differently
    codes = [f"{CODE[:-4]}{n:04d}" for n in (1, 2)]
    files = {
        codes[0]: [
            encode(first, "JPEG", 150, quality=92),
            encode(render_page(150, seed=18), "JPEG", 150),
            again,
        ],
        codes[1]: [encode(render_page(150, seed=19), "JPEG", 150), encode(first, "JPEG", 150, quality=85)],
    }
    items = {
        code: [write(tmp_path / code / f"{code}-{i:04d}.jpg", d) for i, d in enumerate(pages, 1)]
        for code, pages in files.items()
    }
    batch = inspect_batch(items, OPTS, jobs=2)
    ctx = batch_context(batch, OPTS)
    r1 = run_scan_checks(ScanItemSubject.of(batch.items[codes[0]], 3, OPTS, ctx))
    r2 = run_scan_checks(ScanItemSubject.of(batch.items[codes[1]], 2, OPTS, ctx))
    within = [r for r in r1.by_id("SCAN-DUP") if r.status is Status.FAIL]
    assert len(within) == 1 and within[0].evidence[0].page == 3 and "第1页" in within[0].message_zh
    assert {r.status for r in r2.by_id("SCAN-DUP")} == {Status.WARN}
    assert codes[0] in r2.by_id("SCAN-DUP")[0].message_zh
    assert statuses(r1, "SCAN-FORMAT") == {Status.PASS}


# resolution -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dpi", "verdict"), [(100, Status.FAIL), (200, Status.PASS), (300, Status.PASS), (600, Status.PASS)]
)
def test_resolution_from_the_header(tmp_path: Path, dpi: int, verdict: Status) -> None:
    size = (148.0, 210.0)  # A5 keeps the 600 dpi page small
    data = encode(render_page(dpi, size, seed=20), "TIFF", dpi, bitonal=True)
    report, subject = item_report(tmp_path, [data])
    assert subject.pages[0].dpi == dpi and subject.pages[0].paper is not None
    assert subject.pages[0].paper.paper == "A5"
    assert statuses(report, "SCAN-DPI") == {verdict}
    assert statuses(report, "SCAN-PAPER") == {Status.PASS}
    if verdict is Status.FAIL:
        ev = report.by_id("SCAN-DPI")[0].evidence[0]
        assert (ev.found, ev.expected) == ("100dpi", ">= 200dpi")


def test_small_text_below_recommended_resolution_warns(tmp_path: Path) -> None:
    report, subject = item_report(tmp_path, [encode(render_page(200, seed=21, text_pt=6.5), "TIFF", 200)])
    assert subject.pages[0].text_height_mm is not None and subject.pages[0].text_height_mm < OPTS.small_text_mm
    assert statuses(report, "SCAN-DPI") == {Status.WARN}


def test_header_resolution_that_does_not_fit_the_pixels_fails(tmp_path: Path) -> None:
    page = render_page(150, seed=22)  # A4 at 150 dpi…
    report, subject = item_report(tmp_path, [encode(page, "TIFF", 300), encode(page, "TIFF", None)])
    fit = subject.pages[0].paper
    assert fit is not None and not fit.header_plausible and fit.size_mm == (105.0, 148.5)
    assert fit.effective_dpi == 150 and fit.inferred_paper == "A4"
    paper = {r.status: r for r in report.by_id("SCAN-PAPER")}
    assert set(paper) == {Status.FAIL, Status.WARN}
    assert paper[Status.FAIL].evidence[0].found == "300dpi" and "A4 150dpi" in paper[Status.FAIL].message_zh
    assert paper[Status.WARN].evidence[0].page == 2
    # SCAN-DPI judges the measured 150 dpi, not the claimed 300
    assert statuses(report, "SCAN-DPI") == {Status.FAIL}


# count, naming ----------------------------------------------------------------------------------


def test_page_count_against_the_catalogue(tmp_path: Path) -> None:
    pages = [encode(render_page(150, seed=s), "TIFF", 150) for s in (23, 24)]
    report, _ = item_report(tmp_path / "a", pages, count=3)
    (r,) = report.by_id("SCAN-COUNT")
    assert r.status is Status.FAIL and r.evidence[0].found == "2 (2 non-blank)" and r.evidence[0].expected == "3"
    report, _ = item_report(tmp_path / "b", [*pages, encode(blank_page(150), "TIFF", 150)], count=2)
    assert statuses(report, "SCAN-COUNT") == {Status.PASS}  # 页数 counts pages with content
    report, _ = item_report(tmp_path / "c", pages, count=None)
    assert statuses(report, "SCAN-COUNT") == {Status.WARN}


def test_naming_and_sequence_gaps(tmp_path: Path) -> None:
    pages = [encode(render_page(150, seed=s), "TIFF", 150) for s in (25, 26, 27)]
    names = [f"{CODE}-0001.tif", f"{CODE}-0003.tif", "scan_final.tif"]
    report, _ = item_report(tmp_path / "a", pages, names=names)
    keys = {r.message_en.split(":")[0].split(" ")[0] for r in report.by_id("SCAN-NAME")}
    assert statuses(report, "SCAN-NAME") == {Status.FAIL}
    assert any("page 2 missing" in r.message_en for r in report.by_id("SCAN-NAME"))
    assert any("scan_final.tif" in r.message_zh for r in report.by_id("SCAN-NAME")), keys
    other = "Z109-WS·2024-D30-BGS-0002"
    report, _ = item_report(tmp_path / "b", pages[:1], names=[f"{other}-0001.tif"])
    (r,) = report.by_id("SCAN-NAME")
    assert r.status is Status.FAIL and r.evidence[0].expected == CODE


# formats, depth, compression --------------------------------------------------------------------


def test_one_format_per_batch(tmp_path: Path) -> None:
    a, b = "Z109-WS·2024-D30-BGS-0001", "Z109-WS·2024-D30-BGS-0002"
    items = {
        a: [write(tmp_path / a / f"{a}-0001.tif", encode(render_page(150, seed=28), "TIFF", 150))],
        b: [write(tmp_path / b / f"{b}-0001.jp2", encode(render_page(150, seed=29), "JPEG2000", 150))],
    }
    batch = inspect_batch(items, OPTS)
    ctx = batch_context(batch, OPTS)
    assert dict(ctx.formats) == {"TIFF": 1, "JPEG2000": 1}
    # a full tie (as many items and pages): no format is the batch's, both items are returned
    assert ctx.batch_formats(OPTS.allowed_formats) == ("JPEG2000", "TIFF")
    for code in (a, b):
        report = run_scan_checks(ScanItemSubject.of(batch.items[code], 1, OPTS, ctx))
        (r,) = report.by_id("SCAN-FORMAT")
        assert r.status is Status.FAIL and "TIFF" in r.message_zh and "JPEG2000" in r.message_zh
        assert "无法确定批次格式" in r.message_zh
    # strict (DA/T 31's letter): a mixed batch fails every item
    strict = ScanQAOptions(strict=True)
    for code in (a, b):
        (r,) = run_scan_checks(ScanItemSubject.of(batch.items[code], 1, strict, ctx)).by_id("SCAN-FORMAT")
        assert r.status is Status.FAIL and "混用" in r.message_zh


def test_the_minority_format_is_returned_the_rest_of_the_batch_is_not(tmp_path: Path) -> None:
    """DA/T 31's one format per batch, proportionately: most items decide; pages break an item tie."""
    codes = [f"{CODE[:-4]}{n:04d}" for n in (1, 2, 3, 4)]
    kinds = {codes[0]: ["JPEG"], codes[1]: ["JPEG"], codes[2]: ["TIFF", "TIFF"], codes[3]: ["TIFF", "JPEG"]}
    suffix = {"JPEG": ".jpg", "TIFF": ".tif"}
    items = {
        code: [
            write(tmp_path / code / f"{code}-{i:04d}{suffix[k]}", encode(render_page(150, seed=40 + 5 * n + i), k, 150))
            for i, k in enumerate(ks, 1)
        ]
        for n, (code, ks) in enumerate(kinds.items())
    }
    batch = inspect_batch(items, OPTS)
    ctx = batch_context(batch, OPTS)
    assert ctx.batch_formats(OPTS.allowed_formats) == ("JPEG",)  # 2 items against 1 (the mixed item has no vote)
    reports = {c: run_scan_checks(ScanItemSubject.of(batch.items[c], len(kinds[c]), OPTS, ctx)) for c in codes}
    assert statuses(reports[codes[0]], "SCAN-FORMAT") == statuses(reports[codes[1]], "SCAN-FORMAT") == {Status.PASS}
    (minority,) = reports[codes[2]].by_id("SCAN-FORMAT")
    assert minority.status is Status.FAIL and minority.evidence[0].found == "TIFF"
    assert "以JPEG为主" in minority.message_zh and "mainly JPEG" in minority.message_en
    (mixed,) = reports[codes[3]].by_id("SCAN-FORMAT")
    assert mixed.status is Status.FAIL and "同一件的图像混用了存储格式" in mixed.message_zh
    # one item each: the format with more pages is the batch's
    pages_decide = BatchContext(formats={"TIFF": 3, "JPEG": 1}, item_formats={"a": ("TIFF",), "b": ("JPEG",)})
    assert pages_decide.batch_formats(OPTS.allowed_formats) == ("TIFF",)
    # a format that is not allowed (PNG) is no candidate
    png = BatchContext(formats={"PNG": 5, "JPEG": 1}, item_formats={"a": ("PNG",), "b": ("PNG",), "c": ("JPEG",)})
    assert png.batch_formats(OPTS.allowed_formats) == ("JPEG",)


def test_png_palette_and_low_jpeg_quality_fail(tmp_path: Path) -> None:
    page = render_page(150, seed=30)
    report, _ = item_report(tmp_path / "png", [encode(page, "PNG", 150)], suffix=".png")
    assert statuses(report, "SCAN-FORMAT") == {Status.FAIL}
    pal = Image.open(io.BytesIO(encode(page, "TIFF", 150))).convert("P", palette=Image.Palette.ADAPTIVE)
    buf = io.BytesIO()
    pal.save(buf, "TIFF", dpi=(150, 150), compression="tiff_lzw")
    report, _ = item_report(tmp_path / "pal", [buf.getvalue()])
    (r,) = report.by_id("SCAN-DEPTH")
    assert r.status is Status.FAIL and r.evidence[0].found == "P (8-bit)"
    report, subject = item_report(tmp_path / "q", [encode(page, "JPEG", 150, quality=40)], suffix=".jpg")
    assert subject.pages[0].header is not None and subject.pages[0].header.jpeg_quality == 40
    (r,) = report.by_id("SCAN-DEPTH")
    assert r.status is Status.FAIL and r.evidence[0].found == "40" and r.evidence[0].expected == ">= 75"


# colour -----------------------------------------------------------------------------------------


def test_colour_mode_against_content(tmp_path: Path) -> None:
    red = encode(render_page(150, seed=31, red_header=True, seal=True), "TIFF", 150)
    grey_in_colour = encode(render_page(150, seed=32), "TIFF", 150)
    grey = encode(render_page(150, seed=33, colour=False), "TIFF", 150)
    report, subject = item_report(tmp_path / "a", [red, grey_in_colour, grey])
    assert subject.pages[0].keep_colour and (subject.pages[0].red_fraction or 0) > OPTS.red_min_fraction
    assert not subject.pages[1].keep_colour and subject.pages[1].content_mode == "grey"
    assert [p.stored_mode for p in subject.pages] == ["colour", "colour", "grey"]
    by_status = {r.status: r for r in report.by_id("SCAN-COLOUR")}
    assert by_status[Status.WARN].evidence[0].page == 2  # colour scan of grey content: waste
    assert by_status[Status.PASS].evidence[0].page == 1 and "红" in by_status[Status.PASS].message_zh
    strict = ScanQAOptions(colour_policy="colour_required")
    report, _ = item_report(tmp_path / "b", [red, grey], options=strict)
    fails = [r for r in report.by_id("SCAN-COLOUR") if r.status is Status.FAIL]
    assert len(fails) == 1 and fails[0].evidence[0].page == 2 and fails[0].evidence[0].found == "灰度"


# unreadable files -------------------------------------------------------------------------------


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: d["tif"][: len(d["tif"]) // 2], "truncated"),
        (lambda d: d["jpg"][: len(d["jpg"]) * 2 // 3], "truncated"),
        (lambda d: _png_header(100_000, 100_000), "bomb"),
        (lambda d: b"not an image at all", "unreadable"),
    ],
    ids=["truncated-tiff", "truncated-jpeg", "bomb", "junk"],
)
def test_unreadable_files_fail_scan_read_and_nothing_crashes(
    tmp_path: Path, make: Callable[[dict[str, bytes]], bytes], reason: str
) -> None:
    page = render_page(150, seed=34)
    data = make({"tif": encode(page, "TIFF", 150), "jpg": encode(page, "JPEG", 150)})
    report, subject = item_report(tmp_path, [data, encode(render_page(150, seed=35), "TIFF", 150)])
    assert subject.pages[0].rejected == reason
    (r,) = report.by_id("SCAN-READ")
    assert r.status is Status.FAIL and r.evidence[0].page == 1
    assert not any("crashed" in x.message_en or "could not run" in x.message_en for x in report.results)


def test_bomb_guard_does_not_decode(tmp_path: Path) -> None:
    path = write(tmp_path / "bomb.png", _png_header(12_000, 12_000))
    m = inspect_page(path, ScanQAOptions(max_pixels=100_000_000))
    assert m.rejected == "bomb" and m.header is None and "12000x12000" in (m.error or "")


def test_multi_page_tiff_named_by_the_archival_code(tmp_path: Path) -> None:
    frames = [Image.fromarray(render_page(150, seed=s, colour=False)) for s in (36, 37, 38)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], dpi=(150, 150), compression="tiff_lzw")
    path = write(tmp_path / f"{CODE}.tif", buf.getvalue())
    item = inspect_item(CODE, [path], OPTS)
    assert [p.frame for p in item.pages] == [0, 1, 2]
    assert [p.name for p in item.pages] == [f"{CODE}.tif", f"{CODE}.tif#2", f"{CODE}.tif#3"]
    assert all(p.readable and p.dpi == 150 for p in item.pages)
    assert item.pages[0].phash != item.pages[1].phash
    report = run_scan_checks(ScanItemSubject.of(item, 3, OPTS))
    for check_id in ("SCAN-NAME", "SCAN-COUNT", "SCAN-DUP", "SCAN-READ"):
        assert statuses(report, check_id) == {Status.PASS}, check_id


def test_a_page_that_breaks_a_measurement_is_reported_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import guidang.ingest.scanqa.inspect as inspect_module

    def broken(*args: object) -> None:
        raise ValueError("odd page")

    monkeypatch.setattr(inspect_module, "find_regions", broken)
    m = inspect_page(write(tmp_path / f"{CODE}-0001.tif", encode(render_page(150, seed=39), "TIFF", 150)), OPTS)
    assert m.rejected == "unreadable" and "odd page" in (m.error or "")
    report = run_scan_checks(ScanItemSubject(CODE, (m,), 1, OPTS))
    assert [r.status for r in report.by_id("SCAN-READ")] == [Status.FAIL]


def test_rotation_found_later_settles_an_unsure_page(tmp_path: Path) -> None:
    from dataclasses import replace

    from guidang.ingest.scanqa.orientation import Orientation

    page = rotate(render_page(150, seed=12), 180)
    measured = inspect_page(write(tmp_path / f"{CODE}-0001.tif", encode(page, "TIFF", 150)), OPTS)
    m = replace(measured, orientation=Orientation(0, False, "layout", "cues disagree"))  # as with osd="never"
    report = run_scan_checks(ScanItemSubject(CODE, (m,), 1, OPTS), ["SCAN-ROTATION"])
    assert [r.status for r in report.results] == [Status.WARN]
    settled = run_scan_checks(ScanItemSubject(CODE, (m,), 1, OPTS, rotations={1: 180}), ["SCAN-ROTATION"])
    assert [r.status for r in settled.results] == [Status.WARN]  # the PDF shows it turned upright
    assert settled.results[0].evidence[0].found == "180°" and "已自动旋转" in settled.results[0].message_zh


def _multipage(sizes: list[tuple[int, int]]) -> bytes:
    frames = [Image.new("L", size, 255) for size in sizes]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], dpi=(150, 150), compression="tiff_lzw")
    return buf.getvalue()


def test_the_bomb_guard_holds_on_every_page_of_a_multi_page_tiff(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import guidang.ingest.scanqa.inspect as inspect_module
    from guidang.ingest.scanqa.decode import decode_working as real

    decoded: list[tuple[int, int]] = []

    def counting(img: Image.Image, data: bytes, long_side: int, frame: int = 0) -> object:
        decoded.append(img.size)
        return real(img, data, long_side, frame)

    monkeypatch.setattr(inspect_module, "decode_working", counting)
    path = write(tmp_path / f"{CODE}.tif", _multipage([(200, 200), (1000, 1000), (300, 200)]))
    pages = inspect_item(CODE, [path], ScanQAOptions(max_pixels=100_000)).pages
    assert [p.rejected for p in pages] == [None, "bomb", None]
    assert pages[1].error == "page 2: 1000x1000 > 100000 pixels" and decoded == [(200, 200), (300, 200)]
    assert [p.header.width if p.header else 0 for p in pages] == [200, 0, 300]


def test_a_file_of_more_pages_than_the_profile_allows_is_one_rejection(tmp_path: Path) -> None:
    path = write(tmp_path / f"{CODE}.tif", _multipage([(64, 64)] * 7))
    options = ScanQAOptions(max_pages_per_file=5)
    (page,) = inspect_item(CODE, [path], options).pages
    assert (page.rejected, page.error) == ("too_many_pages", "> 5 pages in one file")
    assert page.header is not None and page.header.frames == 6  # counted one past the limit, no further
    report = run_scan_checks(ScanItemSubject.of(inspect_item(CODE, [path], options), 7, options))
    (r,) = report.by_id("SCAN-READ")
    assert r.status is Status.FAIL and "页数过多" in r.message_zh and "too many pages" in r.message_en
    assert len(inspect_item(CODE, [path], ScanQAOptions(max_pages_per_file=7)).pages) == 7


def test_a_multi_page_file_is_read_and_opened_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pages of a file are measured from one opening (each opening counted every page: the cost
    grew with the square of the pages). Timings are bench/bench_multipage.py's."""
    import guidang.ingest.scanqa.inspect as inspect_module
    from guidang.ingest.scanqa.header import open_image as real

    opened: list[int] = []

    def counting(data: bytes, options: ScanQAOptions) -> Image.Image:
        opened.append(len(data))
        return real(data, options)

    monkeypatch.setattr(inspect_module, "open_image", counting)
    path = write(tmp_path / f"{CODE}.tif", _multipage([(64, 64)] * 30))
    pages = inspect_item(CODE, [path], OPTS).pages
    assert [p.frame for p in pages] == list(range(30)) and all(p.header and p.header.frames == 30 for p in pages)
    assert len(opened) == 1


@pytest.mark.parametrize("compression", ["raw", "tiff_lzw", "tiff_adobe_deflate", "packbits", "group4", "jpeg"])
def test_a_page_copied_out_of_a_multi_page_tiff_decodes_to_the_same_pixels(compression: str) -> None:
    """header.single_page_tiff: each page decoded from a TIFF of its own (libtiff walks every
    earlier page directory on each opening; see bench/bench_multipage.py)."""
    import numpy as np

    from guidang.ingest.scanqa.header import single_page_tiff, tiff_pages

    mode = "1" if compression == "group4" else "RGB" if compression == "jpeg" else "L"
    frames = [
        Image.fromarray(render_page(100, seed=s, colour=False)).convert(mode).resize((120 + 40 * i, 160))
        for i, s in enumerate((41, 42, 43))
    ]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], compression=compression,
                   dpi=(100, 100), strip_size=4096)
    data = buf.getvalue()
    pages = tiff_pages(data, 10)
    assert pages is not None and len(pages) == 3
    whole = Image.open(io.BytesIO(data))
    for i, offset in enumerate(pages):
        page = single_page_tiff(data, offset)
        assert page is not None and len(page) < len(data)
        alone = Image.open(io.BytesIO(page))
        whole.seek(i)
        assert getattr(alone, "n_frames", 1) == 1 and alone.info.get("dpi") == whole.info.get("dpi")
        assert np.array_equal(np.asarray(alone), np.asarray(whole)), (compression, i)


def test_page_directories_that_loop_or_leave_the_file_are_not_followed() -> None:
    from guidang.ingest.scanqa.header import tiff_pages

    data = bytearray(_multipage([(8, 8)] * 3))
    pages = tiff_pages(bytes(data), 10)
    assert pages is not None and len(pages) == 3
    count = int.from_bytes(data[pages[2] : pages[2] + 2], "little")
    data[pages[2] + 2 + 12 * count : pages[2] + 6 + 12 * count] = pages[0].to_bytes(4, "little")  # back to page 1
    assert tiff_pages(bytes(data), 10) is None
    assert tiff_pages(bytes(data[: pages[2] + 4]), 10) is None
    assert tiff_pages(bytes(_multipage([(8, 8)] * 9)), 4) == tiff_pages(bytes(_multipage([(8, 8)] * 9)), 20)[:5]  # type: ignore[index]


def test_a_resolution_that_is_not_a_number_is_no_resolution(tmp_path: Path) -> None:
    """Found by fuzzing (tests/data/fuzz/image_header/crash-resolution-not-a-number.tif)."""
    from guidang.ingest.scanqa.header import open_image, read_header

    data = (Path(__file__).parent / "data" / "fuzz" / "image_header" / "crash-resolution-not-a-number.tif").read_bytes()
    img = open_image(data, OPTS)
    assert read_header(img, len(data)).dpi is None
