"""An independent generator of vendor scan batches, built differently from ``guidang.samples``.

``guidang.samples`` lays out 公文 pages in Noto Serif and degrades them with its own code; the
scan-QA thresholds were tuned against it. This module makes pages another way, as a scanner
with a black lid would: a letter-style page in Noto *Sans* CJK (or DejaVu for Latin) drawn with
Pillow on a tinted sheet, the sheet turned with OpenCV and laid on the black lid inside a fixed
scan area (so the black bands are where the sheet is not, wedge-shaped when skewed), sensor
noise, then saved by Pillow as JPEG (at a given quality) or LZW TIFF. Seeded defects are made
the way they happen: a sheet scanned at too low a resolution, a badly fed sheet, a black cover
sheet lying over the text, the blank back side scanned instead of the front, a file cut short
in transfer.

Nothing here imports guidang: it is the other generator the verdicts are judged on.
"""

from __future__ import annotations

import csv
import hashlib
import random
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

CACHE = Path(__file__).resolve().parent / ".cache" / "scan_vendor"  # git-ignored
FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
LATIN_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
SCAN_AREAS_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0), "B5": (176.0, 250.0)}

# Text of the imaginary records (written for this generator, not taken from guidang.samples).
SENTENCES = (
    "经研究，同意你单位关于开展档案数字化加工的请示，请按照有关规定组织实施。",
    "各乡镇人民政府、街道办事处要高度重视本项工作，明确分管领导和具体经办人员。",
    "扫描图像应当清晰完整，页码齐全，不得漏扫、重扫或者多扫。",
    "请于本月底前将工作进展情况报送县档案馆业务指导科，联系电话六二八八一二三四。",
    "本次共接收会议记录、通知、批复等文件一百二十件，已全部完成整理编目。",
    "对破损严重的纸张，应当先行修复后再进行扫描，修复过程须做好记录。",
    "数字化成果验收合格后，方可移交进馆，原件按期归还档案库房。",
    "会议认为，今年以来全县档案工作稳步推进，馆藏资源结构不断优化。",
    "附件：一、档案数字化加工项目验收清单；二、外包服务安全保密协议。",
    "特此通知。",
)
LATIN = (
    "Minutes of the records committee, second quarter.",
    "The digitised copies shall be checked page by page before transfer.",
    "Contact: records office, telephone 0571-8888 1234.",
)

Fmt = Literal["JPEG", "TIFF"]


@dataclass(frozen=True)
class Sheet:
    """How one page is written and scanned."""

    text_seed: int = 0
    dpi: int = 300
    area: str = "A4"  # the scanner's scan area (the image size)
    skew_deg: float = 0.0  # the sheet turned counter-clockwise on the glass
    borders_mm: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # lid visible left, top, right, bottom
    cover_mm: float = 0.0  # a black cover sheet lying over the left edge of the sheet, this far in
    tone: tuple[int, int, int] = (246, 244, 236)  # paper colour (RGB)
    colour: bool = False  # saved as RGB (else 8-bit grey)
    red_seal: bool = False  # a red heading and a red round seal at the foot of the text (红头, 印章)
    latin: bool = False
    blank: bool = False  # the back of the sheet: no text at all
    noise: float = 3.0  # sensor noise sigma (grey levels)
    fmt: Fmt = "JPEG"
    quality: int = 90  # JPEG quality
    truncate: float = 1.0  # keep this share of the file's bytes (< 1: cut short in transfer)


@dataclass(frozen=True)
class VendorItem:
    code: str  # 档号
    title: str
    sheets: tuple[Sheet, ...]
    page_count: int | None = None  # 页数 in the catalogue; None: the number of sheets
    retention: str = "永久"  # 保管期限 in the catalogue
    expect: str = "accept"  # "accept" | "refuse"
    fails: frozenset[str] = frozenset()  # the checks that must fail (exactly these)
    warns: frozenset[str] = frozenset()  # checks that must at least warn
    why: str = ""


@dataclass
class VendorBatch:
    root: Path
    items: list[VendorItem] = field(default_factory=list)


def _px(mm: float, dpi: int) -> int:
    return round(mm * dpi / 25.4)


def _font(size_px: int, latin: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(LATIN_FONT if latin else FONT), size_px)


def _lines(rng: random.Random, chars_per_line: int, latin: bool) -> list[tuple[str, bool]]:
    """Paragraphs broken into lines; (text, is_latin)."""
    out: list[tuple[str, bool]] = []
    for _ in range(rng.randint(5, 7)):
        para = "　　" + "".join(rng.sample(SENTENCES, rng.randint(1, 3)))
        while para:
            out.append((para[:chars_per_line], False))
            para = para[chars_per_line:]
        if latin and rng.random() < 0.4:
            out.append((rng.choice(LATIN), True))
    return out


