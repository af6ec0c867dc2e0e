"""PP-OCR (PP-OCRv4 on ONNX Runtime): the real models shipped in rapidocr-onnxruntime, no mock.

Pages are rendered with Noto CJK (tests/ocr_support.py). Reading a page twice costs seconds, so the
tests that only need *an* answer read it through `CachedEngine` (tests/.cache/ppocr, keyed by the
engine's version); the orientation and loading tests run the models every time.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ocr_support import LANGS, render
from PIL import Image

from guidang.errors import MissingDependencyError
from guidang.ingest.ocr import Box, OcrLine, OcrPage, OcrWord, TesseractEngine, ocr_page
from guidang.ingest.ocr_cache import CachedEngine
from guidang.ingest.ocr_engines import covers, engine_for
from guidang.ingest.ocr_ppocr import PpocrEngine, words_of_line
from guidang.ingest.pdfa import PdfPage, write_pdfa
from guidang.ingest.pdftext import cjk_spaces_per_char, extract_text
from guidang.ingest.textmetrics import cer

CACHE = Path(__file__).resolve().parent / ".cache" / "ppocr"
ENGINE = PpocrEngine()
CACHED = CachedEngine(ENGINE, CACHE)


def test_one_opencv_distribution_provides_cv2() -> None:
    """rapidocr-onnxruntime requires opencv-python; a second distribution (headless) would share cv2's files."""
    from importlib.metadata import distributions

    names = {(d.metadata["Name"] or "").lower() for d in distributions()}
    assert "opencv-python" in names
    assert not names & {"opencv-python-headless", "opencv-contrib-python", "opencv-contrib-python-headless"}


def test_version_names_the_model_and_the_runtime() -> None:
    version = ENGINE.version()
    assert version.startswith("ppocr PP-OCRv4")
    assert "onnxruntime" in version


def test_sessions_run_on_one_thread() -> None:
    ENGINE.version()
    ocr = ENGINE._ocr
    for wrapper in (ocr.text_det.infer, ocr.text_cls.infer, ocr.text_rec.session):
        options = wrapper.session.get_session_options()
        assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1


def test_languages_outside_the_chinese_model_are_refused_by_name() -> None:
    ENGINE.check_languages("chi_sim+chi_tra+eng")
    with pytest.raises(MissingDependencyError) as info:
        ENGINE.check_languages("chi_sim+jpn")
    assert "jpn" in info.value.message("zh") and "tesseract" in info.value.message("en")
    assert covers("chi_tra+eng") and not covers("chi_sim+jpn") and not covers("")


def test_engine_for_is_one_instance_per_process_and_falls_back_for_other_languages() -> None:
    assert engine_for("ppocr", "chi_sim+eng") is engine_for("ppocr", "chi_tra")
    assert isinstance(engine_for("ppocr", "chi_sim+eng"), PpocrEngine)
    assert isinstance(engine_for("ppocr", "chi_sim+jpn"), TesseractEngine)
    assert isinstance(engine_for("tesseract", "chi_sim+eng"), TesseractEngine)
    with pytest.raises(ValueError, match="unknown OCR engine"):
        engine_for("paddle", "chi_sim")


def test_chinese_page_reads_close_to_the_truth_with_a_box_per_character(tmp_path: Path) -> None:
    path, truth = render(tmp_path)
    page = ocr_page(path, LANGS, engine=CACHED)
    assert page.rotation == 0 and (page.width, page.height) == page.image_size == (2480, 3508)
    assert cer(truth, page.text) < 0.03
    assert "政务服务事项" in page.text and "accepts PDF/A files" in page.text
    for line in page.lines:
        for word in line.words:
            if len(word.text) == 1 and "\u4e00" <= word.text <= "\u9fff":
                # one CJK character a word, its box about as wide as high (the glyphs are square)
                assert 0.5 < word.box.width / word.box.height < 1.4, word
            assert line.box.left - 1 <= word.box.left <= word.box.right <= line.box.right + 1
        lefts = [w.box.left for w in line.words]
        assert lefts == sorted(lefts)
        assert all(0 <= w.confidence <= 100 for w in line.words)


