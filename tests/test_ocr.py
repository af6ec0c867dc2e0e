"""OCR: the Tesseract engine, orientation, hOCR parsing, joining words, the cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytesseract
import pytest
from ocr_support import ENGINE, LANGS, ocr, render
from PIL import Image

from guidang.errors import InputError, MissingDependencyError
from guidang.ingest.cjktext import is_cjk, join_words, needs_space
from guidang.ingest.ocr import (
    Box,
    OcrPage,
    TesseractEngine,
    ocr_page,
    parse_hocr,
)
from guidang.ingest.ocr_cache import CachedEngine
from guidang.ingest.textmetrics import bag_cer, cer, levenshtein

# --- the engine and its probe -------------------------------------------------------


def test_version_probe_names_tesseract() -> None:
    assert TesseractEngine().version().startswith("tesseract 5.")


def test_missing_binary_is_a_missing_dependency_in_both_languages() -> None:
    engine = TesseractEngine(command="/nonexistent/tesseract")
    with pytest.raises(MissingDependencyError) as info:
        engine.version()
    assert "Tesseract" in info.value.zh and "apt-get install" in info.value.en


def test_missing_language_model_is_named() -> None:
    with pytest.raises(MissingDependencyError) as info:
        TesseractEngine().check_languages("chi_sim+xyz_qq")
    assert "xyz_qq" in info.value.zh and "tesseract-ocr-xyz-qq" in info.value.en


def test_installed_languages_pass_the_check() -> None:
    TesseractEngine().check_languages(LANGS)


# --- recognition (real Tesseract, cached) ----------------------------------------------


def test_chinese_page_reads_close_to_the_truth(tmp_path: Path) -> None:
    path, truth = render(tmp_path)
    page = ocr(path)
    assert page.rotation == 0
    assert (page.width, page.height) == page.image_size == (2480, 3508)
    assert page.dpi == 300
    assert cer(truth, page.text) < 0.05
    assert "  " not in page.text
    # no space between CJK characters, one between Latin words
    assert "政务服务事项" in page.text
    assert "accepts PDF/A files" in page.text


@pytest.mark.parametrize("turned", [180, 90])
def test_turned_pages_are_read_and_boxes_put_upright(tmp_path: Path, turned: int) -> None:
    path, truth = render(tmp_path, rotate=turned)
    page = ocr(path)
    assert page.rotation == turned  # counter-clockwise turn → clockwise /Rotate to undo
    assert cer(truth, page.text) < 0.05
    upright, _ = render(tmp_path, "upright.png")
    first = ocr(upright).lines[0].box
    mine = page.lines[0].box
    # the first line sits where it sits on the upright page, within a few pixels
    assert abs(mine.left - first.left) < 12 and abs(mine.top - first.top) < 12


def test_blank_page_has_no_text(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    Image.new("L", (1240, 1754), 235).save(path, dpi=(150, 150))
    page = ocr(path)
    assert page.text == "" and page.lines == () and page.dpi == 150


def test_array_input_needs_dpi_and_reads_like_the_file(tmp_path: Path) -> None:
    path, _ = render(tmp_path)
    array = np.asarray(Image.open(path))
    with pytest.raises(InputError):
        ocr_page(array, LANGS, engine=ENGINE)
    assert ocr_page(array, LANGS, dpi=300, engine=ENGINE).text == ocr(path).text


def test_image_without_resolution_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "nodpi.png"
    Image.new("L", (200, 100), 255).save(path)
    with pytest.raises(InputError) as info:
        ocr(path)
    assert "dpi" in info.value.zh


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        ocr(tmp_path / "absent.tif")


def _killed_tesseract(tmp_path: Path, times: int) -> Path:
    """A tesseract that SIGKILLs itself on its first ``times`` runs (as the OOM killer would), then
    is the real one."""
    script = tmp_path / "tesseract"
    script.write_text(
        "#!/bin/sh\n"
        f'n=$(ls "{tmp_path}"/run.* 2>/dev/null | wc -l); touch "{tmp_path}/run.$n"\n'
        f'if [ "$n" -lt {times} ]; then kill -9 $$; fi\n'
        f'exec {shutil.which("tesseract")} "$@"\n'
    )
    script.chmod(0o755)
    return script


@pytest.mark.parametrize(("times", "attempts"), [(2, 3), (3, 3)])
def test_a_tesseract_killed_by_a_signal_is_run_again_up_to_the_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, times: int, attempts: int
) -> None:
    path, _ = render(tmp_path)
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(_killed_tesseract(tmp_path, times)))
    engine = TesseractEngine(attempts=attempts)
    if times < attempts:
        assert engine.recognise(path, LANGS, 300).text == ocr(path).text
    else:
        with pytest.raises(InputError) as info:
            engine.recognise(path, LANGS, 300)
        assert "killed by signal 9" in info.value.en and "3 times" in info.value.en
        assert "被信号 9 终止" in info.value.zh
    assert len(list(tmp_path.glob("run.*"))) == min(times + 1, attempts)


def test_cache_round_trips_and_is_keyed_by_version(tmp_path: Path) -> None:
    path, _ = render(tmp_path)
    cached = CachedEngine(ENGINE, tmp_path / "cache")
    first = ocr_page(path, LANGS, engine=cached)
    second = ocr_page(path, LANGS, engine=cached)
    assert first == second and (cached.misses, cached.hits) == (1, 1)
    stored = next((tmp_path / "cache").glob("*.json"))
    assert OcrPage.from_dict(json.loads(stored.read_text("utf-8"))) == first

    class Other:
        def version(self) -> str:
            return "tesseract 9.9.9"

    assert CachedEngine(Other(), tmp_path).key(path, LANGS, 300) != cached.key(path, LANGS, 300)  # type: ignore[arg-type]


# --- hOCR parsing and word joining ----------------------------------------------------

HOCR = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><body>
<div class='ocr_page' id='page_1' title='bbox 0 0 1000 2000'>
 <div class='ocr_carea' id='block_1_1' title="bbox 100 100 900 200">
  <p class='ocr_par'>
   <span class='ocr_line' id='line_1_1' title="bbox 100 100 900 150; textangle {angle}">
    <span class='ocrx_word' title='bbox 100 100 150 150; x_wconf 90'>归档</span>
    <span class='ocrx_word' title='bbox 160 100 300 150; x_wconf 80'>PDF/A</span>
    <span class='ocrx_word' title='bbox 310 100 400 150; x_wconf 70'>files</span>
    <span class='ocrx_word' title='bbox 410 100 420 150; x_wconf 70'> </span>
   </span>
  </p>
 </div>
</div></body></html>"""


