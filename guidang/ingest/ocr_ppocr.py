"""OCR with PP-OCRv4 through ONNX Runtime (``rapidocr-onnxruntime``), behind `OcrEngine`.

The detection, direction-classification and recognition models ship inside the
``rapidocr-onnxruntime`` wheel, so nothing is fetched at run time. One recogniser reads
simplified and traditional Chinese and English alike: the *languages* argument only
checks that nothing outside those is asked for (Tesseract serves other languages).

The steps are the library's own (detector, classifier, recogniser, character boxes), run
here one by one so that the page's orientation comes from the same passes:

* the detector runs on the page at ``det_dpi`` (text lines are tens of pixels high even
  there) and its boxes are scaled back; lines are cut from the page at its full resolution
  and recognised one at a time (a batch is padded to its widest line);
* mostly tall line boxes mean a page turned by 90 or 270 degrees: the lines, laid flat,
  go through the 0/180 classifier, whose majority says which way; mostly wide boxes and a
  classifier majority of 180 mean an upside-down page;
* a page found turned is turned upright and detected again (a run costs one detection
  more, only on such pages), so every box is in the upright frame, as `OcrPage` wants;
* the recogniser's alignment (``return_word_box``) gives a box for every CJK character and
  every Latin word, which the text layer places glyph by glyph.

ONNX Runtime runs each model with one intra-op thread: pages are what guidang
parallelises (one engine per worker process, `guidang.ingest.ocr_engines.engine_named`).
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from guidang.errors import InputError, MissingDependencyError
from guidang.ingest.cjktext import is_cjk
from guidang.ingest.ocr import Box, OcrLine, OcrPage, OcrWord

log = logging.getLogger(__name__)

# Tesseract language codes that PP-OCR's Chinese recogniser covers (its dictionary holds
# simplified and traditional characters, Latin letters, digits and punctuation).
COVERED_LANGUAGES = frozenset({"chi_sim", "chi_tra", "eng"})
_TALL = 1.5  # a line box at least this much taller than wide is a column (the library's own rule)


@dataclass(frozen=True)
class PpocrOptions:
    # resolution the detector sees (lines are cut from the page as given): 100 dpi read the bench pages
    # better and 36% faster than 150 (docs/ocr-engines.md)
    det_dpi: float = 100.0
    # lines per recogniser run: a batch is padded to its widest line; one at a time cost 47% less (ibid.)
    rec_batch: int = 1
    text_score: float = 0.5  # lines the recogniser reads with less confidence are dropped (library default)
    threads: int = 1  # intra-op threads per model


def _quad_box(points: Any) -> Box:
    arr = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    return Box(float(arr[:, 0].min()), float(arr[:, 1].min()), float(arr[:, 0].max()), float(arr[:, 1].max()))


def _union(boxes: Sequence[Box]) -> Box:
    return Box(min(b.left for b in boxes), min(b.top for b in boxes),
               max(b.right for b in boxes), max(b.bottom for b in boxes))


def _per_char(text: str, line_box: Box, confidence: float, pieces: Sequence[str], piece_boxes: Sequence[Any],
              piece_confidences: Sequence[float]) -> list[tuple[Box, float]]:
    """A box and a confidence for every non-space character of *text*: the recogniser's pieces (a CJK
    character or a Latin run) split evenly over their characters; an even split of the line, at the
    line's confidence, when they disagree with the text."""
    chars = [c for c in text if not c.isspace()]
    out: list[tuple[Box, float]] = []
    if len(pieces) == len(piece_boxes) and "".join(pieces).replace(" ", "") == "".join(chars):
        confs = list(piece_confidences) if len(piece_confidences) == len(pieces) else [confidence] * len(pieces)
        for piece, quad, conf in zip(pieces, piece_boxes, confs, strict=True):
            glyphs = piece.replace(" ", "")
            if not glyphs:
                continue
            b = _quad_box(quad)
            step = b.width / len(glyphs)
            out.extend((Box(b.left + i * step, b.top, b.left + (i + 1) * step, b.bottom), conf)
                       for i in range(len(glyphs)))
        if len(out) == len(chars):
            return out
    step = line_box.width / max(len(chars), 1)
    return [(Box(line_box.left + i * step, line_box.top, line_box.left + (i + 1) * step, line_box.bottom), confidence)
            for i in range(len(chars))]


