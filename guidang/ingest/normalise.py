"""Born-digital files to a fixed-layout preservation or access copy (GB/T 18894-2016 8.3), never in place.

Each function writes a new file and verifies it with ``pikepdf.pdfa.save`` (which validates what it
wrote); the original is only read. What cannot be converted faithfully raises :class:`NeedsReview`
with the reason (the file goes to an archivist, nothing is lost); what cannot be read at all raises
:class:`Unreadable`.

* PDF → PDF/A-2b, refused when a font is not embedded: a reader or converter would substitute it, and
  for CJK CID fonts that destroys the text (OCRmyPDF #1561: Ghostscript rewrote the Chinese text layer).
* Office documents → PDF/A-2b through LibreOffice (:mod:`guidang.ingest.office`), refused when a font
  the document uses is neither installed nor in the archive's font folder.
* A PDF without a text layer (a scan delivered as PDF) → its pages' images read by OCR as scans are and
  written by the scans' PDF/A writer (:func:`guidang.ingest.pdfa.write_pdfa`) with an invisible text layer;
  in a PDF where some pages have text, those are taken over as they are (OCRmyPDF's ``--skip-text``).
* Images → a one-page PDF/A-2b access copy; the image itself is the preservation copy.
* OFD → kept as the preservation format; its text is extracted for search. No PDF/A access copy: the
  only OFD renderer to hand (easyofd) needs PyMuPDF, whose AGPL licence does not fit this project.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from lxml import etree
from pikepdf import pdfa
from PIL import Image, UnidentifiedImageError

from guidang import safexml
from guidang.errors import GuidangError
from guidang.ingest.office import LibreOffice, OfficeError, missing_fonts, used_fonts
from guidang.ingest.pdfa import PdfaValidationError, PdfPage, write_pdfa
from guidang.ingest.pdfraster import PagePlan
from guidang.ingest.pdftext import extract_text

PART = "2b"  # the preservation copy's PDF/A part (GB/T 18894 8.3 asks for PDF/A; 2b as the scans)
# an image that records no resolution is drawn at the CSS reference pixel, 96 per inch (CSS Values 4 §6.2)
DEFAULT_IMAGE_DPI = 96.0
OFD_MAX_XML_BYTES = 64 * 1024 * 1024  # one Content.xml; more is a zip bomb, not a page (FILE-OFD reads them too)


class NeedsReview(GuidangError):
    """The file cannot be normalised faithfully; an archivist decides. ``key`` names the reason."""

    code = "REVIEW"

    def __init__(self, key: str, zh: str, en: str, detail: str = "") -> None:
        super().__init__(zh, en)
        self.key = key
        self.detail = detail


class Unreadable(GuidangError):
    """Encrypted, password-protected or corrupt: refused with the reason."""

    code = "UNREADABLE"

    def __init__(self, key: str, zh: str, en: str, detail: str = "") -> None:
        super().__init__(zh, en)
        self.key = key
        self.detail = detail


@dataclass(frozen=True)
class Converted:
    path: Path
    text: str
    note: str = ""  # what was done, for the process history (Chinese)


# -- PDF ---------------------------------------------------------------------------------------------------------
def open_pdf(path: Path) -> pikepdf.Pdf:
    try:
        pdf = pikepdf.open(path)
    except pikepdf.PasswordError as exc:
        raise Unreadable("password", "PDF 需要打开密码", "the PDF needs a password to open") from exc
    except (pikepdf.PdfError, OSError) as exc:
        raise Unreadable("corrupt", f"PDF 已损坏：{exc}", f"the PDF is corrupt: {exc}", str(exc)) from exc
    if pdf.is_encrypted:
        pdf.close()
        raise Unreadable("encrypted", "PDF 已加密（权限受限）", "the PDF is encrypted (restricted permissions)")
    return pdf


def is_signed(pdf: pikepdf.Pdf) -> bool:
    """True when a signature field carries a value (a /Sig dictionary with /ByteRange)."""
    form = pdf.Root.get("/AcroForm")
    fields = form.get("/Fields") if isinstance(form, pikepdf.Dictionary) else None
    stack = list(fields) if isinstance(fields, pikepdf.Array) else []
    seen = 0
    while stack and seen < 10_000:
        seen += 1
        node = stack.pop()
        if not isinstance(node, pikepdf.Dictionary):
            continue
        value = node.get("/V")
        if isinstance(value, pikepdf.Dictionary) and "/ByteRange" in value:
            return True
        kids = node.get("/Kids")
        if isinstance(kids, pikepdf.Array):
            stack.extend(kids)
    return False


def _is_signature_field(field: pikepdf.Dictionary) -> bool:
    node: object = field
    for _ in range(32):  # FT may be inherited from the parent field
        if not isinstance(node, pikepdf.Dictionary):
            return False
        if "/FT" in node:
            return bool(node.get("/FT") == pikepdf.Name.Sig)
        node = node.get("/Parent")
    return False


def flatten_signatures(pdf: pikepdf.Pdf) -> bool:
    """In a copy: draw each signature widget's appearance (a seal's image) into its page and drop the form.

    Only when every field of the form is a signature field (other form fields are left to review). The copy
    then shows the seal where it was, and carries no signature that could claim to still be valid.
    Returns True when something was flattened."""
    form = pdf.Root.get("/AcroForm")
    fields = form.get("/Fields") if isinstance(form, pikepdf.Dictionary) else None
    if not isinstance(fields, pikepdf.Array) or not len(fields):
        return False
    if not all(isinstance(f, pikepdf.Dictionary) and _is_signature_field(f) for f in fields):
        return False
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if not isinstance(annots, pikepdf.Array):
            continue
        keep = pikepdf.Array()
        for annot in annots:
            if not (isinstance(annot, pikepdf.Dictionary) and annot.get("/Subtype") == pikepdf.Name.Widget
                    and _is_signature_field(annot)):
                keep.append(annot)
                continue
            ap = annot.get("/AP")
            normal = ap.get("/N") if isinstance(ap, pikepdf.Dictionary) else None
            rect = annot.get("/Rect")
            if isinstance(normal, pikepdf.Stream) and isinstance(rect, pikepdf.Array) and "/BBox" in normal:
                page.add_overlay(normal, pikepdf.Rectangle(rect))
        page.obj.Annots = keep
    del pdf.Root["/AcroForm"]
    return True


def unembedded_fonts(pdf: pikepdf.Pdf) -> list[str]:
    """Fonts used on any page (or in its forms) whose program is not in the file, CJK CID fonts included."""
    missing: set[str] = set()
    seen: set[tuple[int, int]] = set()

    def visit_resources(res: object, depth: int) -> None:
        if not isinstance(res, pikepdf.Dictionary) or depth > 16:
            return
        fonts = res.get("/Font")
        for font in fonts.values() if isinstance(fonts, pikepdf.Dictionary) else ():
            if not isinstance(font, pikepdf.Dictionary):
                continue
            if font.is_indirect:
                if font.objgen in seen:
                    continue
                seen.add(font.objgen)
            subtype = font.get("/Subtype")
            if subtype == pikepdf.Name.Type3:
                visit_resources(font.get("/Resources"), depth + 1)
                continue
            descendants = font.get("/DescendantFonts")
            target = descendants[0] if isinstance(descendants, pikepdf.Array) and len(descendants) else font
            desc = target.get("/FontDescriptor") if isinstance(target, pikepdf.Dictionary) else None
            embedded = isinstance(desc, pikepdf.Dictionary) and any(
                k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")
            )
            if not embedded:
                missing.add(str(font.get("/BaseFont", "?")).lstrip("/"))
        xobjects = res.get("/XObject")
        for xo in xobjects.values() if isinstance(xobjects, pikepdf.Dictionary) else ():
            if isinstance(xo, pikepdf.Stream) and xo.get("/Subtype") == pikepdf.Name.Form:
                if xo.objgen in seen:
                    continue
                seen.add(xo.objgen)
                visit_resources(xo.get("/Resources"), depth + 1)

    for page in pdf.pages:
        visit_resources(page.obj.get("/Resources"), 0)
    return sorted(missing)


def require_embedded_fonts(pdf: pikepdf.Pdf) -> None:
    """Refuse (to review) a PDF with a font it does not embed: a conversion would substitute it."""
    fonts = unembedded_fonts(pdf)
    if fonts:
        raise NeedsReview(
            "font_not_embedded",
            f"PDF 使用未嵌入的字体（{'、'.join(fonts[:10])}），转换将替换字体（中文 CID 字体尤甚），须人工处理",
            f"the PDF uses fonts it does not embed ({', '.join(fonts[:10])}); converting would substitute them"
            " (CJK CID fonts above all): review",
            ", ".join(fonts),
        )


def pdf_to_pdfa(source: Path, out: Path) -> Converted:
    """A PDF/A-2b copy of a PDF, verified; refused to review when a font would be substituted."""
    with open_pdf(source) as pdf:
        require_embedded_fonts(pdf)
        note = "PDF 转换为 PDF/A-2b（原件未改动）"
        if flatten_signatures(pdf):
            note = "含签名的 PDF 转为 PDF/A-2b 副本：签章外观压平到页面，副本不带有效签名（签名保留在未改动的原件中）"
        return _save_pdfa(pdf, out, note)


def scanned_pdf_to_pdfa(source: Path, pages: Sequence[PdfPage], plan: PagePlan, out: Path, *,
                        signed: bool = False) -> Converted:
    """A PDF/A-2b copy of a PDF whose pages without text were read by OCR: ``pages`` (one per image of
    ``plan``, in order) are written by the scans' writer; a mixed PDF's pages with text are then taken from
    the original as they are (every font embedded, signature appearances drawn, as :func:`pdf_to_pdfa`).
    ``signed``: the pages were rendered with their seals, and the note says the copy bears no signature."""
    note = f"PDF 无文本层的 {len(pages)} 页经文字识别，生成带文本层的 PDF/A-2b（原件未改动）"
    if signed:
        note += "；含签名的 PDF：签章外观随页面绘入图像，副本不带有效签名（签名保留在未改动的原件中）"
    target = out.with_name(f"{out.stem}.ocr.pdf") if plan.text_pages else out
    try:
        write_pdfa(pages, target, part=PART)
    except (PdfaValidationError, GuidangError) as exc:
        raise NeedsReview("not_verified", exc.message("zh"), exc.message("en")) from exc
    if not plan.text_pages:
        return Converted(out, extract_text(out), note)
    with open_pdf(source) as pdf, pikepdf.open(target) as ocred:
        require_embedded_fonts(pdf)
        for image, page in zip(plan.images, ocred.pages, strict=True):
            pdf.pages[image.index] = page
        if flatten_signatures(pdf) and not signed:
            note += "；签章外观压平到页面，副本不带有效签名"
        done = _save_pdfa(pdf, out, note + f"；其余 {len(plan.text_pages)} 页原有文本保持不变")
    target.unlink()
    return done


def _save_pdfa(pdf: pikepdf.Pdf, out: Path, note: str) -> Converted:
    out.parent.mkdir(parents=True, exist_ok=True)
    for key in ("/DocChecksum",):  # an obsolete Adobe trailer key LibreOffice writes; no part of PDF/A
        if key in pdf.trailer:
            del pdf.trailer[key]
    if isinstance(pdf.Root.get("/OpenAction"), pikepdf.Array):
        # a destination to open at (LibreOffice writes one): only the initial view, which pikepdf.pdfa
        # does not check; the copy opens at its first page instead
        del pdf.Root["/OpenAction"]
    try:
        pdfa.save(pdf, out, PART, compress_streams=True)
    except pdfa.PdfaError as exc:
        findings = [str(f) for f in exc.report.findings]
        raise NeedsReview(
            "not_verified",
            f"转换结果未通过 PDF/A-{PART} 校验：{'；'.join(findings[:3])}",
            f"the converted file did not pass PDF/A-{PART} validation: {'; '.join(findings[:3])}",
            "; ".join(findings),
        ) from exc
    return Converted(out, extract_text(out), note)


# -- office documents ------------------------------------------------------------------------------------------
def office_to_pdfa(source: Path, out: Path, lo: LibreOffice, scratch: Path) -> Converted:
    """A PDF/A-2b copy of an office document through LibreOffice; refused to review on a missing font."""
    try:
        flat = lo.to_flat_odf(source, scratch / "flat")
        missing = missing_fonts(used_fonts(flat), lo.available_families())
        if missing:
            raise NeedsReview(
                "font_missing",
                f"文档使用的字体（{'、'.join(missing[:10])}）本机与档案馆字体目录中都没有，转换将替换字体，须人工处理",
                f"the document uses fonts ({', '.join(missing[:10])}) that neither this machine nor the archive's"
                " font folder has; converting would substitute them: review",
                ", ".join(missing),
            )
        produced = lo.to_pdf(source, scratch / "pdf")
    except OfficeError as exc:
        raise NeedsReview("conversion_failed", exc.message("zh"), exc.message("en")) from exc
    with pikepdf.open(produced) as pdf:
        return _save_pdfa(pdf, out, f"经 LibreOffice（{lo.binary}）转换为 PDF/A-2b（原件未改动）")


# -- images ------------------------------------------------------------------------------------------------------
def image_resolution(source: Path) -> float:
    """The resolution an image records (else :data:`DEFAULT_IMAGE_DPI`); a corrupt image is refused."""
    try:
        with Image.open(source) as im:
            dpi = im.info.get("dpi")
            im.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise Unreadable("corrupt", f"图像已损坏：{exc}", f"the image is corrupt: {exc}", str(exc)) from exc
    return float(dpi[0]) if dpi and dpi[0] else DEFAULT_IMAGE_DPI


def image_to_pdfa(source: Path, out: Path, page: PdfPage | None = None) -> Converted:
    """A one-page PDF/A-2b access copy of an image (embedded losslessly, as the scans are); with ``page`` (the
    image read by OCR) the copy carries its invisible text layer, and its text is returned."""
    page = page or PdfPage(source, None, dpi=image_resolution(source))
    try:
        write_pdfa([page], out, part=PART)
    except (PdfaValidationError, GuidangError) as exc:
        raise NeedsReview("not_verified", exc.message("zh"), exc.message("en")) from exc
    if page.ocr is None:
        return Converted(out, "", "生成图像的 PDF/A-2b 利用副本（原图未改动）")
    return Converted(out, extract_text(out), "生成图像的 PDF/A-2b 利用副本，带文字识别文本层（原图未改动）")


# -- OFD ---------------------------------------------------------------------------------------------------------
_OFD_NS = "http://www.ofdspec.org/2016"


def ofd_text(source: Path) -> str:
    """The text of an OFD's pages (ofd:TextCode, in document order), for search."""
    parts: list[str] = []
    try:
        with zipfile.ZipFile(source) as z:
            for info in z.infolist():
                name = info.filename
                if not (name.endswith("Content.xml") and "/Pages/" in f"/{name}") or info.flag_bits & 0x1:
                    continue
                if info.file_size > OFD_MAX_XML_BYTES:
                    raise Unreadable(
                        "too_large",
                        f"OFD 中的 {name} 解压后有 {info.file_size} 字节，超过上限",
                        f"{name} in the OFD unpacks to {info.file_size} bytes, more than allowed",
                    )
                with z.open(info) as fh:
                    data = fh.read(OFD_MAX_XML_BYTES + 1)
                if len(data) > OFD_MAX_XML_BYTES:
                    raise Unreadable("too_large", f"OFD 中的 {name} 过大", f"{name} in the OFD is too large")
                root = etree.fromstring(data, safexml.parser())
                parts.extend("".join(str(x) for x in t.itertext()) for t in root.iter(f"{{{_OFD_NS}}}TextCode"))
    except (zipfile.BadZipFile, OSError, etree.XMLSyntaxError) as exc:
        raise Unreadable("corrupt", f"OFD 已损坏：{exc}", f"the OFD is corrupt: {exc}", str(exc)) from exc
    return "".join(parts)
