"""What a line's confidence says about its errors: the basis of ``ocr.low_confidence`` (INGEST-OCR).

Run ``python bench/bench_ocr_confidence.py [--pages N]`` from the project root after bench_ocr.py made its
corpus. Each engine reads the corpus's non-blank pages (as delivered, at 200 dpi); each line read is matched
to the truth line nearest to it (Levenshtein) and counted wrong when any character differs. Reported per
engine and confidence band: lines, and the share of them wrong. Writes ``bench/results/ocr_confidence.md``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import cv2

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from guidang.ingest.ocr import TesseractEngine, ocr_page
from guidang.ingest.ocr_ppocr import PpocrEngine
from guidang.ingest.textmetrics import levenshtein, normalise
from guidang.samples.truth import BatchTruth

HERE = Path(__file__).resolve().parent
BANDS = (0, 50, 70, 80, 90, 95, 101)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=HERE / "out" / "ocr" / "corpus-12p-s2024" / "truth.json")
    parser.add_argument("--pages", type=int, default=6)
    args = parser.parse_args(argv)
    truth = BatchTruth.load(args.corpus)
    pages = [p for p in truth.pages() if not p.blank][: args.pages]
    lines = ["# Line confidence against line errors", "",
             f"{len(pages)} non-blank pages of {truth.batch_id} at 200 dpi, as delivered (skewed, one upside down).",
             "", "| engine | confidence band | lines | wrong |", "|---|---|---|---|"]  # fmt: skip
    for name, engine in (("ppocr", PpocrEngine()), ("tesseract", TesseractEngine())):
        bands: dict[int, list[int]] = {b: [0, 0] for b in BANDS[:-1]}
        for page in pages:
            grey = cv2.imread(str(truth.batch_dir / page.file), cv2.IMREAD_GRAYSCALE)
            scale = 200 / page.dpi
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            ocr = ocr_page(grey, "chi_sim+eng", dpi=200, engine=engine)
            wanted = [normalise(t) for t in page.lines if normalise(t)]
            for line in ocr.lines:
                got = normalise(line.text)
                if not got or not wanted:
                    continue
                wrong = min(levenshtein(got, t) for t in wanted) > 0
                band = max(b for b in BANDS[:-1] if line.confidence >= b)
                bands[band][0] += 1
                bands[band][1] += wrong
        for lo, hi in itertools.pairwise(BANDS):
            n, bad = bands[lo]
            share = f"{bad / n:.2f}" if n else "—"
            lines.append(f"| {name} | {lo}–{min(hi, 100)} | {n} | {share} |")
            print(name, lo, n, share, flush=True)
    out = HERE / "results" / "ocr_confidence.md"
    out.write_text("\n".join(lines) + "\n", "utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
