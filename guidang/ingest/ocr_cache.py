"""A cache of OCR results on disk, keyed by what determines them.

The key is the SHA-256 of the image file, the languages, the resolution and the
engine's name and version, so a different Tesseract or model never serves a stale
answer. Used by the tests (``tests/.cache``, git-ignored) so most of them do not run
Tesseract, and usable for re-runs of an item whose pages have not changed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from guidang.fsutil import replace_file
from guidang.ingest.ocr import OcrEngine, OcrPage


class CachedEngine:
    """Wraps an `OcrEngine`; `recognise` answers from *folder* when it can."""

    def __init__(self, inner: OcrEngine, folder: Path) -> None:
        self.inner = inner
        self.folder = folder
        self.hits = 0
        self.misses = 0

    def version(self) -> str:
        return self.inner.version()

    def check_languages(self, languages: str) -> None:
        self.inner.check_languages(languages)

    def key(self, image: Path, languages: str, dpi: float) -> str:
        digest = hashlib.sha256(image.read_bytes()).hexdigest()
        material = json.dumps([digest, languages, round(dpi, 3), self.inner.version()])
        return hashlib.sha256(material.encode()).hexdigest()

    def recognise(self, image: Path, languages: str, dpi: float) -> OcrPage:
        path = self.folder / f"{self.key(image, languages, dpi)}.json"
        if path.is_file():
            try:
                page = OcrPage.from_dict(json.loads(path.read_text(encoding="utf-8")))
            except (ValueError, KeyError, TypeError):
                path.unlink(missing_ok=True)
            else:
                self.hits += 1
                return page
        page = self.inner.recognise(image, languages, dpi)
        self.misses += 1
        self.folder.mkdir(parents=True, exist_ok=True)
        replace_file(path, json.dumps(page.to_dict(), ensure_ascii=False).encode("utf-8"))
        return page