def _layout(sheet: Sheet, size_px: tuple[int, int]) -> tuple[str, list[tuple[str, bool]]]:
    """The heading and the lines (text, is_latin) that fit the sheet: what is written on it."""
    w, h = size_px
    dpi = sheet.dpi
    rng = random.Random(sheet.text_seed)
    heading = "关于档案数字化工作的通知" if rng.random() < 0.5 else "会议纪要"
    left, right, top, bottom = _px(25, dpi), _px(20, dpi), _px(30, dpi), _px(25, dpi)
    cell = _px(4.2, dpi)
    per_line = max(4, (w - left - right) // cell)
    y = top + _px(14, dpi)
    lines: list[tuple[str, bool]] = []
    for line in _lines(rng, per_line, sheet.latin):
        if y > h - bottom - _px(8, dpi):
            break
        lines.append(line)
        y += round(cell * 1.7)
    return heading, lines


def sheet_size_px(sheet: Sheet) -> tuple[int, int]:
    """The sheet's size in pixels: the scan area less the lid showing around it."""
    aw_mm, ah_mm = SCAN_AREAS_MM[sheet.area]
    bl, bt, br, bb = (_px(v, sheet.dpi) for v in sheet.borders_mm)
    return _px(aw_mm, sheet.dpi) - bl - br, _px(ah_mm, sheet.dpi) - bt - bb


def sheet_text(sheet: Sheet) -> str:
    """The text written on the sheet, heading first, one line per line ("" for a blank back)."""
    if sheet.blank:
        return ""
    heading, lines = _layout(sheet, sheet_size_px(sheet))
    return "\n".join([heading, *(text for text, _ in lines)])


def render_sheet(sheet: Sheet, size_px: tuple[int, int]) -> NDArray[np.uint8]:
    """The written sheet (RGB) before scanning: letter layout, 25/20 mm side margins, 30 mm top."""
    w, h = size_px
    dpi = sheet.dpi
    img = Image.new("RGB", (w, h), sheet.tone)
    if sheet.blank:
        return np.asarray(img, dtype=np.uint8)
    heading, lines = _layout(sheet, size_px)
    draw = ImageDraw.Draw(img)
    ink = (32, 30, 34)
    left, right, top, bottom = _px(25, dpi), _px(20, dpi), _px(30, dpi), _px(25, dpi)
    body = _font(_px(4.2, dpi))
    title = _font(_px(6.0, dpi))
    tw = draw.textlength(heading, font=title)
    draw.text(((w - tw) / 2, top), heading, font=title, fill=(150, 20, 24) if sheet.red_seal else ink)
    y = top + _px(14, dpi)
    cell = _px(4.2, dpi)
    for text, latin in lines:
        draw.text((left, y), text, font=_font(_px(3.6, dpi), latin=True) if latin else body, fill=ink)
        y += round(cell * 1.7)
    if sheet.red_seal:
        r = _px(20, dpi)
        cx, cy = w - right - r - _px(10, dpi), min(y + r, h - bottom - r)
        red = (205, 35, 40)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=red, width=_px(1.2, dpi))
        star = _font(_px(9, dpi))
        draw.text((cx - _px(4.5, dpi), cy - _px(6, dpi)), "★", font=star, fill=red)
        draw.text((cx - _px(11, dpi), cy + _px(5, dpi)), "档案馆", font=_font(_px(5, dpi)), fill=red)
    return np.asarray(img, dtype=np.uint8)


def scan(sheet: Sheet) -> NDArray[np.uint8]:
    """The scanned image (RGB or grey): the sheet on the black lid inside the scan area."""
    aw_mm, ah_mm = SCAN_AREAS_MM[sheet.area]
    dpi = sheet.dpi
    aw, ah = _px(aw_mm, dpi), _px(ah_mm, dpi)
    bl, bt = _px(sheet.borders_mm[0], dpi), _px(sheet.borders_mm[1], dpi)
    sw, sh = sheet_size_px(sheet)
    paper = render_sheet(sheet, (sw, sh))
    lid = (22, 22, 24)
    m = cv2.getRotationMatrix2D((sw / 2, sh / 2), sheet.skew_deg, 1.0)
    m[0, 2] += bl
    m[1, 2] += bt
    image = cv2.warpAffine(paper, m, (aw, ah), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                           borderValue=lid)
    if sheet.cover_mm > 0:  # in the sheet's own frame, turned with it
        c = _px(sheet.cover_mm, dpi)
        cover = np.array([[[-sw, -sh], [c, -sh], [c, 2 * sh], [-sw, 2 * sh]]], dtype=np.float64)
        cv2.fillPoly(image, [cv2.transform(cover, m)[0].astype(np.int32)], lid)
    cv2.setRNGSeed(sheet.text_seed + 7)
    noise = np.empty(image.shape[:2], np.int16)
    cv2.randn(noise, 0.0, sheet.noise)
    noisy = image.astype(np.int16)
    noisy += noise[..., None]
    out = np.clip(noisy, 0, 255, out=noisy).astype(np.uint8)
    if not sheet.colour:
        return np.asarray(cv2.cvtColor(out, cv2.COLOR_RGB2GRAY), dtype=np.uint8)
    return out


def save(sheet: Sheet, path: Path) -> Path:
    pixels = scan(sheet)
    img = Image.fromarray(pixels)
    if sheet.fmt == "JPEG":
        img.save(path, "JPEG", quality=sheet.quality, dpi=(sheet.dpi, sheet.dpi))
    else:
        img.save(path, "TIFF", compression="tiff_lzw", dpi=(sheet.dpi, sheet.dpi))
    if sheet.truncate < 1.0:
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * sheet.truncate)])
    return path


