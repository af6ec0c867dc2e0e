"""PDF/A writing: validation (pikepdf.pdfa, PDFBox Preflight for 1b), text layer, images, XMP."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pikepdf
import pypdfium2
import pytest
from ocr_support import ocr, render
from PIL import Image

from guidang.errors import InputError
from guidang.ingest import fonts
from guidang.ingest.ocr import OcrPage, document_text
from guidang.ingest.pdfa import (
    Attachment,
    PdfaValidationError,
    PdfPage,
    XmpFields,
    validate_pdfa,
    write_pdfa,
)
from guidang.ingest.pdftext import cjk_spaces_per_char, extract_text

XMP = XmpFields(
    title="关于做好政务服务事项电子文件归档工作的通知",
    archival_code="Z109-WS·2024-Y-0001",
    creator="某市政务服务管理局",
)


@pytest.fixture(scope="module")
def page_png(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, OcrPage]:
    path, _ = render(tmp_path_factory.mktemp("page"))
    return path, ocr(path)


def _pdftotext(pdf: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


# --- the Done-when: PDF/A-2b that copies out as the OCR text -----------------------------


def test_chinese_page_is_pdfa_2b_and_copies_out_as_the_ocr_text(tmp_path: Path, page_png: tuple[Path, OcrPage]) -> None:
    path, page = page_png
    out = tmp_path / "item.pdf"
    result = write_pdfa([PdfPage(path, page)], out, xmp=XMP)
    assert result.passed and result.part == "2b" and result.pages == 1
    assert validate_pdfa(out, "2b") == ("pass", ())  # re-validated independently of the write
    copied = extract_text(out)
    assert copied.strip() == page.text  # pdfium: character for character, line for line
    assert cjk_spaces_per_char(copied) == 0.0
    poppler = _pdftotext(out)
    lines = [line.rstrip() for line in poppler.strip("\f\n").splitlines()]
    assert [line for line in lines if line] == page.text.splitlines()  # poppler adds blank lines
    assert cjk_spaces_per_char(poppler) == 0.0


def test_text_sits_on_the_words(tmp_path: Path, page_png: tuple[Path, OcrPage]) -> None:
    path, page = page_png
    out = tmp_path / "item.pdf"
    write_pdfa([PdfPage(path, page)], out)
    doc = pypdfium2.PdfDocument(out)
    text = doc[0].get_textpage()
    left, bottom, _right, top = text.get_charbox(0)
    word = page.lines[0].words[0].box
    scale = 72 / page.dpi
    height = page.height * scale
    assert left == pytest.approx(word.left * scale, abs=0.5)
    assert (bottom + top) / 2 == pytest.approx(height - (word.top + word.bottom) / 2 * scale, abs=3)
    doc.close()


@pytest.mark.parametrize("turned", [180, 90, 270])
def test_turned_pages_are_drawn_upright_from_the_untouched_image(tmp_path: Path, turned: int) -> None:
    path, _ = render(tmp_path, rotate=turned)
    page = ocr(path)
    out = tmp_path / "turned.pdf"
    write_pdfa([PdfPage(path, page)], out)
    with pikepdf.open(out) as pdf:
        assert "/Rotate" not in pdf.pages[0].obj
        image = next(iter(pdf.pages[0].get_images().values()))
        assert image.read_raw_bytes() == _png_idat_of(path)  # the image is not turned or re-encoded
    copied = extract_text(out)
    assert copied.strip() == page.text and cjk_spaces_per_char(copied) == 0.0
    # The page shows the upright page: compare a coarse rendering with the unturned original.
    upright, _ = render(tmp_path, "upright.png")
    expected = np.asarray(Image.open(upright).convert("L").resize((124, 175), Image.Resampling.BOX), dtype=float)
    doc = pypdfium2.PdfDocument(out)
    shown = doc[0].render(scale=124 / doc[0].get_width()).to_pil().convert("L").resize((124, 175), Image.Resampling.BOX)
    doc.close()
    assert np.abs(np.asarray(shown, dtype=float) - expected).mean() < 3
    # and the first character lies on the first word
    doc = pypdfium2.PdfDocument(out)
    left, bottom, _right, top = doc[0].get_textpage().get_charbox(0)
    doc.close()
    word = page.lines[0].words[0].box
    scale = 72 / page.dpi
    assert left == pytest.approx(word.left * scale, abs=0.5)
    assert (bottom + top) / 2 == pytest.approx((page.height - (word.top + word.bottom) / 2) * scale, abs=3)


def _png_idat_of(path: Path) -> bytes:
    data = path.read_bytes()
    pos, chunks = 8, []
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        if data[pos + 4 : pos + 8] == b"IDAT":
            chunks.append(data[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return b"".join(chunks)


# --- parts ----------------------------------------------------------------------------------


def _preflight_classpath() -> str:
    if shutil.which("java") is None:
        pytest.skip("java is not installed (PDFBox Preflight oracle)")
    jars = ["preflight", "pdfbox2", "fontbox2", "xmpbox", "commons-logging", "javax.activation", "jaxb-api"]
    paths = [Path("/usr/share/java") / f"{jar}.jar" for jar in jars]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        pytest.skip(f"PDFBox Preflight jars missing under /usr/share/java: {', '.join(missing)}")
    return ":".join(str(p) for p in paths)


def test_pdfa_1b_passes_pikepdf_and_pdfbox_preflight(tmp_path: Path, page_png: tuple[Path, OcrPage]) -> None:
    path, page = page_png
    out = tmp_path / "item-1b.pdf"
    result = write_pdfa([PdfPage(path, page), PdfPage(path, None)], out, part="1b", xmp=XMP)
    assert result.passed and result.pages == 2
    assert extract_text(out) == document_text([page, None])  # the sidecar, exactly
    with pikepdf.open(out) as pdf:
        assert pdf.pdf_version == "1.4"
    proc = subprocess.run(
        ["java", "-cp", _preflight_classpath(), "org.apache.pdfbox.preflight.Validator_A1b", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0 and "is a valid PDF/A-1b file" in proc.stdout, proc.stdout + proc.stderr
    assert extract_text(out).split("\f")[0].strip() == page.text


def test_pdfbox_preflight_rejects_a_broken_file(tmp_path: Path) -> None:
    """The oracle can fail: a plain PDF without output intent or XMP is not PDF/A-1b."""
    out = tmp_path / "plain.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(out)
    proc = subprocess.run(
        ["java", "-cp", _preflight_classpath(), "org.apache.pdfbox.preflight.Validator_A1b", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "is not a valid PDF/A-1b file" in proc.stdout


def test_pdfa_3b_carries_the_metadata_xml_as_an_associated_file(tmp_path: Path, page_png: tuple[Path, OcrPage]) -> None:
    path, page = page_png
    xml = "<文件><题名>测试</题名></文件>".encode()
    out = tmp_path / "item-3b.pdf"
    result = write_pdfa([PdfPage(path, page)], out, part="3b", xmp=XMP, attachment=Attachment("metadata.xml", xml))
    assert result.passed
    with pikepdf.open(out) as pdf:
        spec = pdf.attachments["metadata.xml"]
        assert spec.get_file().read_bytes() == xml
        assert pdf.Root.AF[0].AFRelationship == pikepdf.Name.Data
        assert pdf.open_metadata()["pdfaid:part"] == "3"


def test_attachment_needs_part_3b(tmp_path: Path, page_png: tuple[Path, OcrPage]) -> None:
    with pytest.raises(InputError) as info:
        write_pdfa([PdfPage(page_png[0])], tmp_path / "x.pdf", attachment=Attachment("m.xml", b"<a/>"))
    assert "PDF/A-3b" in info.value.zh


def test_unknown_part_is_refused(tmp_path: Path, page_png: tuple[Path, OcrPage]) -> None:
    with pytest.raises(InputError):
        write_pdfa([PdfPage(page_png[0])], tmp_path / "x.pdf", part="4")


def test_xmp_carries_title_creator_and_archival_code(tmp_path: Path, page_png: tuple[Path, OcrPage]) -> None:
    out = tmp_path / "item.pdf"
    write_pdfa([PdfPage(page_png[0], page_png[1])], out, xmp=XMP)
    with pikepdf.open(out) as pdf:
        meta = pdf.open_metadata()
        assert meta["dc:title"] == XMP.title
        assert meta["dc:identifier"] == XMP.archival_code
        assert meta["dc:creator"] == [XMP.creator]
        assert (meta["pdfaid:part"], meta["pdfaid:conformance"]) == ("2", "B")
        assert str(pdf.docinfo["/Title"]) == XMP.title
        assert "/Encrypt" not in pdf.trailer
        assert "/OpenAction" not in pdf.Root and "/Names" not in pdf.Root  # no JavaScript
        intent = pdf.Root.OutputIntents[0]
        assert intent.S == pikepdf.Name.GTS_PDFA1 and intent.OutputConditionIdentifier == "sRGB"


# --- failure is a failure of the item, with findings ------------------------------------


def test_validation_failure_raises_with_findings_and_writes_nothing(
    tmp_path: Path, page_png: tuple[Path, OcrPage], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = fonts.make_font

    def unembedded(pdf: pikepdf.Pdf, used: dict[int, str]) -> pikepdf.Object:
        font = original(pdf, used)
        del font.DescendantFonts[0].FontDescriptor["/FontFile2"]
        return font

    monkeypatch.setattr("guidang.ingest.pdfa.make_font", unembedded)
    out = tmp_path / "item.pdf"
    out.write_bytes(b"previous version")
    with pytest.raises(PdfaValidationError) as info:
        write_pdfa([PdfPage(*page_png)], out)
    assert info.value.findings and any("embedded" in f for f in info.value.findings)
    assert "PDF/A-2b" in info.value.zh
    assert out.read_bytes() == b"previous version"


def test_ocr_of_another_image_is_refused(tmp_path: Path, page_png: tuple[Path, OcrPage]) -> None:
    small = tmp_path / "small.png"
    Image.new("L", (100, 100), 255).save(small, dpi=(300, 300))
    with pytest.raises(InputError):
        write_pdfa([PdfPage(small, page_png[1])], tmp_path / "x.pdf")


def test_no_pages_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        write_pdfa([], tmp_path / "x.pdf")


# --- images are embedded without loss -----------------------------------------------------


def _scan(mode: str, size: tuple[int, int] = (620, 877)) -> Image.Image:
    """A small page-like image: text-ish strokes on paper (deterministic)."""
    rng = np.random.default_rng(7)
    grey = np.full((size[1], size[0]), 235, dtype=np.uint8)
    for _ in range(120):
        y, x = int(rng.integers(40, size[1] - 40)), int(rng.integers(40, size[0] - 120))
        grey[y : y + 6, x : x + int(rng.integers(20, 100))] = int(rng.integers(0, 80))
    grey = (grey.astype(np.int16) + rng.integers(-6, 7, grey.shape)).clip(0, 255).astype(np.uint8)
    image = Image.fromarray(grey, "L")
    if mode == "RGB":
        return Image.merge("RGB", (image, image.point(lambda v: min(255, v + 10)), image))
    if mode == "1":
        return image.point(lambda v: 255 if v > 128 else 0).convert("1")
    return image.convert(mode)


def _embedded(pdf_path: Path) -> tuple[object, bytes, Image.Image]:
    """Filter, raw stream bytes and decoded pixels of the page's image."""
    with pikepdf.open(pdf_path) as pdf:
        stream = next(iter(pdf.pages[0].get_images().values()))
        assert isinstance(stream, pikepdf.Stream)
        image = pikepdf.PdfImage(stream).as_pil_image()
        image.load()
        return stream.Filter, stream.read_raw_bytes(), image


