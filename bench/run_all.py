"""Run every benchmark, one after the other, and collate docs/benchmarks.md (``make bench``).

Each benchmark compares guidang with the tool a user would otherwise use, side by side in the
same run, and writes ``bench/results/<name>.md``. This script adds the machine they ran on.
Pass names to run only some: ``python bench/run_all.py fixity scanqa``; ``--collate`` only rebuilds
docs/benchmarks.md from the results already in bench/results.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
ORDER = ("fixity", "audit", "scanqa", "catalogue", "multipage", "volume_pdf", "search", "ocr",
         "ocr_cpu", "ocr_scripts", "ocr_confidence",  # PP-OCR against Tesseract (issue #14)
         "distributed")  # the OCR comparisons last: they take longest
# the comparison is with the OCRmyPDF a user would install today (PyPI), in a private venv under bench/out
ARGS = {"ocr": ["--install-ocrmypdf"]}


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
               if line.startswith("MemTotal"))
    tesseract = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem / 1024 / 1024:.0f} GiB, {platform.platform()}, "
        f"Python {platform.python_version()}, {tesseract[0] if tesseract else 'tesseract ?'}; "
        f"load average at the end {os.getloadavg()[0]:.1f}"
    )


def main(args: list[str]) -> int:
    collate_only = "--collate" in args
    names = [a for a in args if not a.startswith("--")]
    failed = []
    for name in [] if collate_only else names or ORDER:
        print(f"== bench_{name}", flush=True)
        command = [sys.executable, str(BENCH / f"bench_{name}.py"), *ARGS.get(name, [])]
        if subprocess.run(command, cwd=ROOT).returncode != 0:
            failed.append(name)
    parts = [
        "# Benchmarks\n",
        "Made by `make bench` (bench/run_all.py); each section is written by its own script in bench/. "
        "Figures are ratios against the tool a user would otherwise use, measured side by side in one run; "
        "absolute times depend on the (shared, noisy) machine.\n",
        f"Collated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine()}; each section names its own run.\n",
    ]
    known = [RESULTS / f"{name}.md" for name in ORDER]
    others = sorted(set(RESULTS.glob("*.md")) - set(known))  # e.g. a partial re-run kept beside a full one
    for md in [*known, *others]:
        if md.is_file():
            parts.append(md.read_text("utf-8").strip() + "\n")
    (ROOT / "docs" / "benchmarks.md").write_text("\n".join(parts), encoding="utf-8")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
