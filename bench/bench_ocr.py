"""OCR → PDF/A benchmark: guidang's scan path against OCRmyPDF and bare Tesseract, side by side.

Run ``python bench/bench_ocr.py`` from the project root (``--help`` for options). The corpus is
`guidang.samples.make_bench_corpus` (default 40 A4 pages at 300 dpi, TIFF, simplified and
traditional Chinese with English lines, degraded, blank pages and one upside-down page,
with ground truth), made once under ``bench/out/ocr/``. Contenders, all with
``chi_sim+eng`` and 2 jobs, run item by item, interleaved (the order rotates per item) so
that load from other work on the machine falls on all of them alike:

* ``guidang``: per page, in a pool of 2 worker processes: scan QA measurement
  (`inspect_page`; blank pages are not OCRed), derivative (`prepare_page`: turn, deskew,
  crop, grey), OCR of the derivative at ``--ocr-dpi`` (`ocr_prepared`); then per item the
  PDF/A-2b of the untouched masters (`write_pdfa`, verified by pikepdf.pdfa) and the text
  sidecar.
* ``guidang-ppocr``: the same path with the PP-OCR engine (`guidang.ingest.ocr_ppocr`, PP-OCRv4 on
  ONNX Runtime, one intra-op thread), in a pool of its own.
* ``ocrmypdf``: ``img2pdf`` of the item's pages, then ``ocrmypdf -l chi_sim+eng --output-type
  pdfa --rotate-pages --deskew --jobs 2 --sidecar``. OCRmyPDF 17 from a private venv under
  ``bench/out`` (made with ``--install-ocrmypdf``; never a project dependency), else the
  system's ``ocrmypdf``.
* ``tesseract``: bare ``tesseract page -l chi_sim+eng txt``, ``OMP_THREAD_LIMIT=1``, two at a
  time (the floor: OCR and nothing else, no PDF).

Reported per contender: pages/s, CPU seconds per page (the workers' and their children's, the main
thread's; on a machine shared with other work the throughput a dedicated machine would give),
peak RSS (sum over the process tree, sampled every 50 ms; and per
worker: the largest subtree of one child process, i.e. a pool worker with its Tesseract, one bare
Tesseract, or the whole OCRmyPDF command),
output size, CER of the OCR text against the truth (Levenshtein, and order-insensitive
bag-of-characters; NFKC, whitespace ignored), CER of the text copied out of the PDF (pdfium),
and spaces between CJK characters per CJK character in the copied text (pdfium and
poppler's pdftotext). Results: ``bench/results/ocr.json`` and ``ocr.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from guidang.ingest.ocr import OcrPage, TesseractEngine, document_text
from guidang.ingest.ocr_engines import engine_for
from guidang.ingest.ocr_scan import ocr_prepared
from guidang.ingest.pdfa import PdfPage, XmpFields, write_pdfa
from guidang.ingest.pdftext import cjk_spaces_per_char, extract_text
from guidang.ingest.placement import Placement
from guidang.ingest.prepare import prepare_page
from guidang.ingest.scanqa import ScanQAOptions, inspect_page
from guidang.ingest.textmetrics import bag_cer, levenshtein, normalise
from guidang.samples.corpus import make_bench_corpus
from guidang.samples.truth import BatchTruth, ItemTruth

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
LANGS = "chi_sim+eng"
CONTENDERS = ["guidang", "guidang-ppocr", "ocrmypdf", "tesseract"]


# --- measuring ----------------------------------------------------------------------------


def _tree_rss(root: int, *, include_root: bool, exclude: frozenset[int]) -> tuple[int, int]:
    """Resident memory of *root*'s descendants (and *root* itself if asked), bytes (Linux /proc),
    and that of the largest subtree of one child (a worker).

    The subtrees of the pids in *exclude* are not counted.
    """
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        children.setdefault(int(stat[1]), []).append(pid)  # field 4: ppid
        rss[pid] = int(stat[21]) * page  # field 24: rss in pages
    total = rss.get(root, 0) if include_root else 0
    largest = 0
    for child in children.get(root, []):
        if child in exclude:
            continue
        subtree = 0
        stack = [child]
        while stack:
            pid = stack.pop()
            subtree += rss.get(pid, 0)
            stack.extend(c for c in children.get(pid, []) if c not in exclude)
        total += subtree
        largest = max(largest, subtree)
    return total, largest


def _cpu_seconds(pids: frozenset[int]) -> float:
    """CPU seconds used by *pids* and their waited-for children so far (utime+stime+cutime+cstime)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as fh:
                stat = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(v) for v in stat[11:15])  # fields 14-17
    return total / tick


