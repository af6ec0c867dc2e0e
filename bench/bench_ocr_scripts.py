"""PP-OCR and Tesseract by script and layout, the boxes each gives, orientation, and a 600 dpi A3 page.

Run ``python bench/bench_ocr_scripts.py`` from the project root. One thread per engine, pages one
after another, both engines on the same pages in the same run. Pages are rendered by
`guidang.samples.render` at 300 dpi with noise, blur and JPEG artefacts but no skew, border or turn,
so that the truth's character boxes (`PageTruth.char_boxes`' source, `RenderedPage.char_boxes`) are
in the frame the engines read:

* ``hans``/``hant``: a page of a simplified / traditional 公文; ``vertical``: a traditional page set
  in columns (竖排), read by PP-OCR, Tesseract ``chi_tra+eng`` and Tesseract ``chi_tra_vert``.
* character boxes: of every single-CJK-character word an engine returns, the share whose centre
  falls in the truth box of the same character, and their mean IoU with it.
* orientation: each ``hans`` page turned by 90, 180 and 270 degrees; PP-OCR's own finding
  (line shapes and its 0/180 classifier, one more detection on a turned page) against
  Tesseract's OSD (``--psm 0``), which guidang's Tesseract path gets inside its ``--psm 1`` run:
  right answers and seconds each.
* A3: one 600 dpi colour A3 page; guidang's path (scan QA measurement, prepared grey derivative,
  OCR at 200 dpi) with each engine against bare Tesseract on the page as delivered.

Writes ``bench/results/ocr_scripts.json`` and ``ocr_scripts.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from guidang.ingest.ocr import OcrPage, TesseractEngine, ocr_page
from guidang.ingest.ocr_ppocr import PpocrEngine
from guidang.ingest.ocr_scan import ocr_prepared
from guidang.ingest.prepare import prepare_page
from guidang.ingest.scanqa import ScanQAOptions, inspect_page
from guidang.ingest.textmetrics import cer
from guidang.samples.degrade import Degradation, degrade
from guidang.samples.render import A3_MM, RenderedPage, RenderOptions, render_document, render_vertical_page
from guidang.samples.texts import compose_document

HERE = Path(__file__).resolve().parent
NOISE = Degradation(noise_sigma=5.0, blur_sigma=0.8, jpeg_quality=60)


def _save(page: RenderedPage, path: Path, dpi: int, seed: int, *, colour: bool = False) -> Path:
    image = page.image.convert("RGB" if colour else "L")
    degrade(image, NOISE, seed).save(path, dpi=(dpi, dpi), quality=60)
    return path


def _pages(folder: Path, count: int) -> dict[str, list[tuple[Path, RenderedPage]]]:
    out: dict[str, list[tuple[Path, RenderedPage]]] = {"hans": [], "hant": [], "vertical": []}
    opts = RenderOptions(red_header=False, seal=False, colour=False)
    for n in range(count):
        for script in ("hans", "hant"):
            doc = compose_document(np.random.default_rng([7, n, script == "hant"]), script=script, english=True)
            page = render_document(doc, 1, opts)[0]
            out[script].append((_save(page, folder / f"{script}-{n}.jpg", 300, n), page))
        doc = compose_document(np.random.default_rng([8, n]), script="hant", english=False)
        text = "".join(doc.paragraphs)
        columns = [text[i : i + 36] for i in range(0, 36 * 14, 36)]
        page = render_vertical_page(columns, script="hant")
        out["vertical"].append((_save(page, folder / f"vertical-{n}.jpg", 300, n), page))
    return out


def _box_scores(ocr: OcrPage, truth: RenderedPage) -> tuple[int, int, float]:
    """(single CJK characters returned, of them centred in the same character's truth box, summed IoU)."""
    boxes: dict[str, list[tuple[int, int, int, int]]] = {}
    for line in truth.char_boxes:
        for char, *box in line:
            boxes.setdefault(char, []).append((box[0], box[1], box[2], box[3]))
    returned = hit = 0
    iou_sum = 0.0
    for line in ocr.lines:
        for word in line.words:
            if len(word.text) != 1 or not ("\u3400" <= word.text <= "\u9fff"):
                continue
            returned += 1
            b = word.box
            cx, cy = (b.left + b.right) / 2, (b.top + b.bottom) / 2
            for left, top, right, bottom in boxes.get(word.text, []):
                if left <= cx <= right and top <= cy <= bottom:
                    hit += 1
                    ix = max(0.0, min(b.right, right) - max(b.left, left))
                    iy = max(0.0, min(b.bottom, bottom) - max(b.top, top))
                    inter = ix * iy
                    union = b.width * b.height + (right - left) * (bottom - top) - inter
                    iou_sum += inter / union if union else 0.0
                    break
    return returned, hit, iou_sum


def _read(engine: Any, path: Path, languages: str) -> tuple[OcrPage, float]:
    t0 = time.perf_counter()
    page = ocr_page(path, languages, engine=engine)
    return page, time.perf_counter() - t0


def scripts_and_boxes(pages: dict[str, list[tuple[Path, RenderedPage]]]) -> dict[str, Any]:
    contenders = {
        "hans": [("ppocr", "chi_sim+eng"), ("tesseract", "chi_sim+eng")],
        "hant": [("ppocr", "chi_sim+eng"), ("tesseract", "chi_sim+eng"), ("tesseract", "chi_tra+eng")],
        "vertical": [("ppocr", "chi_tra"), ("tesseract", "chi_tra+eng"), ("tesseract", "chi_tra_vert")],
    }
    engines = {"ppocr": PpocrEngine(), "tesseract": TesseractEngine()}
    out: dict[str, Any] = {}
    for kind, plist in pages.items():
        for name, languages in contenders[kind]:
            errors = chars = returned = hit = 0
            iou = seconds = 0.0
            for path, truth in plist:
                page, dt = _read(engines[name], path, languages)
                seconds += dt
                errors += round(cer(truth.text, page.text) * len("".join(truth.text.split())))
                chars += len("".join(truth.text.split()))
                r, h, i = _box_scores(page, truth)
                returned, hit, iou = returned + r, hit + h, iou + i
            out[f"{kind} / {name} {languages}"] = {
                "pages": len(plist), "cer": round(errors / max(chars, 1), 4),
                "s_per_page": round(seconds / len(plist), 2),
                "cjk_boxes": returned, "centred_in_truth": round(hit / max(returned, 1), 4),
                "mean_iou": round(iou / max(hit, 1), 3),
            }  # fmt: skip
            print(kind, name, languages, out[f"{kind} / {name} {languages}"], flush=True)
    return out


def _osd(path: Path) -> tuple[int | None, float]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run(["tesseract", str(path), "-", "--psm", "0"], capture_output=True, text=True, env=env,
                          check=False)
    dt = time.perf_counter() - t0
    for line in (proc.stdout + proc.stderr).splitlines():
        if line.startswith("Rotate:"):
            return int(line.split(":")[1]), dt
    return None, dt


def orientation(pages: list[tuple[Path, RenderedPage]], folder: Path) -> dict[str, Any]:
    from PIL import Image

    engine = PpocrEngine()
    tally: dict[str, dict[str, float]] = {"ppocr": {"right": 0, "pages": 0, "seconds": 0.0},
                                          "tesseract_osd": {"right": 0, "pages": 0, "seconds": 0.0}}
    for path, _ in pages:
        for turned in (0, 90, 180, 270):
            target = folder / f"turned-{turned}-{path.name}"
            with Image.open(path) as im:
                im.rotate(turned, expand=True).save(target, dpi=(300, 300))  # counter-clockwise
            page, dt = _read(engine, target, "chi_sim+eng")
            tally["ppocr"]["right"] += page.rotation == turned
            tally["ppocr"]["pages"] += 1
            tally["ppocr"]["seconds"] += dt
            found, dt = _osd(target)
            tally["tesseract_osd"]["right"] += found == turned
            tally["tesseract_osd"]["pages"] += 1
            tally["tesseract_osd"]["seconds"] += dt
    return {name: {"right": int(t["right"]), "pages": int(t["pages"]),
                   "s_per_page": round(t["seconds"] / max(t["pages"], 1), 2)} for name, t in tally.items()}


def _guidang(path: Path, engine: Any) -> tuple[OcrPage, float]:
    from PIL import Image

    t0 = time.perf_counter()
    options = ScanQAOptions(osd="never")
    measurement = inspect_page(path, options)
    prepared = prepare_page(path, measurement, options, grey=True)
    with Image.open(path) as im:
        size = im.size
    page, _ = ocr_prepared(prepared.image, prepared.dpi, prepared.operations, size, "chi_sim+eng", ocr_dpi=200,
                           engine=engine)
    return page, time.perf_counter() - t0


def a3(folder: Path) -> dict[str, Any]:
    opts = RenderOptions(dpi=600, paper_mm=A3_MM, body_pt=16.0)
    doc = compose_document(np.random.default_rng([9, 1]), script="hans", english=True)
    page = render_document(doc, 1, opts)[0]
    path = _save(page, folder / "a3-600dpi.jpg", 600, 1, colour=True)
    out: dict[str, Any] = {"size_px": list(page.image.size)}
    for name, engine in (("guidang ppocr", PpocrEngine()), ("guidang tesseract", TesseractEngine())):
        result, dt = _guidang(path, engine)
        out[name] = {"s_per_page": round(dt, 2), "cer": round(cer(page.text, result.text), 4)}
        print(name, out[name], flush=True)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run(["tesseract", str(path), "-", "-l", "chi_sim+eng"], capture_output=True, text=True, env=env,
                          check=True)
    out["bare tesseract (600 dpi as delivered)"] = {"s_per_page": round(time.perf_counter() - t0, 2),
                                                     "cer": round(cer(page.text, proc.stdout), 4)}
    bare = out["bare tesseract (600 dpi as delivered)"]["s_per_page"]
    for name in ("guidang ppocr", "guidang tesseract"):
        out[name]["pages_per_s_vs_bare_tesseract"] = round(bare / out[name]["s_per_page"], 2)
    return out


def _markdown(r: dict[str, Any]) -> str:
    lines = ["# OCR engines by script, boxes, orientation and a 600 dpi A3 page", "",
             f"One run, pages one after another, one thread per engine; load average before/after "
             f"{r['load_before']} / {r['load_after']} (the machine was shared with other work).", "",
             "| pages / engine | CER | s/page | CJK char boxes | centred in truth box | mean IoU |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for name, s in r["scripts"].items():
        lines.append(f"| {name} | {s['cer']} | {s['s_per_page']} | {s['cjk_boxes']} | {s['centred_in_truth']} | "
                     f"{s['mean_iou']} |")
    lines += ["", "Orientation (pages turned 0/90/180/270):", "", "| finder | right | s/page |", "|---|---|---|"]
    for name, s in r["orientation"].items():
        lines.append(f"| {name} | {s['right']}/{s['pages']} | {s['s_per_page']} |")
    lines += ["", f"A3 at 600 dpi, colour ({r['a3']['size_px'][0]}×{r['a3']['size_px'][1]} px):", "",
              "| path | s/page | CER | pages/s vs bare Tesseract |", "|---|---|---|---|"]
    for name, s in r["a3"].items():
        if isinstance(s, dict):
            lines.append(f"| {name} | {s['s_per_page']} | {s['cer']} | {s.get('pages_per_s_vs_bare_tesseract', '—')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2, help="pages of each kind")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--skip", nargs="*", default=[], choices=["scripts", "orientation", "a3"])
    args = parser.parse_args(argv)
    os.environ["OMP_THREAD_LIMIT"] = "1"
    result: dict[str, Any] = {"load_before": [round(v, 2) for v in os.getloadavg()]}
    with tempfile.TemporaryDirectory(prefix="bench-scripts-") as tmp:
        folder = Path(tmp)
        pages = _pages(folder, args.pages)
        result["scripts"] = {} if "scripts" in args.skip else scripts_and_boxes(pages)
        result["orientation"] = {} if "orientation" in args.skip else orientation(pages["hans"], folder)
        print(result["orientation"], flush=True)
        result["a3"] = {"size_px": [0, 0]} if "a3" in args.skip else a3(folder)
    result["load_after"] = [round(v, 2) for v in os.getloadavg()]
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "ocr_scripts.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
    (args.results / "ocr_scripts.md").write_text(_markdown(result), "utf-8")
    print(_markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
