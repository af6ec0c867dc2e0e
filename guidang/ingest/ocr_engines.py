"""Which OCR engine reads a page: ``ocr.engine`` ("ppocr" or "tesseract"), one instance per process.

`engine_for` is the one place an engine is built for a page task (the pipeline's worker pool,
and a Celery worker alike): the instance is cached for the life of the process, so PP-OCR's ONNX
sessions load once per worker. PP-OCR falls back to Tesseract, with a warning in the log, when
the languages asked for are not all covered by its Chinese model (``chi_sim``, ``chi_tra``,
``eng``) or when onnxruntime or its models cannot load. The choice of the default is a
measurement (docs/ocr-engines.md).
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Literal

from guidang.errors import MissingDependencyError
from guidang.ingest.ocr import OcrEngine, default_engine
from guidang.ingest.ocr_ppocr import COVERED_LANGUAGES, PpocrEngine

log = logging.getLogger(__name__)

EngineName = Literal["ppocr", "tesseract"]
ENGINES: tuple[EngineName, ...] = ("ppocr", "tesseract")


@cache
def _ppocr() -> PpocrEngine | None:
    engine = PpocrEngine()
    try:
        engine.version()  # loads the three ONNX sessions
    except MissingDependencyError as exc:
        log.warning("PP-OCR unavailable, Tesseract reads instead: %s", exc.message("en"))
        return None
    return engine


def covers(languages: str) -> bool:
    """Whether PP-OCR's Chinese model reads every language of a ``chi_sim+eng``-style string."""
    wanted = [lang for lang in languages.split("+") if lang]
    return bool(wanted) and all(lang in COVERED_LANGUAGES for lang in wanted)


def engine_for(name: str, languages: str) -> OcrEngine:
    """The engine of this process for ``ocr.engine`` *name* and *languages*."""
    if name not in ENGINES:
        raise ValueError(f"unknown OCR engine {name!r} (one of {', '.join(ENGINES)})")
    if name == "ppocr":
        if not covers(languages):
            log.info("PP-OCR does not cover %s: Tesseract reads these pages", languages)
        else:
            engine = _ppocr()
            if engine is not None:
                return engine
    return default_engine()
