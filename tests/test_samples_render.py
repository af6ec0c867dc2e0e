"""Texts and page rendering of guidang.samples: variety, layout rules, a real OCR read-back."""

from __future__ import annotations

import difflib
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from guidang.errors import MissingDependencyError
from guidang.samples import render as render_mod
from guidang.samples.render import RenderOptions, find_cjk_font, render_document, render_text_page, wrap
from guidang.samples.texts import KINDS, compose_document

SMALL = RenderOptions(dpi=80)


def test_forty_distinct_page_texts_in_both_scripts_with_english() -> None:
    texts, scripts, english = set(), set(), 0
    for seed in range(40):
        doc = compose_document(np.random.default_rng(seed))
        page = render_document(doc, 1, SMALL)[0]
        texts.add(page.text)
        scripts.add(doc.script)
        english += re.search(r"[A-Za-z]{3,},? [A-Za-z]{2,}", page.text) is not None
    assert len(texts) == 40
    assert scripts == {"hans", "hant"}
    assert english >= 8


def test_every_kind_and_script_composes_and_fills_pages() -> None:
    rng = np.random.default_rng(0)
    for kind in KINDS:
        for script in ("hans", "hant"):
            doc = compose_document(rng, kind=kind, script=script)
            pages = render_document(doc, 2, SMALL)
            assert len(pages) == 2
            assert pages[0].lines[0] == doc.header
            assert doc.signature[0] in pages[-1].lines and doc.signature[1] in pages[-1].lines
            assert pages[-1].seal_text == doc.seal and pages[0].seal_text is None
            assert [p.lines[-1] for p in pages] == ["— 1 —", "— 2 —"]
            if kind == "service":
                assert doc.service is not None and doc.service.applicant in "".join(pages[0].lines)


def test_page_size_and_colour_at_dpi() -> None:
    doc = compose_document(np.random.default_rng(1), kind="notice", script="hans")
    first = render_document(doc, 1, RenderOptions(dpi=300))[0]
    assert first.image.size == (2480, 3508) and first.image.mode == "RGB" and first.red
    rgb = np.asarray(first.image).astype(int)
    red = (rgb[..., 0] > 150) & (rgb[..., 1] < 80) & (rgb[..., 2] < 80)
    assert red[: 3508 // 4].sum() > 1000  # the masthead and rule are red
    grey = render_document(doc, 1, RenderOptions(dpi=80, colour=False))[0]
    assert grey.image.mode == "L"


def test_text_stays_inside_the_margins() -> None:
    opts = RenderOptions(dpi=100, red_header=False, seal=False, page_numbers=False)
    doc = compose_document(np.random.default_rng(4), kind="minutes", script="hant", english=True)
    for page in render_document(doc, 2, opts):
        ink = np.argwhere(np.asarray(page.image.convert("L")) < 128)
        top, right, bottom, left = (opts.mm(m) for m in opts.margins_mm)
        w, h = opts.size
        assert ink[:, 1].min() >= left - 2
        assert ink[:, 1].max() <= w - right + opts.px(opts.body_pt)  # one hanging punctuation mark
        assert ink[:, 0].min() >= top - 2 and ink[:, 0].max() <= h - bottom + 2


def test_wrap_keeps_words_and_punctuation_rules() -> None:
    font = render_mod._font("serif", "Regular", "hans", 20)
    measure = render_mod._measure(font)
    text = "经研究，现就有关事项通知如下：Contact: Zhang Wei, Records Office, Tel. 0571-8812 3456。（附件）"
    lines = wrap(text, measure, 200.0)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        assert line[0] not in "，。、；：？！）》」”"
        assert line[-1] not in "（《「“"
    assert any("Zhang" in ln for ln in lines) and all("Zhan" not in ln or "Zhang" in ln for ln in lines)


def test_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert find_cjk_font().name == "NotoSerifCJK-Regular.ttc"
    monkeypatch.setattr(render_mod, "FONT_DIRS", (tmp_path,))
    render_mod._find_font.cache_clear()
    try:
        with pytest.raises(MissingDependencyError, match="fonts-noto-cjk") as err:
            find_cjk_font("sans", "Bold")
        assert "fonts-noto-cjk" in err.value.zh
    finally:
        render_mod._find_font.cache_clear()


def test_too_little_text_for_the_pages_is_refused() -> None:
    doc = compose_document(np.random.default_rng(0), kind="notice", min_paragraphs=1)
    with pytest.raises(ValueError, match="too little text"):
        render_document(doc, 5, SMALL)


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_tesseract_reads_a_clean_rendered_page_back() -> None:
    """One real OCR pass: the renderer's pixels and its ground truth agree."""
    import pytesseract

    doc = compose_document(np.random.default_rng(21), kind="notice", script="hans", english=False)
    opts = RenderOptions(dpi=150, colour=False, seal=False, red_header=False)
    page = render_document(doc, 1, opts)[0]
    got = pytesseract.image_to_string(page.image, lang="chi_sim", config="--psm 6")
    strip = str.maketrans("", "", " \t\n\u3000")
    expected, found = page.text.translate(strip), got.translate(strip)
    matcher = difflib.SequenceMatcher(None, expected, found, autojunk=False)
    recovered = sum(b.size for b in matcher.get_matching_blocks()) / len(expected)
    assert recovered > 0.9, f"only {recovered:.0%} of the characters came back:\n{got}"


def test_render_text_page_is_a_plain_fixture() -> None:
    page = render_text_page("第一段文字。\nSecond paragraph in English.", opts=RenderOptions(dpi=80, colour=False))
    assert page.lines == ("第一段文字。", "Second paragraph in English.")
    assert isinstance(page.image, Image.Image) and page.image.mode == "L"
