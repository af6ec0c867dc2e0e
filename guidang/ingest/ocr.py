"""OCR of page images with Tesseract (through pytesseract), behind a small engine interface.

One Tesseract run per page does both orientation detection and recognition: page
segmentation mode 1 ("automatic with OSD") reads an upside-down or sideways page as
well as an upright one, at no extra cost over mode 3, and its hOCR says the angle of
each line. Word boxes come back in the coordinates of the image as given; `OcrPage`
stores them in the *upright* frame (the image turned clockwise by `OcrPage.rotation`),
which is what the text layer and the text sidecar need.

Tesseract runs single-threaded (``OMP_THREAD_LIMIT=1``): its OpenMP threads fight any
outer parallelism, and pages and items are what guidang parallelises (`ocr_pages`).
Keeping the model loaded between pages (tesserocr) was measured and not worth a
second binding: loading chi_sim+eng costs 0.15–0.27 s against 6–9 s of recognition
per dense A4 page (see docs/ocr.md).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pytesseract
from lxml import etree
from PIL import Image

from guidang import safexml
from guidang.errors import InputError, MissingDependencyError
from guidang.ingest.cjktext import join_words

log = logging.getLogger(__name__)

ROTATIONS = (0, 90, 180, 270)


# --- the result -----------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    """A rectangle in pixels, y downwards: left, top inclusive; right, bottom exclusive."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class OcrWord:
    text: str
    box: Box
    confidence: float  # 0–100, as Tesseract reports it


@dataclass(frozen=True)
class OcrLine:
    words: tuple[OcrWord, ...]
    box: Box

    @property
    def text(self) -> str:
        return join_words(w.text for w in self.words)

    @property
    def confidence(self) -> float:
        """The mean confidence of the line's words, 0–100."""
        return sum(w.confidence for w in self.words) / len(self.words) if self.words else 0.0


@dataclass(frozen=True)
class OcrPage:
    """What Tesseract read on one page, in the upright frame of the page.

    ``width``/``height`` are the upright page's size in pixels (swapped against the image
    for a page turned by 90 or 270 degrees); ``rotation`` is how far the image as given
    must be turned clockwise to be upright (the PDF draws it so turned).
    """

    width: int
    height: int
    dpi: float
    lines: tuple[OcrLine, ...]
    languages: str
    engine: str  # e.g. "tesseract 5.3.0"
    rotation: int = 0
    image_size: tuple[int, int] = field(default=(0, 0))  # (width, height) of the image as given

    @property
    def text(self) -> str:
        """The page text, one line per line; the same text copies out of the PDF's text layer."""
        return "\n".join(t for t in (line.text for line in self.lines) if t)

    @property
    def mean_confidence(self) -> float | None:
        confs = [w.confidence for line in self.lines for w in line.words]
        return sum(confs) / len(confs) if confs else None

    def doubtful_lines(self, threshold: float) -> int:
        """How many lines were read with a confidence under *threshold* (0–100)."""
        return sum(1 for line in self.lines if line.words and line.confidence < threshold)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OcrPage:
        lines = tuple(
            OcrLine(
                words=tuple(OcrWord(w["text"], Box(**w["box"]), float(w["confidence"])) for w in line["words"]),
                box=Box(**line["box"]),
            )
            for line in data["lines"]
        )
        return cls(
            width=int(data["width"]),
            height=int(data["height"]),
            dpi=float(data["dpi"]),
            lines=lines,
            languages=str(data["languages"]),
            engine=str(data["engine"]),
            rotation=int(data["rotation"]),
            image_size=(int(data["image_size"][0]), int(data["image_size"][1])),
        )


def document_text(pages: Iterable[OcrPage | None]) -> str:
    """The text sidecar of an item: pages in order, separated by a form feed (a page without OCR is empty).

    It is what `guidang.ingest.pdftext.extract_text` copies out of the PDF/A.
    """
    return "\f".join(page.text if page is not None else "" for page in pages)


# --- the engine interface ------------------------------------------------------------