def _own_cpu() -> float:
    """CPU seconds of this thread, and of the children this process has waited for (bare Tesseract)."""
    t = os.times()
    return time.thread_time() + t.children_user + t.children_system


class PeakRss:
    """Peak of `_tree_rss` of this process's tree while the context is open.

    guidang counts this process (the pipeline's main process, which writes the PDFs) and its
    worker pool; the other contenders count only the processes they start.
    """

    def __init__(self, *, include_self: bool, exclude: frozenset[int]) -> None:
        self.peak = 0
        self.worker_peak = 0
        self.include_self = include_self
        self.exclude = exclude
        self._stop = threading.Event()

    def __enter__(self) -> PeakRss:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            total, worker = _tree_rss(me, include_root=self.include_self, exclude=self.exclude)
            self.peak = max(self.peak, total)
            self.worker_peak = max(self.worker_peak, worker)
            self._stop.wait(0.05)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Tally:
    name: str
    pages: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss: int = 0
    worker_rss: int = 0
    output_bytes: int = 0
    ocr_errors: int = 0
    ocr_bag_errors: float = 0.0
    copied_errors: int = 0
    truth_chars: int = 0
    cjk_chars_pdfium: int = 0
    cjk_spaces_pdfium: float = 0.0
    cjk_chars_poppler: int = 0
    cjk_spaces_poppler: float = 0.0
    has_pdf: bool = True
    failures: list[str] = field(default_factory=list)

    def add_text(self, truth: str, ocr: str, copied: str | None, poppler: str | None) -> None:
        t = normalise(truth)
        self.truth_chars += len(t)
        self.ocr_errors += levenshtein(t, normalise(ocr))
        self.ocr_bag_errors += bag_cer(truth, ocr) * len(t)
        if copied is not None:
            self.copied_errors += levenshtein(t, normalise(copied))
            n = _cjk(copied)
            self.cjk_chars_pdfium += n
            self.cjk_spaces_pdfium += cjk_spaces_per_char(copied) * n
        if poppler is not None:
            n = _cjk(poppler)
            self.cjk_chars_poppler += n
            self.cjk_spaces_poppler += cjk_spaces_per_char(poppler) * n

    def summary(self) -> dict[str, Any]:
        chars = max(self.truth_chars, 1)
        return {
            "pages": self.pages,
            "seconds": round(self.seconds, 2),
            "pages_per_s": round(self.pages / self.seconds, 4) if self.seconds else None,
            "cpu_s_per_page": round(self.cpu_seconds / self.pages, 2) if self.pages else None,
            "peak_rss_mb": round(self.peak_rss / 2**20, 1),
            "worker_rss_mb": round(self.worker_rss / 2**20, 1),
            "output_mb": round(self.output_bytes / 2**20, 2) if self.has_pdf else None,
            "cer": round(self.ocr_errors / chars, 4),
            "bag_cer": round(self.ocr_bag_errors / chars, 4),
            "copied_cer": round(self.copied_errors / chars, 4) if self.has_pdf else None,
            "cjk_spaces_per_char_pdfium": (
                round(self.cjk_spaces_pdfium / max(self.cjk_chars_pdfium, 1), 4) if self.has_pdf else None
            ),
            "cjk_spaces_per_char_pdftotext": (
                round(self.cjk_spaces_poppler / max(self.cjk_chars_poppler, 1), 4) if self.has_pdf else None
            ),
            "failures": self.failures,
        }


def _cjk(text: str) -> int:
    from guidang.ingest.cjktext import is_cjk

    return sum(1 for c in text if is_cjk(c))


def _pdftotext(pdf: Path) -> str | None:
    if shutil.which("pdftotext") is None:
        return None
    proc = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=False)
    return proc.stdout if proc.returncode == 0 else None


# --- contenders ---------------------------------------------------------------------------


def _guidang_page(job: tuple[str, float, str]) -> tuple[OcrPage | None, Placement | None]:
    """One page in a worker process: measure, derive, OCR the derivative (not a blank page).

    Tesseract's OSD runs inside the OCR (page segmentation mode 1), so the scan QA is told
    not to run it again (``osd="never"``): its layout heuristic turns the pages it is sure of.
    """
    path, ocr_dpi, engine = Path(job[0]), job[1], job[2]
    options = ScanQAOptions(osd="never")
    measurement = inspect_page(path, options)
    if measurement.blank:
        return None, None
    prepared = prepare_page(path, measurement, options, grey=True)
    return ocr_prepared(prepared.image, prepared.dpi, prepared.operations, _size(path), LANGS, ocr_dpi=ocr_dpi or None,
                        engine=engine_for(engine, LANGS))