def words_of_line(text: str, confidence: float, line_box: Box, pieces: Sequence[str],
                  piece_boxes: Sequence[Any], piece_confidences: Sequence[float]) -> OcrLine | None:
    """One recognised line as `OcrWord`s: each CJK character a word, each run of other characters a word.

    A word's confidence (0–100) is the lowest of its characters' where the recogniser gave them, else the line's.
    """
    text = unicodedata.normalize("NFC", text).strip()
    if not text:
        return None
    chars = _per_char(text, line_box, confidence, pieces, piece_boxes, piece_confidences)
    glyphs = [c for c in text if not c.isspace()]
    words: list[OcrWord] = []
    run: list[int] = []  # indexes of the Latin run being gathered

    def flush() -> None:
        if run:
            words.append(OcrWord("".join(glyphs[i] for i in run), _union([chars[i][0] for i in run]),
                                 round(100 * min(chars[i][1] for i in run), 2)))
            run.clear()

    n = 0
    for c in text:
        if c.isspace():
            flush()
            continue
        if is_cjk(c):
            flush()
            words.append(OcrWord(c, chars[n][0], round(100 * chars[n][1], 2)))
        else:
            run.append(n)
        n += 1
    flush()
    return OcrLine(tuple(words), _union([w.box for w in words])) if words else None