def _write(tmp_path: Path, image_bytes: bytes, part: str = "2b") -> Path:
    out = tmp_path / f"img-{part}.pdf"
    result = write_pdfa([PdfPage(image_bytes, None, dpi=75)], out, part=part)
    assert result.passed
    return out


def _encode(image: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, dpi=(75, 75), **kw)
    return buf.getvalue()


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_jpeg_is_passed_through_byte_for_byte(tmp_path: Path, mode: str) -> None:
    data = _encode(_scan(mode), "JPEG", quality=80)
    for part in ("2b", "1b"):
        filter_, raw, _ = _embedded(_write(tmp_path, data, part))
        assert filter_ == pikepdf.Name.DCTDecode and raw == data


def _rendered_bits(pdf: Path, size: tuple[int, int]) -> np.ndarray[tuple[int, int], np.dtype[np.bool_]]:
    """The page as pdfium shows it, one image pixel per device pixel (75 dpi image: scale 75/72).

    Resampling moves a few stroke-edge pixels; an inverted image would differ everywhere.
    """
    doc = pypdfium2.PdfDocument(pdf)
    bitmap = doc[0].render(scale=75 / 72, grayscale=True).to_pil().convert("L")
    doc.close()
    return (np.asarray(bitmap) > 127)[: size[1], : size[0]]  # floating point may add a column