def _pid(_: int) -> int:
    time.sleep(0.2)  # long enough for every worker to take one
    return os.getpid()


def _size(path: Path) -> tuple[int, int]:
    from PIL import Image

    with Image.open(path) as im:
        return im.size


def run_guidang(
    item: ItemTruth, files: list[Path], out: Path, pool: ProcessPoolExecutor, ocr_dpi: float, engine: str = "tesseract"
) -> tuple[str, Path]:
    results = list(pool.map(_guidang_page, [(str(f), ocr_dpi, engine) for f in files]))
    pages = [PdfPage(f, page, placement=where) for f, (page, where) in zip(files, results, strict=True)]
    pdf = out / f"{item.archival_code}.pdf"
    xmp = XmpFields(title=item.title, archival_code=item.archival_code, creator=item.creator)
    write_pdfa(pages, pdf, xmp=xmp)
    text = document_text(page for page, _ in results)
    (out / f"{item.archival_code}.txt").write_text(text, encoding="utf-8")
    return text, pdf


def run_ocrmypdf(
    ocrmypdf: list[str], img2pdf: list[str], files: list[Path], out: Path, code: str, jobs: int
) -> tuple[str, Path]:
    source = out / f"{code}.img.pdf"
    subprocess.run([*img2pdf, "-o", str(source), *map(str, files)], check=True, capture_output=True)
    pdf, sidecar = out / f"{code}.pdf", out / f"{code}.txt"
    proc = subprocess.run(
        [*ocrmypdf, "-l", LANGS, "--output-type", "pdfa", "--rotate-pages", "--deskew", "--jobs", str(jobs),
         "--sidecar", str(sidecar), str(source), str(pdf)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    source.unlink()
    if proc.returncode != 0:
        raise RuntimeError(f"ocrmypdf exit {proc.returncode}: {proc.stderr[-800:]}")
    return sidecar.read_text(encoding="utf-8"), pdf


def run_tesseract(files: list[Path], out: Path, jobs: int) -> str:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}

    def one(path: Path) -> str:
        base = out / path.stem
        subprocess.run(
            ["tesseract", str(path), str(base), "-l", LANGS, "txt"], env=env, check=True, capture_output=True
        )
        return (base.with_suffix(".txt")).read_text(encoding="utf-8")

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return "\f".join(pool.map(one, files))


# --- the run --------------------------------------------------------------------------------


def _run(
    name: str,
    item: ItemTruth,
    files: list[Path],
    out: Path,
    pools: dict[str, ProcessPoolExecutor],
    args: argparse.Namespace,
    ocrmypdf: tuple[list[str], list[str]],
) -> tuple[str, Path | None]:
    if name == "guidang":
        return run_guidang(item, files, out, pools[name], args.ocr_dpi)
    if name == "guidang-ppocr":
        return run_guidang(item, files, out, pools[name], args.ocr_dpi, "ppocr")
    if name == "ocrmypdf":
        return run_ocrmypdf(ocrmypdf[0], ocrmypdf[1], files, out, item.archival_code, args.jobs)
    return run_tesseract(files, out, args.jobs), None


def _ocrmypdf_command(venv: Path, install: bool) -> tuple[list[str], list[str], str]:
    exe, img = venv / "bin" / "ocrmypdf", venv / "bin" / "img2pdf"
    if not exe.exists() and install:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "ocrmypdf>=17,<18"], check=True)
    if exe.exists():
        command, img2pdf = [str(exe)], [str(img)]
    elif shutil.which("ocrmypdf"):
        command, img2pdf = ["ocrmypdf"], ["img2pdf"]
    else:
        raise SystemExit("OCRmyPDF not found: pass --install-ocrmypdf or install Debian's ocrmypdf")
    version = subprocess.run([*command, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return command, img2pdf, version


def _machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "tesseract": TesseractEngine().version(),
    }


def corpus(out: Path, pages: int, seed: int) -> BatchTruth:
    folder = out / f"corpus-{pages}p-s{seed}"
    truth_path = folder / "truth.json"
    if truth_path.is_file():
        return BatchTruth.from_json(truth_path.read_text(encoding="utf-8"))
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return make_bench_corpus(folder, pages=pages, seed=seed, truth_path=truth_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--ocr-dpi", type=float, default=200.0, help="resolution guidang OCRs at (0: the scan's)")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "ocr")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--ocrmypdf-venv", type=Path, default=HERE / "out" / "venv-ocrmypdf")
    parser.add_argument("--install-ocrmypdf", action="store_true", help="pip-install OCRmyPDF 17 into --ocrmypdf-venv")
    parser.add_argument("--only", nargs="*", choices=CONTENDERS)
    args = parser.parse_args(argv)

    truth = corpus(args.out, args.pages, args.seed)
    batch = truth.batch_dir
    names = args.only or list(CONTENDERS)
    ocrmypdf_cmd: list[str] = []
    img2pdf_cmd: list[str] = []
    ocrmypdf_version = ""
    if "ocrmypdf" in names:
        ocrmypdf_cmd, img2pdf_cmd, ocrmypdf_version = _ocrmypdf_command(args.ocrmypdf_venv, args.install_ocrmypdf)
    tallies = {name: Tally(name, has_pdf=name != "tesseract") for name in names}
    scripts: dict[str, dict[str, Tally]] = {}  # CER by script (hans, hant) of every contender
    load_before = os.getloadavg()
    started = time.time()
    with (
        tempfile.TemporaryDirectory(prefix="bench-ocr-", dir=args.out) as tmp,
        ProcessPoolExecutor(max_workers=args.jobs) as pool,
        ProcessPoolExecutor(max_workers=args.jobs) as ppocr_pool,
    ):
        work = Path(tmp)
        pools = {"guidang": pool, "guidang-ppocr": ppocr_pool}
        # start the workers now (a pipeline keeps them); each guidang contender counts its own pool only
        pids = {name: frozenset(p.map(_pid, range(args.jobs))) for name, p in pools.items()}
        workers = frozenset().union(*pids.values())
        for n, item in enumerate(truth.items):
            files = [batch / p.file for p in item.pages]
            truth_text = "\n".join(p.text for p in item.pages)
            order = names[n % len(names) :] + names[: n % len(names)]
            for name in order:
                tally = tallies[name]
                out = work / name
                out.mkdir(exist_ok=True)
                guidang = name in pools
                others = workers - pids[name] if guidang else workers
                with PeakRss(include_self=guidang, exclude=others) as rss:
                    t0 = time.perf_counter()
                    cpu0 = _own_cpu() + (_cpu_seconds(pids[name]) if guidang else 0.0)
                    try:
                        text, pdf = _run(name, item, files, out, pools, args, (ocrmypdf_cmd, img2pdf_cmd))
                    except Exception as exc:  # a contender failing on an item is a finding, not a crash
                        tally.failures.append(f"{item.archival_code}: {type(exc).__name__}: {exc}")
                        print(f"{item.archival_code} {name} FAILED: {exc}", file=sys.stderr, flush=True)
                        continue
                    finally:
                        elapsed = time.perf_counter() - t0
                        cpu = _own_cpu() + (_cpu_seconds(pids[name]) if guidang else 0.0) - cpu0
                tally.seconds += elapsed
                tally.cpu_seconds += cpu
                tally.pages += len(files)
                tally.peak_rss = max(tally.peak_rss, rss.peak)
                tally.worker_rss = max(tally.worker_rss, rss.worker_peak)
                copied = poppler = None
                if pdf is not None:
                    tally.output_bytes += pdf.stat().st_size
                    copied = extract_text(pdf)
                    poppler = _pdftotext(pdf)
                tally.add_text(truth_text, text, copied, poppler)
                scripts.setdefault(item.script, {}).setdefault(name, Tally(name)).add_text(truth_text, text, None, None)
                print(f"{item.archival_code} {name:9s} {len(files)} p {elapsed:6.1f} s", flush=True)
            # results so far, rewritten after every item (a long run can be read while it goes)
            results = _results(truth, args, tallies, ocrmypdf_version, load_before, started, n + 1, scripts)
    print(_markdown(results))
    return 0


def _results(
    truth: BatchTruth,
    args: argparse.Namespace,
    tallies: dict[str, Tally],
    ocrmypdf_version: str,
    load_before: tuple[float, float, float],
    started: float,
    items_done: int,
    scripts: dict[str, dict[str, Tally]] | None = None,
) -> dict[str, Any]:
    results: dict[str, Any] = {
        "corpus": {"pages": truth.page_count, "items": len(truth.items), "seed": args.seed, "dpi": truth.dpi,
                   "format": truth.image_format, "languages": LANGS, "path": str(truth.batch_dir)},
        "machine": _machine(),
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_after": [round(v, 2) for v in os.getloadavg()],
        "wall_seconds": round(time.time() - started, 1),
        "items_done": f"{items_done}/{len(truth.items)}",
        "jobs": args.jobs,
        "guidang_ocr_dpi": args.ocr_dpi,
        "ocrmypdf_version": ocrmypdf_version,
        "contenders": {name: tally.summary() for name, tally in tallies.items()},
        "cer_by_script": {script: {name: t.summary()["cer"] for name, t in by.items()}
                          for script, by in (scripts or {}).items()},
    }  # fmt: skip
    results["ratios"] = _ratios(results["contenders"])
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "ocr.json").write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (args.results / "ocr.md").write_text(_markdown(results), encoding="utf-8")
    return results


def _ratios(c: dict[str, dict[str, Any]]) -> dict[str, Any]:
    g, o, t = c.get("guidang"), c.get("ocrmypdf"), c.get("tesseract")
    p = c.get("guidang-ppocr")
    out: dict[str, Any] = {}
    if p and g and g["pages_per_s"] and p["pages_per_s"]:
        out["ppocr_throughput_vs_guidang_tesseract"] = round(p["pages_per_s"] / g["pages_per_s"], 2)
        if p.get("cpu_s_per_page") and g.get("cpu_s_per_page"):  # throughput on a saturated machine
            out["ppocr_cpu_throughput_vs_guidang_tesseract"] = round(g["cpu_s_per_page"] / p["cpu_s_per_page"], 2)
        out["ppocr_cer_vs_guidang_tesseract"] = round(p["cer"] / g["cer"], 3) if g["cer"] else None
    if p and t and t["worker_rss_mb"]:
        out["ppocr_worker_rss_vs_tesseract"] = round(p["worker_rss_mb"] / t["worker_rss_mb"], 2)
    if g and o and o["pages_per_s"] and g["pages_per_s"]:
        out["throughput_vs_ocrmypdf"] = round(g["pages_per_s"] / o["pages_per_s"], 2)
        out["cer_vs_ocrmypdf"] = round(g["cer"] / o["cer"], 3) if o["cer"] else None
    if g and t and t["pages_per_s"] and g["pages_per_s"]:
        out["throughput_vs_tesseract"] = round(g["pages_per_s"] / t["pages_per_s"], 2)
    if o and t and t["pages_per_s"] and o["pages_per_s"]:
        out["ocrmypdf_vs_tesseract"] = round(o["pages_per_s"] / t["pages_per_s"], 2)
    return out


def _markdown(r: dict[str, Any]) -> str:
    m, c = r["machine"], r["contenders"]
    lines = [
        "# OCR → PDF/A benchmark",
        "",
        f"Corpus: {r['corpus']['pages']} pages in {r['corpus']['items']} items, {r['corpus']['dpi']} dpi "
        f"{r['corpus']['format']}, seed {r['corpus']['seed']}, languages {r['corpus']['languages']}; "
        f"{r['jobs']} jobs each; guidang OCRs at {r['guidang_ocr_dpi']:g} dpi; OCRmyPDF {r['ocrmypdf_version']}.",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, {m['tesseract']}. "
        f"Load average before/after: {r['load_average_before']} / {r['load_average_after']}.",
        "",
        "| contender | pages/s | CPU s/page | peak RSS MB | per worker MB | output MB | CER | bag CER | copied CER "
        "| CJK spaces/char (pdfium) | (pdftotext) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, s in c.items():

        def f(v: Any) -> str:
            return "—" if v is None else f"{v:g}"

        lines.append(
            f"| {name} | {f(s['pages_per_s'])} | {f(s.get('cpu_s_per_page'))} | {f(s['peak_rss_mb'])} | "
            f"{f(s.get('worker_rss_mb'))} | "
            f"{f(s['output_mb'])} | {f(s['cer'])} | "
            f"{f(s['bag_cer'])} | {f(s['copied_cer'])} | {f(s['cjk_spaces_per_char_pdfium'])} | "
            f"{f(s['cjk_spaces_per_char_pdftotext'])} |"
        )
    lines += ["", "Ratios: " + ", ".join(f"{k} {v}" for k, v in r["ratios"].items()), ""]
    for script, by in r.get("cer_by_script", {}).items():
        lines.append(f"CER on {script} items: " + ", ".join(f"{k} {v:g}" for k, v in by.items()))
    lines.append("")
    for name, s in c.items():
        for failure in s["failures"]:
            lines.append(f"- {name} failed: {failure}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