class PpocrEngine:
    """PP-OCRv4 (ONNX) through rapidocr-onnxruntime; the models load on first use, once per process."""

    def __init__(self, options: PpocrOptions | None = None) -> None:
        self.options = options or PpocrOptions()
        self._ocr: Any = None
        self._version: str | None = None
        self._lock = threading.Lock()  # one ONNX session set; threads of one process take turns

    def _load(self) -> Any:
        if self._ocr is None:
            try:
                import onnxruntime
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:  # also the OSError of a broken native library, re-raised as ImportError
                raise MissingDependencyError(
                    f"无法加载 PP-OCR（rapidocr-onnxruntime / onnxruntime）：{exc}",
                    f"PP-OCR cannot be loaded (rapidocr-onnxruntime / onnxruntime): {exc}",
                ) from exc
            try:  # the library copies its global thread settings over the per-model ones
                self._ocr = RapidOCR(intra_op_num_threads=self.options.threads,
                                     inter_op_num_threads=self.options.threads)
                self._ocr.text_rec.rec_batch_num = self.options.rec_batch
            except Exception as exc:  # a model that will not load: the caller falls back to Tesseract
                raise MissingDependencyError(
                    f"PP-OCR 模型无法加载：{exc}", f"the PP-OCR models cannot be loaded: {exc}"
                ) from exc
            self._version = (f"ppocr PP-OCRv4 (rapidocr-onnxruntime {_dist_version()}, "
                             f"onnxruntime {onnxruntime.__version__}; detector at {self.options.det_dpi:g} dpi)")
        return self._ocr

    def version(self) -> str:
        self._load()
        assert self._version is not None
        return self._version

    def check_languages(self, languages: str) -> None:
        wanted = [lang for lang in languages.split("+") if lang]
        if not wanted:
            raise MissingDependencyError("未指定 OCR 语言", "no OCR language given")
        other = [lang for lang in wanted if lang not in COVERED_LANGUAGES]
        if other:
            names = ", ".join(other)
            raise MissingDependencyError(
                f"PP-OCR 的中文模型不支持语言 {names}：请为该档案库使用 ocr_engine = \"tesseract\"",
                f"PP-OCR's Chinese model does not cover {names}: use ocr_engine = \"tesseract\" for this profile",
            )

    def recognise(self, image: Path, languages: str, dpi: float) -> OcrPage:
        self.check_languages(languages)
        pixels = cv2.imread(str(image), cv2.IMREAD_COLOR)
        if pixels is None:
            raise InputError(f"PP-OCR 无法读取图像 {image.name}", f"PP-OCR cannot read the image {image.name}")
        with self._lock:
            return self.recognise_array(pixels, languages, dpi)

    # --- the passes -------------------------------------------------------------------------

    def _detect(self, bgr: np.ndarray[Any, Any], dpi: float) -> list[np.ndarray[Any, Any]]:
        ocr = self._load()
        scale = min(1.0, self.options.det_dpi / dpi) if dpi else 1.0
        small = bgr if scale >= 1.0 else cv2.resize(bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        boxes, _ = ocr.text_det(small)
        if boxes is None or len(boxes) == 0:
            return []
        found = [np.asarray(b, dtype=np.float32) / scale for b in ocr.sorted_boxes(np.asarray(boxes))]
        h, w = bgr.shape[:2]
        for b in found:
            b[:, 0] = np.clip(b[:, 0], 0, w - 1)
            b[:, 1] = np.clip(b[:, 1], 0, h - 1)
        return found

    def _classify(self, crops: list[np.ndarray[Any, Any]]
                  ) -> tuple[list[np.ndarray[Any, Any]], list[tuple[str, float]]]:
        crops, labels, _ = self._load().text_cls(crops)
        return crops, [(str(label), float(score)) for label, score in labels]

    def _orientation(self, boxes: list[np.ndarray[Any, Any]], crops: list[np.ndarray[Any, Any]],
                     labels: list[tuple[str, float]]) -> int:
        """How far the page as given must be turned clockwise to be upright (0, 90, 180, 270)."""
        tall = wide = 0.0
        flipped = {True: 0.0, False: 0.0}  # area of tall lines classified 180 (True) or 0 (False)
        wide_flipped = {True: 0.0, False: 0.0}
        thresh = self._load().text_cls.cls_thresh
        for box, (label, score) in zip(boxes, labels, strict=True):
            b = _quad_box(box)
            area = b.width * b.height
            is_180 = "180" in label and score > thresh
            if b.height >= _TALL * max(b.width, 1.0):
                tall += area
                flipped[is_180] += area
            else:
                wide += area
                wide_flipped[is_180] += area
        if tall > wide:
            # the library lays a tall crop flat by turning it 90° anticlockwise: upright then (classifier 0)
            # means the page was turned clockwise, so it needs 270° more; upside down (180) means 90°
            return 90 if flipped[True] > flipped[False] else 270
        return 180 if wide_flipped[True] > wide_flipped[False] else 0

    def recognise_array(self, bgr: np.ndarray[Any, Any], languages: str, dpi: float) -> OcrPage:
        """Read a BGR (or grey) page array whose resolution is *dpi*."""
        ocr = self._load()
        if bgr.ndim == 2:
            bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
        given = (int(bgr.shape[1]), int(bgr.shape[0]))
        boxes = self._detect(bgr, dpi)
        rotation = 0
        if boxes:
            crops, labels = self._classify(ocr.get_crop_img_list(bgr, boxes))
            rotation = self._orientation(boxes, crops, labels)
            if rotation:
                turn = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
                bgr = cv2.rotate(bgr, turn[rotation])
                boxes = self._detect(bgr, dpi)
                crops, labels = self._classify(ocr.get_crop_img_list(bgr, boxes)) if boxes else ([], [])
        lines: list[OcrLine] = []
        if boxes:
            rec, _ = ocr.text_rec(crops, True)
            rec = ocr.cal_rec_boxes(crops, boxes, rec)
            for box, (text, conf, piece_boxes, pieces, piece_confs) in zip(boxes, rec, strict=True):
                if float(conf) < self.options.text_score:
                    continue
                line = words_of_line(str(text), float(conf), _quad_box(box), list(pieces), list(piece_boxes or []),
                                     [float(c) for c in piece_confs])
                if line is not None:
                    lines.append(line)
        upright = (given[1], given[0]) if rotation in (90, 270) else given
        return OcrPage(width=upright[0], height=upright[1], dpi=dpi, lines=tuple(lines), languages=languages,
                       engine=self.version(), rotation=rotation, image_size=given)


def _dist_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rapidocr-onnxruntime")
    except PackageNotFoundError:
        return "?"