@pytest.mark.parametrize(
    ("size", "method"), [((620, 400), "g4-passthrough"), ((620, 877), "g4")]
)  # PIL writes the taller page in two strips: encoded again as one
def test_bilevel_tiff_is_g4_and_decodes_to_the_same_pixels(tmp_path: Path, size: tuple[int, int], method: str) -> None:
    image = _scan("1", size)
    data = _encode(image, "TIFF", compression="group4")
    for part in ("2b", "1b"):
        out = tmp_path / f"g4-{part}.pdf"
        result = write_pdfa([PdfPage(data, None, dpi=75)], out, part=part)
        assert result.image_methods == (method,)
        assert _embedded(out)[0] == pikepdf.Name.CCITTFaxDecode
        assert np.array_equal(np.asarray(_embedded(out)[2].convert("1")), np.asarray(image))  # exact
        assert (_rendered_bits(out, image.size) != np.asarray(image)).mean() < 0.05  # shown, not inverted


def test_bilevel_png_and_lzw_tiff_become_g4_or_stay_flate(tmp_path: Path) -> None:
    image = _scan("1")
    out = tmp_path / "lzw.pdf"
    assert write_pdfa([PdfPage(_encode(image, "TIFF", compression="tiff_lzw"), None, dpi=75)], out).image_methods == (
        "g4",
    )
    assert np.array_equal(np.asarray(_embedded(out)[2].convert("1")), np.asarray(image))
    assert (_rendered_bits(out, image.size) != np.asarray(image)).mean() < 0.05
    assert write_pdfa([PdfPage(_encode(image, "PNG"), None, dpi=75)], out).image_methods == ("png-passthrough",)
    assert np.array_equal(np.asarray(_embedded(out)[2].convert("1")), np.asarray(image))
    assert (_rendered_bits(out, image.size) != np.asarray(image)).mean() < 0.05