@pytest.mark.parametrize(
    ("angle", "size", "box"),
    [
        (0, (1000, 2000), Box(100, 100, 150, 150)),
        (180, (1000, 2000), Box(850, 1850, 900, 1900)),
        (90, (2000, 1000), Box(1850, 100, 1900, 150)),
        (270, (2000, 1000), Box(100, 850, 150, 900)),
    ],
)
def test_hocr_boxes_are_mapped_into_the_upright_frame(angle: int, size: tuple[int, int], box: Box) -> None:
    page = parse_hocr(HOCR.format(angle=angle).encode(), languages=LANGS, dpi=300, engine="t")
    assert page.rotation == angle
    assert (page.width, page.height) == size and page.image_size == (1000, 2000)
    assert page.lines[0].words[0].box == box
    assert page.text == "归档PDF/A files"  # the empty word is dropped
    assert page.mean_confidence == 80


def test_hocr_without_a_page_is_an_input_error() -> None:
    with pytest.raises(InputError):
        parse_hocr(b"<html xmlns='http://www.w3.org/1999/xhtml'/>", languages=LANGS, dpi=300, engine="t")


def test_spaces_only_between_non_cjk_words() -> None:
    assert join_words(["电子", "文件", "PDF/A", "files", "归档", "，", "GB/T", "18894"]) == (
        "电子文件PDF/A files归档，GB/T 18894"
    )
    assert needs_space("2016", "年") is False
    assert needs_space("No.", "17") is True
    assert all(is_cjk(c) for c in "中文，。（）《》：、繁體カナ한")
    assert not any(is_cjk(c) for c in "aZ09.,()-/")


# --- error rates --------------------------------------------------------------------------


def test_levenshtein_and_error_rates() -> None:
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("中华人民共和国", "中华人民国") == 2
    assert cer("关于（GB/T）\n做好", "关于(GB/T)做好") == 0.0  # NFKC + whitespace-insensitive
    assert cer("abcd", "abxd") == 0.25
    assert bag_cer("abcd", "cdab") == 0.0 and cer("abcd", "cdab") > 0
    assert bag_cer("abcd", "abxd") == 0.25
    assert cer("", "") == 0.0 and cer("", "x") == 1.0