class OcrEngine(Protocol):
    """What guidang needs from an OCR engine: Tesseract here, PP-OCR in `guidang.ingest.ocr_ppocr`."""

    def version(self) -> str:
        """Name and version, e.g. ``tesseract 5.3.0``; raises MissingDependencyError."""
        ...

    def check_languages(self, languages: str) -> None:
        """Raise MissingDependencyError when a model of ``chi_sim+eng``-style *languages* is absent."""
        ...

    def recognise(self, image: Path, languages: str, dpi: float) -> OcrPage:
        """Read one image file (PNG, TIFF, JPEG, PNM) whose resolution is *dpi*."""
        ...


_VERSION_RE = re.compile(r"tesseract\s+v?(\d+\.\d+(?:\.\d+)?\S*)", re.IGNORECASE)


class TesseractEngine:
    """Tesseract via pytesseract; one process per page, single-threaded."""

    def __init__(self, command: str = "tesseract", *, timeout: float = 600.0, attempts: int = 3) -> None:
        self.command = command
        self.timeout = timeout
        self.attempts = attempts  # runs of a page whose Tesseract is killed by a signal (crash, OOM kill)
        self._version: str | None = None
        self._languages: frozenset[str] | None = None
        # Inherited by every Tesseract process pytesseract starts.
        os.environ["OMP_THREAD_LIMIT"] = "1"

    def _run(self, *args: str) -> str:
        try:
            proc = subprocess.run([self.command, *args], capture_output=True, text=True, timeout=60, check=False)
        except (FileNotFoundError, PermissionError) as exc:
            raise MissingDependencyError(
                f"找不到 OCR 引擎 Tesseract（{self.command}）：请安装 tesseract-ocr 及中文语言包"
                "（Debian/Ubuntu: apt-get install tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-osd）",
                f"the OCR engine Tesseract ({self.command}) was not found: install tesseract-ocr and the "
                "language models (Debian/Ubuntu: apt-get install tesseract-ocr tesseract-ocr-chi-sim "
                "tesseract-ocr-osd)",
            ) from exc
        return proc.stdout + proc.stderr

    def version(self) -> str:
        if self._version is None:
            out = self._run("--version")
            match = _VERSION_RE.search(out)
            if not match:
                raise MissingDependencyError(
                    f"无法识别 Tesseract 版本（{self.command} --version 输出：{out[:200]!r}）",
                    f"cannot tell the Tesseract version ({self.command} --version said {out[:200]!r})",
                )
            self._version = f"tesseract {match.group(1)}"
        return self._version

    def languages(self) -> frozenset[str]:
        if self._languages is None:
            self.version()
            lines = self._run("--list-langs").splitlines()
            self._languages = frozenset(
                line.strip() for line in lines if line.strip() and not line.startswith("List of")
            )
        return self._languages

    def check_languages(self, languages: str) -> None:
        wanted = [lang for lang in languages.split("+") if lang]
        if not wanted:
            raise MissingDependencyError("未指定 OCR 语言", "no OCR language given")
        missing = [lang for lang in [*wanted, "osd"] if lang not in self.languages()]
        if missing:
            names = ", ".join(missing)
            packages = " ".join(f"tesseract-ocr-{m.replace('_', '-')}" for m in missing)
            raise MissingDependencyError(
                f"Tesseract 缺少语言模型：{names}（Debian/Ubuntu: apt-get install {packages}）",
                f"Tesseract lacks the language model(s) {names} (Debian/Ubuntu: apt-get install {packages})",
            )

    def recognise(self, image: Path, languages: str, dpi: float) -> OcrPage:
        self.check_languages(languages)
        return parse_hocr(self._hocr(image, languages, dpi), languages=languages, dpi=dpi, engine=self.version())

    def _hocr(self, image: Path, languages: str, dpi: float) -> bytes:
        """Tesseract's hOCR; a run killed by a signal is run again, up to ``attempts`` runs."""
        attempt = 0
        while True:
            attempt += 1
            try:
                hocr: bytes = pytesseract.image_to_pdf_or_hocr(
                    str(image),
                    lang=languages,
                    config=f"--psm 1 --dpi {round(dpi)}",
                    extension="hocr",
                    timeout=self.timeout,
                )
                return hocr
            except pytesseract.TesseractNotFoundError as exc:
                raise MissingDependencyError("找不到 Tesseract", "Tesseract was not found") from exc
            except (pytesseract.TesseractError, RuntimeError) as exc:  # RuntimeError: pytesseract's timeout
                signal = -exc.status if isinstance(exc, pytesseract.TesseractError) and exc.status < 0 else 0
                if signal and attempt < self.attempts:
                    log.warning("tesseract killed by signal %d on %s; run %d of %d", signal, image.name,
                                attempt + 1, self.attempts)
                    continue
                if signal:
                    raise InputError(
                        f"Tesseract 处理 {image.name} 时 {self.attempts} 次被信号 {signal} 终止（崩溃或内存不足）",
                        f"Tesseract was killed by signal {signal} on {image.name} {self.attempts} times "
                        "(crash or out of memory)",
                    ) from exc
                raise InputError(
                    f"Tesseract 无法识别图像 {image.name}：{exc}", f"Tesseract could not read {image.name}: {exc}"
                ) from exc