@pytest.mark.parametrize("turned", [90, 180, 270])
def test_turned_pages_are_found_and_boxes_put_upright(tmp_path: Path, turned: int) -> None:
    upright_path, truth = render(tmp_path, "upright.png")
    upright = ocr_page(upright_path, LANGS, engine=CACHED)
    path, _ = render(tmp_path, rotate=turned)  # counter-clockwise
    page = ocr_page(path, LANGS, engine=ENGINE)
    assert page.rotation == turned  # a clockwise turn of as much undoes it
    assert (page.width, page.height) == (2480, 3508)
    assert cer(truth, page.text) < 0.03
    first, mine = upright.lines[0].box, page.lines[0].box
    assert abs(mine.left - first.left) < 12 and abs(mine.top - first.top) < 12


def test_blank_page_has_no_lines(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    Image.fromarray(np.full((600, 400), 250, np.uint8)).save(path, dpi=(300, 300))
    page = ocr_page(path, LANGS, engine=ENGINE)
    assert page.lines == () and page.text == "" and page.rotation == 0


def test_unreadable_image_is_a_clear_error(tmp_path: Path) -> None:
    from guidang.errors import InputError

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(InputError) as info:
        ENGINE.recognise(bad, LANGS, 300)
    assert "bad.png" in info.value.message("zh")


def test_text_layer_copies_out_as_read_without_spaces_between_cjk(tmp_path: Path) -> None:
    path, _ = render(tmp_path)
    page = ocr_page(path, LANGS, engine=CACHED)
    pdf = tmp_path / "out.pdf"
    write_pdfa([PdfPage(path, page)], pdf)  # verified by pikepdf.pdfa inside
    copied = extract_text(pdf)
    assert cjk_spaces_per_char(copied) == 0
    assert copied.strip().replace("\r", "") == page.text


# --- the line → words mapping, without the models ------------------------------------------------


def _quad(left: float, right: float) -> list[list[float]]:
    return [[left, 10], [right, 10], [right, 40], [left, 40]]


def test_each_cjk_character_a_word_and_each_latin_run_one() -> None:
    pieces = ["归", "档", "PDF/A", "文", "件"]
    quads = [_quad(0, 30), _quad(30, 60), _quad(70, 170), _quad(180, 210), _quad(210, 240)]
    line = words_of_line("归档 PDF/A 文件", 0.9, Box(0, 10, 240, 40), pieces, quads, [0.99, 0.98, 0.7, 0.97, 0.96])
    assert line is not None
    assert [w.text for w in line.words] == ["归", "档", "PDF/A", "文", "件"]
    assert line.words[2].box == Box(70, 10, 170, 40)
    assert line.words[2].confidence == pytest.approx(70)
    assert line.text == "归档PDF/A文件"  # spaces only between two non-CJK words (cjktext)


def test_pieces_that_disagree_with_the_text_fall_back_to_an_even_split() -> None:
    line = words_of_line("档案 ok", 0.8, Box(0, 0, 40, 10), ["档"], [_quad(0, 10)], [])
    assert line is not None
    assert [w.text for w in line.words] == ["档", "案", "ok"]
    assert [w.box.left for w in line.words] == [0, 10, 20]
    assert all(w.confidence == pytest.approx(80) for w in line.words)
    assert words_of_line("  ", 0.9, Box(0, 0, 1, 1), [], [], []) is None


def test_doubtful_lines_are_counted_by_their_mean_confidence() -> None:
    def line(*confs: float) -> OcrLine:
        return OcrLine(tuple(OcrWord("字", Box(0, 0, 1, 1), c) for c in confs), Box(0, 0, 1, 1))

    page = OcrPage(10, 10, 300, (line(99, 95), line(60, 70), line(85, 70)), LANGS, "test")
    assert page.lines[2].confidence == pytest.approx(77.5)
    assert page.doubtful_lines(80) == 2 and page.doubtful_lines(50) == 0