@pytest.mark.parametrize(("mode", "fmt", "kw"), [
    ("L", "TIFF", {"compression": "tiff_lzw"}),
    ("RGB", "TIFF", {"compression": "tiff_lzw"}),
    ("RGB", "TIFF", {"compression": "tiff_adobe_deflate"}),
    ("L", "PNG", {}),
    ("RGB", "PNG", {}),
    ("P", "PNG", {}),
    ("L", "BMP", {}),
])  # fmt: skip
def test_other_images_are_recompressed_losslessly(tmp_path: Path, mode: str, fmt: str, kw: dict[str, object]) -> None:
    source = _scan("RGB").quantize(16) if mode == "P" else _scan(mode)
    data = _encode(source, fmt, **kw)
    for part in ("2b", "1b"):
        _, _, decoded = _embedded(_write(tmp_path, data, part))
        original: Image.Image = Image.open(io.BytesIO(data))
        if mode == "P":
            decoded, original = decoded.convert("RGB"), original.convert("RGB")
        assert np.array_equal(np.asarray(decoded), np.asarray(original)), (mode, fmt, part)


def test_sixteen_bit_needs_pdfa_2(tmp_path: Path) -> None:
    array = (np.asarray(_scan("L")).astype(np.uint16) * 257).astype(np.uint16)
    data = _encode(Image.fromarray(array), "PNG")
    with pytest.raises(InputError) as info:
        _write(tmp_path, data, "1b")
    assert "16" in info.value.zh
    _, _, decoded = _embedded(_write(tmp_path, data, "2b"))
    assert decoded.size == (620, 877)


def test_opaque_alpha_is_dropped_but_transparency_is_refused(tmp_path: Path) -> None:
    rgba = _scan("RGB").convert("RGBA")
    _write(tmp_path, _encode(rgba, "PNG"))
    rgba.putpixel((5, 5), (0, 0, 0, 0))
    with pytest.raises(InputError) as info:
        _write(tmp_path, _encode(rgba, "PNG"))
    assert "透明" in info.value.zh


def test_cmyk_and_multipage_and_garbage_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        _write(tmp_path, _encode(_scan("RGB").convert("CMYK"), "JPEG"))
    buf = io.BytesIO()
    _scan("L").save(buf, format="TIFF", save_all=True, append_images=[_scan("L")], dpi=(75, 75))
    with pytest.raises(InputError) as info:
        _write(tmp_path, buf.getvalue())
    assert "多页" in info.value.zh
    with pytest.raises(InputError):
        _write(tmp_path, b"not an image at all")


def test_image_without_dpi_needs_it_from_the_caller(tmp_path: Path) -> None:
    buf = io.BytesIO()
    _scan("L").save(buf, format="PNG")
    with pytest.raises(InputError) as info:
        write_pdfa([PdfPage(buf.getvalue())], tmp_path / "x.pdf")
    assert "dpi" in info.value.zh
    assert write_pdfa([PdfPage(buf.getvalue(), dpi=75)], tmp_path / "x.pdf").passed


def test_page_size_follows_the_resolution(tmp_path: Path) -> None:
    out = _write(tmp_path, _encode(_scan("L"), "PNG"))
    with pikepdf.open(out) as pdf:
        box = [float(v) for v in pdf.pages[0].mediabox]
    assert box == pytest.approx([0, 0, 620 * 72 / 75, 877 * 72 / 75], abs=0.01)