# --- hOCR → OcrPage --------------------------------------------------------------------

_LINE_CLASSES = {"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"}
_BBOX_RE = re.compile(r"bbox\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)\s+(-?\d+)")
_ANGLE_RE = re.compile(r"textangle\s+(\d+)")
_CONF_RE = re.compile(r"x_wconf\s+(-?[\d.]+)")


def _bbox(title: str) -> tuple[int, int, int, int] | None:
    m = _BBOX_RE.search(title)
    return (int(m[1]), int(m[2]), int(m[3]), int(m[4])) if m else None


def _upright(box: tuple[int, int, int, int], rotation: int, size: tuple[int, int]) -> Box:
    """Map a box of the image as given into the frame of the image turned clockwise by *rotation*."""
    x0, y0, x1, y1 = box
    w, h = size
    if rotation == 90:
        return Box(h - y1, x0, h - y0, x1)
    if rotation == 180:
        return Box(w - x1, h - y1, w - x0, h - y0)
    if rotation == 270:
        return Box(y0, w - x1, y1, w - x0)
    return Box(x0, y0, x1, y1)


def parse_hocr(hocr: bytes, *, languages: str, dpi: float, engine: str) -> OcrPage:
    """Turn Tesseract's hOCR into an `OcrPage` in the page's upright frame."""
    root = etree.fromstring(hocr, parser=safexml.parser())
    ns = {"h": "http://www.w3.org/1999/xhtml"}
    page = root.find(".//h:div[@class='ocr_page']", ns)
    page_box = _bbox(page.get("title", "")) if page is not None else None
    if page is None or page_box is None:
        raise InputError("Tesseract 的 hOCR 输出中没有页面", "Tesseract's hOCR output has no page")
    size = (page_box[2], page_box[3])
    raw: list[tuple[int, tuple[int, int, int, int], list[tuple[str, tuple[int, int, int, int], float]]]] = []
    angles: Counter[int] = Counter()
    for block in page.iterfind(".//h:div[@class='ocr_carea']", ns):
        for line in block.iter("{http://www.w3.org/1999/xhtml}span"):
            if line.get("class") not in _LINE_CLASSES:
                continue
            title = line.get("title", "")
            line_box = _bbox(title)
            angle_match = _ANGLE_RE.search(title)
            angle = int(angle_match[1]) % 360 if angle_match else 0
            words = []
            for word in line.iterfind("h:span[@class='ocrx_word']", ns):
                text = "".join(str(t) for t in word.itertext()).strip()
                word_box = _bbox(word.get("title", ""))
                if not text or word_box is None:
                    continue
                conf = _CONF_RE.search(word.get("title", ""))
                words.append((unicodedata.normalize("NFC", text), word_box, float(conf[1]) if conf else 0.0))
            if words and line_box is not None:
                raw.append((angle, line_box, words))
                angles[angle] += sum(len(t) for t, _, _ in words)
    rotation = angles.most_common(1)[0][0] if angles else 0
    if rotation not in ROTATIONS:
        rotation = 0
    lines = tuple(
        OcrLine(
            words=tuple(OcrWord(t, _upright(b, rotation, size), c) for t, b, c in words),
            box=_upright(line_box, rotation, size),
        )
        for _angle, line_box, words in raw
    )
    upright_size = (size[1], size[0]) if rotation in (90, 270) else size
    return OcrPage(
        width=upright_size[0],
        height=upright_size[1],
        dpi=dpi,
        lines=lines,
        languages=languages,
        engine=engine,
        rotation=rotation,
        image_size=size,
    )