def write_batch(root: Path, items: Sequence[VendorItem]) -> VendorBatch:
    """The batch folder: one folder per 档号 with ``档号-0001.jpg`` …, catalogue.csv, READY.

    Batches are kept in ``tests/.cache/scan_vendor`` under the digest of their description and
    this module's source, and copied from there (making them costs a few CPU seconds a page)."""
    made = repr([(i.code, i.title, i.sheets, i.page_count, i.retention) for i in items])  # not the expectations
    key = hashlib.sha256((made + Path(__file__).read_text("utf-8")).encode()).hexdigest()[:16]
    cached = CACHE / key
    if not cached.is_dir():
        tmp = CACHE / f"{key}.part{random.getrandbits(32):08x}"
        try:
            _write(tmp, items)
            tmp.rename(cached)
        except OSError:
            if not cached.is_dir():
                raise
        finally:  # another worker may have made it first
            shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(cached, root)
    return VendorBatch(root, list(items))


def _write(root: Path, items: Sequence[VendorItem]) -> None:
    root.mkdir(parents=True)
    with (root / "catalogue.csv").open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["序号", "档号", "责任者", "题名", "日期", "密级", "页数", "保管期限"])
        for n, item in enumerate(items, 1):
            pages = item.page_count if item.page_count is not None else len(item.sheets)
            out.writerow([n, item.code, "示例县档案馆", item.title, "20240315", "公开", pages, item.retention])
    for item in items:
        folder = root / item.code
        folder.mkdir(exist_ok=True)
        for n, sheet in enumerate(item.sheets, 1):
            suffix = ".jpg" if sheet.fmt == "JPEG" else ".tif"
            save(sheet, folder / f"{item.code}-{n:04d}{suffix}")
    (root / "READY").write_text("", encoding="utf-8")



def corpus_batch(root: Path, src: Path, items: Sequence[VendorItem]) -> Path:
    """Files of a scan corpus (``src``) as a vendor batch, one item each: ``item.title`` names the
    source file, PDFs are rendered (skew*.pdf at 300 dpi, others at 200 dpi; ccitt.pdf's image is
    extracted as it is), linn.png (a palette of greys) becomes an 8-bit grey TIFF, anything else is
    copied. The catalogue is written here with ``item.page_count`` and the metadata DA/T 46 makes
    mandatory (责任者, 日期, 密级 公开; without 密级 the package fails GD-2-3); pages are ``档号-0001…``."""
    root.mkdir()
    tmp = root.parent / f"{root.name}-render"
    tmp.mkdir()
    lines = ["序号,档号,责任者,题名,日期,密级,页数,保管期限"]
    for n, item in enumerate(items, 1):
        folder = root / item.code
        folder.mkdir()
        name = item.title
        stem = Path(name).stem
        if name == "ccitt.pdf":
            subprocess.run(["pdfimages", "-tiff", str(src / name), str(tmp / stem)], check=True)
        elif name.endswith(".pdf"):
            dpi = "300" if "skew" in name else "200"
            subprocess.run(["pdftoppm", "-r", dpi, "-gray", "-tiff", "-tiffcompression", "lzw", str(src / name),
                            str(tmp / stem)], check=True)
        elif name == "linn.png":  # a palette of greys: the same pixels as an 8-bit grey TIFF
            with Image.open(src / name) as im:
                im.convert("L").save(tmp / f"{stem}.tif", compression="tiff_lzw")
        else:
            shutil.copyfile(src / name, tmp / name)
        pages = sorted(p for p in tmp.iterdir() if p.name.startswith(stem))
        for seq, page in enumerate(pages, 1):
            page.rename(folder / f"{item.code}-{seq:04d}{page.suffix}")
        lines.append(f"{n},{item.code},OCRmyPDF,{name},20240101,公开,{item.page_count},永久")
    (root / "catalogue.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "READY").write_text("", encoding="utf-8")
    return root


@dataclass(frozen=True)
class Verdict:
    """What was decided for one item: accepted or not, the checks that failed, those that warned."""

    accepted: bool
    fails: frozenset[str]
    warns: frozenset[str]


def differences(expected: Mapping[str, VendorItem], got: Mapping[str, Verdict]) -> list[str]:
    """Every item whose verdict is not the expected one: refused/accepted, exactly the expected
    failures, at least the expected warnings (an item without a verdict is a difference too)."""
    wrong = []
    for code, want in expected.items():
        v = got.get(code)
        if v is None:
            wrong.append(f"{code} ({want.why}): no verdict")
            continue
        ok = (
            v.accepted == (want.expect == "accept")
            and v.fails == want.fails
            and want.warns <= v.warns
        )
        if not ok:
            wrong.append(f"{code} ({want.why}): expected {want.expect} fails={sorted(want.fails)} "
                         f"warns⊇{sorted(want.warns)}; got accepted={v.accepted} fails={sorted(v.fails)} "
                         f"warns={sorted(v.warns)}")
    return wrong
