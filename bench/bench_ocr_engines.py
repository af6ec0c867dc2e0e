"""Is keeping the Tesseract model loaded between pages worth a second binding (tesserocr)?

Run ``python bench/bench_ocr_engines.py [page images…]`` from the project root. It measures,
with ``OMP_THREAD_LIMIT=1``:

* ``load``: a Tesseract process that loads ``chi_sim+eng`` and reads a tiny blank image,
  i.e. what one process per page (pytesseract) pays on top of the recognition;
* ``page``: the same process on real pages (default: the first pages of the OCR benchmark
  corpus, ``bench/out/ocr``);
* if ``tesserocr`` is importable (it is not a guidang dependency): one ``PyTessBaseAPI`` kept
  for all pages against a new one per page, the comparison the choice is about.

Writes ``bench/results/ocr_engines.json``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LANGS = "chi_sim+eng"


def _tesseract(image: Path) -> float:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    t0 = time.perf_counter()
    subprocess.run(["tesseract", str(image), "-", "-l", LANGS, "--psm", "1"], env=env, capture_output=True, check=True)
    return time.perf_counter() - t0


def _tesserocr(pages: list[Path]) -> dict[str, float] | None:
    try:
        import tesserocr
    except ImportError:
        return None
    os.environ["OMP_THREAD_LIMIT"] = "1"
    path = "/usr/share/tesseract-ocr/5/tessdata/"
    t0 = time.perf_counter()
    for page in pages:
        with tesserocr.PyTessBaseAPI(path=path, lang=LANGS) as api:
            api.SetImageFile(str(page))
            api.GetUTF8Text()
    fresh = (time.perf_counter() - t0) / len(pages)
    t0 = time.perf_counter()
    with tesserocr.PyTessBaseAPI(path=path, lang=LANGS) as api:
        for page in pages:
            api.SetImageFile(str(page))
            api.GetUTF8Text()
    kept = (time.perf_counter() - t0) / len(pages)
    return {"new_api_per_page_s": round(fresh, 3), "kept_api_per_page_s": round(kept, 3)}


def main(argv: list[str]) -> int:
    from PIL import Image

    pages = [Path(a) for a in argv] or sorted((HERE / "out" / "ocr").glob("corpus-*/*/*/*-0002.tif"))[:4]
    if not pages:
        raise SystemExit("no page images: run bench/bench_ocr.py first or name some")
    with tempfile.TemporaryDirectory() as tmp:
        blank = Path(tmp) / "blank.png"
        Image.new("L", (200, 80), 255).save(blank, dpi=(300, 300))
        load = [_tesseract(blank) for _ in range(8)]
    page = [_tesseract(p) for p in pages]
    result: dict[str, Any] = {
        "pages": [str(p) for p in pages],
        "load_s_median": round(statistics.median(load), 3),
        "page_s_median": round(statistics.median(page), 3),
        "load_share_of_page": round(statistics.median(load) / statistics.median(page), 4),
        "load_avg": [round(v, 2) for v in os.getloadavg()],
        "tesserocr": _tesserocr(pages),
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "ocr_engines.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
