"""prepare_page: derivatives only (rotated, deskewed, border cropped), masters untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from test_scan_pages import encode, on_scanner_bed, render_page, rotate, skew, write

from guidang.errors import InputError
from guidang.ingest.prepare import prepare_page
from guidang.ingest.scanqa import ScanQAOptions, inspect_page

OPTS = ScanQAOptions(osd="never")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_rotated_skewed_bordered_page_becomes_upright_straight_and_cropped(tmp_path: Path) -> None:
    page = render_page(200, seed=40)
    scanned = rotate(on_scanner_bed(page, 200, 8.0, 4.0), 90)
    master = write(tmp_path / "m" / "p-0001.tif", encode(scanned, "TIFF", 200))
    before = sha(master)
    m = inspect_page(master, OPTS)
    out = tmp_path / "d" / "p-0001.png"
    out.parent.mkdir()
    prepared = prepare_page(master, m, OPTS, out=out)
    assert sha(master) == before  # the master is byte for byte as delivered
    assert [op.action for op in prepared.operations] == ["rotate", "deskew", "crop_border"]
    rotate_op, deskew_op, crop_op = prepared.operations
    assert rotate_op.params["degrees_ccw"] == 90
    assert deskew_op.params["degrees_ccw"] == pytest.approx(-4.0, abs=0.3)
    assert "纠偏" in deskew_op.describe() and deskew_op.action_zh == "纠偏"
    assert crop_op.action_zh == "裁边"
    # the derivative measures upright, straight and without border
    again = inspect_page(out, ScanQAOptions())  # Tesseract OSD where the layout cues are unsure
    assert again.orientation is not None and again.orientation.rotation == 0
    assert again.skew_deg is not None and abs(again.skew_deg) <= 0.3
    assert again.border_mm is not None and max(again.border_mm) <= OPTS.max_border_mm
    h, w = prepared.image.shape[:2]
    assert h > w  # portrait again
    assert again.dpi == 200


def test_red_page_stays_colour_even_when_grey_is_asked(tmp_path: Path) -> None:
    red = write(tmp_path / "r-0001.tif", encode(render_page(150, seed=41, red_header=True, seal=True), "TIFF", 150))
    plain = write(tmp_path / "r-0002.tif", encode(render_page(150, seed=42), "TIFF", 150))
    kept = prepare_page(red, inspect_page(red, OPTS), OPTS, grey=True)
    assert kept.image.ndim == 3 and [op.action for op in kept.operations] == ["keep_colour"]
    turned = prepare_page(plain, inspect_page(plain, OPTS), OPTS, grey=True)
    assert turned.image.ndim == 2 and [op.action for op in turned.operations] == ["to_grey"]


def test_clean_page_is_left_alone(tmp_path: Path) -> None:
    master = write(tmp_path / "c-0001.tif", encode(render_page(150, seed=43, colour=False), "TIFF", 150))
    prepared = prepare_page(master, inspect_page(master, OPTS), OPTS)
    assert prepared.operations == ()
    assert prepared.image.shape == (1754, 1240)


def test_never_overwrites_the_master_and_refuses_unreadable_pages(tmp_path: Path) -> None:
    master = write(tmp_path / "x-0001.tif", encode(skew(render_page(150, seed=44), 2), "TIFF", 150))
    before = sha(master)
    with pytest.raises(InputError):
        prepare_page(master, inspect_page(master, OPTS), OPTS, out=master)
    assert sha(master) == before
    broken = write(tmp_path / "y-0001.tif", master.read_bytes()[:1000])
    with pytest.raises(InputError):
        prepare_page(broken, inspect_page(broken, OPTS), OPTS)
    assert np.array_equal(np.frombuffer(master.read_bytes(), np.uint8)[:4], np.frombuffer(b"II*\x00", np.uint8))


def test_results_cross_process_pools(tmp_path: Path) -> None:
    """Measurements, subjects and prepared pages pickle (the pipeline runs pages in a process pool)."""
    import pickle

    from guidang.ingest.scanqa import inspect_batch
    from guidang.validators.scan_checks import ScanItemSubject, batch_context

    master = write(tmp_path / "z-0001.tif", encode(skew(render_page(150, seed=45), 2), "TIFF", 150))
    batch = inspect_batch({"z": [master]}, OPTS)
    subject = ScanItemSubject.of(batch.items["z"], 1, OPTS, batch_context(batch, OPTS))
    prepared = prepare_page(master, batch.items["z"].pages[0], OPTS)
    for obj in (batch, subject, prepared.operations):
        assert pickle.loads(pickle.dumps(obj)) == obj


def test_a_later_page_of_a_multi_page_tiff_is_prepared_from_its_own_pixels_under_the_guard(tmp_path: Path) -> None:
    import io

    from PIL import Image

    frames = [Image.fromarray(render_page(150, seed=s, colour=False)) for s in (61, 62)]
    frames[1] = frames[1].crop((0, 0, 1000, 1200))
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], dpi=(150, 150), compression="tiff_lzw")
    master = write(tmp_path / "m.tif", buf.getvalue())
    m = inspect_page(master, OPTS, frame=1)
    prepared = prepare_page(master, m, OPTS)
    h, w = prepared.image.shape[:2]
    assert h <= 1200 and w <= 1000  # the second page (1000 x 1200), not the first (1240 x 1754)
    strict = ScanQAOptions(max_pixels=1_000_000)  # the first page fits, the second does not
    with pytest.raises(InputError, match="1000x1200"):
        prepare_page(master, m, strict)
