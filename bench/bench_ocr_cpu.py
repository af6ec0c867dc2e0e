"""guidang's page path with each OCR engine, interleaved in one process: CPU seconds per page and CER.

Run ``python bench/bench_ocr_cpu.py [--skip N]`` from the project root after bench_ocr.py made its corpus.
For each non-blank page (from the N-th on): scan QA measurement, prepared grey derivative, OCR at 200 dpi
(`bench_ocr._guidang_page`), once with Tesseract and once with PP-OCR, the order alternating per page. CPU
seconds are this process's and its children's (Tesseract): on a machine shared with other work they are the
throughput a dedicated core would give, where wall-clock time is not. PP-OCR's first page includes loading
its models (once per worker process in the pipeline). Writes ``bench/results/ocr_cpu.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_ocr import _guidang_page

from guidang.ingest.textmetrics import levenshtein, normalise
from guidang.samples.truth import BatchTruth

HERE = Path(__file__).resolve().parent


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=HERE / "out" / "ocr" / "corpus-12p-s2024" / "truth.json")
    parser.add_argument("--skip", type=int, default=3, help="non-blank pages to leave out at the start")
    args = parser.parse_args(argv)
    truth = BatchTruth.load(args.corpus)
    pages = [p for p in truth.pages() if not p.blank][args.skip :]
    tally = {"tesseract": [0.0, 0, 0], "ppocr": [0.0, 0, 0]}
    rows = []
    load_before = [round(v, 2) for v in os.getloadavg()]
    for i, page in enumerate(pages):
        for engine in ("tesseract", "ppocr") if i % 2 == 0 else ("ppocr", "tesseract"):
            c0 = _cpu()
            ocr, _ = _guidang_page((str(truth.batch_dir / page.file), 200.0, engine))
            cpu = _cpu() - c0
            want = normalise(page.text)
            errors = levenshtein(want, normalise(ocr.text) if ocr else "")
            tally[engine][0] += cpu
            tally[engine][1] += errors
            tally[engine][2] += len(want)
            rows.append(f"| {page.file.rsplit('/', 1)[-1]} | {engine} | {cpu:.2f} | {errors / len(want):.4f} |")
            print(rows[-1], flush=True)
    summary = {k: {"cpu_s_per_page": round(v[0] / len(pages), 2), "cer": round(v[1] / v[2], 4), "pages": len(pages)}
               for k, v in tally.items()}  # fmt: skip
    ratio = round(summary["tesseract"]["cpu_s_per_page"] / summary["ppocr"]["cpu_s_per_page"], 2)
    result = {"corpus": str(args.corpus), "load_before": load_before,
              "load_after": [round(v, 2) for v in os.getloadavg()], "engines": summary,
              "ppocr_throughput_vs_tesseract": ratio,
              "ppocr_cer_vs_tesseract": round(summary["ppocr"]["cer"] / summary["tesseract"]["cer"], 3)}  # fmt: skip
    md = ["# guidang's page path, PP-OCR against Tesseract, CPU seconds (one process, interleaved)", "",
          f"{len(pages)} pages of {truth.batch_id}; load average before/after {result['load_before']} / "
          f"{result['load_after']} (a machine shared with other work).", "",
          "| page | engine | CPU s | CER |", "|---|---|---|---|", *rows, "",
          "| engine | CPU s/page | CER |", "|---|---|---|",
          *[f"| {k} | {v['cpu_s_per_page']} | {v['cer']} |" for k, v in summary.items()], "",
          f"PP-OCR throughput vs Tesseract: {ratio}; CER ratio {result['ppocr_cer_vs_tesseract']}."]  # fmt: skip
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "ocr_cpu.json").write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    (out / "ocr_cpu.md").write_text("\n".join(md) + "\n", "utf-8")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