# --- images in, pages out --------------------------------------------------------------


def image_dpi(path: Path) -> float | None:
    """The resolution recorded in an image file, or None (JFIF aspect-only units are no resolution)."""
    try:
        with Image.open(path) as im:
            dpi = im.info.get("dpi")
    except (OSError, Image.DecompressionBombError) as exc:
        raise InputError(f"无法读取图像 {path.name}：{exc}", f"cannot read the image {path.name}: {exc}") from exc
    if not dpi:
        return None
    x = round(float(dpi[0]), 1)  # PNG stores pixels per metre: 300 dpi reads back as 299.9994
    return x if x > 1 else None


def _write_temp_image(array: np.ndarray[Any, Any], folder: Path) -> Path:
    if array.dtype == np.bool_:
        array = np.where(array, 255, 0).astype(np.uint8)
    if array.dtype != np.uint8 or array.ndim not in (2, 3):
        raise InputError(
            f"不支持的图像数组：{array.dtype} {array.shape}（需要 8 位灰度或 RGB）",
            f"unsupported image array {array.dtype} {array.shape} (need 8-bit grey or RGB)",
        )
    out = folder / "page.pnm"
    Image.fromarray(array).save(out, format="PPM")
    return out


_default_engine: TesseractEngine | None = None


def default_engine() -> TesseractEngine:
    global _default_engine
    if _default_engine is None:
        _default_engine = TesseractEngine()
    return _default_engine


def ocr_page(
    image: np.ndarray[Any, Any] | Path,
    languages: str = "chi_sim+eng",
    *,
    dpi: float | None = None,
    engine: OcrEngine | None = None,
) -> OcrPage:
    """OCR one page: an image file, or an 8-bit grey/RGB array (then *dpi* is required).

    The orientation is detected in the same run; see `OcrPage.rotation`.
    """
    engine = engine or default_engine()
    if isinstance(image, Path):
        if not image.is_file():
            raise InputError(f"图像文件不存在：{image}", f"no such image file: {image}")
        dpi = dpi or image_dpi(image)
        if not dpi:
            raise InputError(
                f"图像 {image.name} 未记录分辨率（dpi），无法确定页面尺寸",
                f"the image {image.name} records no resolution (dpi); the page size cannot be known",
            )
        return engine.recognise(image, languages, dpi)
    if not dpi:
        raise InputError("图像数组需要给出分辨率（dpi）", "an image array needs its resolution (dpi)")
    with tempfile.TemporaryDirectory(prefix="guidang-ocr-") as tmp:
        return engine.recognise(_write_temp_image(image, Path(tmp)), languages, dpi)


def ocr_pages(
    images: Sequence[Path],
    languages: str = "chi_sim+eng",
    *,
    jobs: int = 1,
    engine: OcrEngine | None = None,
) -> list[OcrPage]:
    """OCR several page files, *jobs* Tesseract processes at a time, results in input order."""
    engine = engine or default_engine()
    if jobs <= 1 or len(images) <= 1:
        return [ocr_page(p, languages, engine=engine) for p in images]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(lambda p: ocr_page(p, languages, engine=engine), images))
