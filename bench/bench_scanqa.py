"""Scan-QA benchmark: pages/s of the full DA/T 31 scan-QA pass, against OCR time for the same pages.

Run ``python bench/bench_scanqa.py`` from the project root (``--help`` for options). The corpus is
:func:`guidang.samples.corpus.make_bench_corpus` (default 24 A4 pages at 300 dpi, TIFF, degraded
like a production scanner: skew, noise, grey paper, borders, JPEG artefacts, blank pages and one
upside-down page), made once under ``bench/out/scanqa/``. Measured:

* ``scan QA pass``: :func:`inspect_batch` (one header read and one decode per page, every
  measurement, Tesseract OSD where the layout heuristic is unsure) + :func:`batch_context` +
  every SCAN-* check per item, with 1 and with 2 jobs; also with OSD switched off, to show what
  OSD costs;
* ``prepare``: :func:`prepare_page` (rotate, deskew, crop, grey) for every page: the derivative
  the OCR reads (reported apart: it is image preparation, not QA);
* ``OCR reference``: bare ``tesseract <page> stdout -l chi_sim+eng`` (``OMP_THREAD_LIMIT=1``,
  one page at a time) on ``--ocr-pages`` non-blank pages of the same corpus. Each of those pages
  is also put through scan QA right before its OCR run, so the paired ratio compares the two in
  the same time window on a shared machine.

Goal: scan QA under 10% of the OCR time of the same pages. Figures go to
``bench/results/scanqa.json`` and ``scanqa.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal, cast

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from guidang.ingest.prepare import prepare_page
from guidang.ingest.scanqa import ScanQAOptions, inspect_batch, inspect_page
from guidang.samples.corpus import make_bench_corpus
from guidang.samples.truth import BatchTruth
from guidang.validators.scan_checks import ScanItemSubject, batch_context, run_scan_checks

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results"


def corpus(pages: int, seed: int, dpi: int, fmt: Literal["tiff", "jpeg"]) -> BatchTruth:
    folder = ROOT / "out" / "scanqa" / f"{fmt}-{dpi}-{pages}-{seed}"
    truth_path = folder / "truth.json"
    if truth_path.exists():
        return BatchTruth.load(truth_path)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return make_bench_corpus(folder / "drop", pages=pages, seed=seed, dpi=dpi, image_format=fmt, truth_path=truth_path)


def qa_pass(
    items: dict[str, list[Path]], counts: dict[str, int], options: ScanQAOptions, jobs: int
) -> dict[str, float]:
    start, cpu0 = time.perf_counter(), _cpu()
    batch = inspect_batch(items, options, jobs=jobs)
    ctx = batch_context(batch, options)
    failures = 0
    for code, item in batch.items.items():
        report = run_scan_checks(ScanItemSubject.of(item, counts[code], options, ctx))
        failures += len(report.failures)
    seconds = time.perf_counter() - start
    pages = len(batch.pages)
    return {
        "pages": pages,
        "jobs": jobs,
        "seconds": round(seconds, 3),
        "pages_per_s": round(pages / seconds, 2),
        "ms_per_page": round(1000 * seconds / pages, 1),
        "cpu_s": round(_cpu() - cpu0, 3),  # this process and its children (Tesseract OSD)
        "cpu_ms_per_page": round(1000 * (_cpu() - cpu0) / pages, 1),
        "osd_pages": sum(1 for p in batch.pages if p.osd_seconds > 0),
        "osd_seconds": round(sum(p.osd_seconds for p in batch.pages), 3),
        "blocking_failures": failures,
    }


def _cpu() -> float:
    """CPU seconds of this process and its finished children: fair on a machine shared with others."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def tesseract_page(path: Path, languages: str) -> tuple[float, float]:
    """Wall and CPU seconds of bare Tesseract on one page."""
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    start, cpu0 = time.perf_counter(), _cpu()
    subprocess.run(["tesseract", str(path), "stdout", "-l", languages], check=True, capture_output=True, env=env)
    return time.perf_counter() - start, _cpu() - cpu0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=24)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--format", choices=("tiff", "jpeg"), default="tiff")
    parser.add_argument("--ocr-pages", type=int, default=6, help="pages OCRed for the reference (spread out)")
    parser.add_argument("--languages", default="chi_sim+eng")
    args = parser.parse_args(argv)
    if shutil.which("tesseract") is None:
        print("tesseract is not installed", file=sys.stderr)
        return 3

    truth = corpus(args.pages, args.seed, args.dpi, cast(Literal["tiff", "jpeg"], args.format))
    items = {it.archival_code: [truth.batch_dir / p.file for p in it.pages] for it in truth.items}
    counts = {it.archival_code: len(it.pages) for it in truth.items}
    paths = [p for ps in items.values() for p in ps]
    for p in paths:  # into the page cache: measure decoding and analysis, not the disk
        p.read_bytes()
    load_before = os.getloadavg()

    options = ScanQAOptions()
    no_osd = ScanQAOptions(osd="never")
    qa_pass(items, counts, no_osd, 1)  # warm-up (imports, Tesseract data in the page cache)
    runs: dict[str, dict[str, Any]] = {
        "qa_1_job": qa_pass(items, counts, options, 1),
        "qa_2_jobs": qa_pass(items, counts, options, 2),
        "qa_1_job_no_osd": qa_pass(items, counts, no_osd, 1),
    }

    measured = {p: inspect_page(p, no_osd) for p in paths}
    start = time.perf_counter()
    for p in paths:
        prepare_page(p, measured[p], options, grey=True)
    prep_s = time.perf_counter() - start
    runs["prepare"] = {"pages": len(paths), "ms_per_page": round(1000 * prep_s / len(paths), 1)}

    text_pages = [truth.batch_dir / p.file for p in truth.pages() if not p.blank]
    step = max(1, len(text_pages) // max(1, args.ocr_pages))
    sample = text_pages[::step][: args.ocr_pages]
    pairs: list[dict[str, Any]] = []
    for p in sample:  # the same page through scan QA and through OCR, back to back
        t0, c0 = time.perf_counter(), _cpu()
        inspect_page(p, options)
        qa_s, qa_cpu = time.perf_counter() - t0, _cpu() - c0
        ocr_s, ocr_cpu = tesseract_page(p, args.languages)
        pairs.append(
            {
                "page": p.name,
                "qa_s": round(qa_s, 3),
                "qa_cpu_s": round(qa_cpu, 3),
                "ocr_s": round(ocr_s, 3),
                "ocr_cpu_s": round(ocr_cpu, 3),
            }
        )
    qa_sum, ocr_sum = sum(x["qa_s"] for x in pairs), sum(x["ocr_s"] for x in pairs)
    qa_cpu_sum, ocr_cpu_sum = sum(x["qa_cpu_s"] for x in pairs), sum(x["ocr_cpu_s"] for x in pairs)
    ocr_per_page = ocr_sum / len(pairs)
    ocr_cpu_per_page = ocr_cpu_sum / len(pairs)
    qa_per_page = runs["qa_1_job"]["seconds"] / runs["qa_1_job"]["pages"]
    qa_cpu_per_page = runs["qa_1_job"]["cpu_s"] / runs["qa_1_job"]["pages"]
    no_osd_cpu_per_page = runs["qa_1_job_no_osd"]["cpu_s"] / runs["qa_1_job_no_osd"]["pages"]
    result: dict[str, Any] = {
        "corpus": {"pages": len(paths), "dpi": args.dpi, "format": args.format, "seed": args.seed},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()],
        },
        "runs": runs,
        "ocr_reference": {
            "tool": f"tesseract -l {args.languages} (OMP_THREAD_LIMIT=1)",
            "pages": len(pairs),
            "s_per_page": round(ocr_per_page, 3),
            "cpu_s_per_page": round(ocr_cpu_per_page, 3),
            "pairs": pairs,
        },
        "ratios": {
            "qa_over_ocr_batch": round(qa_per_page / ocr_per_page, 4),
            "qa_over_ocr_paired": round(qa_sum / ocr_sum, 4),
            "qa_over_ocr_cpu": round(qa_cpu_per_page / ocr_cpu_per_page, 4),
            "qa_over_ocr_cpu_paired": round(qa_cpu_sum / ocr_cpu_sum, 4),
            "qa_no_osd_over_ocr_cpu": round(no_osd_cpu_per_page / ocr_cpu_per_page, 4),
            "qa_share_of_qa_plus_ocr": round(qa_per_page / (qa_per_page + ocr_per_page), 4),
            "goal": "< 0.10",
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "scanqa.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    (RESULTS / "scanqa.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


def markdown(r: dict[str, Any]) -> str:
    runs = r["runs"]
    c, m, o, q = r["corpus"], r["machine"], r["ocr_reference"], r["ratios"]
    lines = [
        f"# Scan QA benchmark ({c['pages']} pages, A4 {c['dpi']} dpi {c['format']}, {m['cpus']} CPUs, "
        f"load {m['load_before']} → {m['load_after']})",
        "",
        "| run | pages/s | ms/page (wall) | CPU ms/page | OSD pages | OSD s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, run in runs.items():
        if name == "prepare":
            continue
        lines.append(
            f"| {name} | {run['pages_per_s']} | {run['ms_per_page']} | {run['cpu_ms_per_page']} | "
            f"{run['osd_pages']} | {run['osd_seconds']} |"
        )
    lines += [
        "",
        f"prepare_page (rotate/deskew/crop/grey): {runs['prepare']['ms_per_page']} ms/page",
        f"OCR reference ({o['tool']}): {o['s_per_page']} s/page wall, {o['cpu_s_per_page']} s/page CPU, "
        f"over {o['pages']} pages",
        f"scan QA / OCR, wall: {q['qa_over_ocr_batch']:.1%} (batch), "
        f"{q['qa_over_ocr_paired']:.1%} (paired, same pages); "
        f"share of QA+OCR: {q['qa_share_of_qa_plus_ocr']:.1%}",
        f"scan QA / OCR, CPU: {q['qa_over_ocr_cpu']:.1%} (batch), {q['qa_over_ocr_cpu_paired']:.1%} (paired); "
        f"without OSD: {q['qa_no_osd_over_ocr_cpu']:.1%}; goal {q['goal']}",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
