"""Catalogue benchmark: what one catalogue row costs a whole ingest, and whether it stays linear.

Run ``python -m bench.bench_catalogue`` (or ``python bench/bench_catalogue.py``) from the project root.
For each size N (default 1,000, 2,000 and 4,000 rows), a batch whose CSV catalogue has N rows and
no item folders is ingested in a fresh home with :func:`guidang.pipeline.run.ingest_batch`: every row is
read, registered in the catalogue DB, decided (rejected: no folder), kept in the rejected area with
its reasons and written into the receipt: all the per-row work of ingest except the images. The
figure is seconds per 1,000 rows; linear cost means it does not grow with N.

Then intake alone (:func:`guidang.pipeline.intake.read_batch` plus each item's problems) for 200,000
rows, the size that ran past 5 minutes in issue #12, with the problem lookup guidang now uses (an index)
and with the one it used before (a scan of all problems per item, timed on a sample of items and
scaled, since running it whole takes hours). The row limit's default (``limits.max_rows``) is set from
these figures (docs/security.md). Figures go to ``bench/results/catalogue.json`` and ``catalogue.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from guidang.config import load_settings
from guidang.home import init_home
from guidang.pipeline.intake import read_batch
from guidang.pipeline.limits import BatchLimits
from guidang.pipeline.run import ingest_batch

RESULTS = Path(__file__).resolve().parent / "results"
HEADER = "序号,档号,题名,日期,页数,保管期限\n"


def write_batch(root: Path, rows: int) -> Path:
    root.mkdir(parents=True)
    lines = [HEADER] + [f"{n},Z109-WS·2023-Y-BGS-{n:06d},关于第{n}号事项的通知,20230105,1,永久\n"
                        for n in range(1, rows + 1)]
    (root / "catalogue.csv").write_text("".join(lines), "utf-8")
    return root


def time_ingest(rows: int, scratch: Path) -> float:
    home = scratch / f"home-{rows}"
    init_home(home)
    os.environ["GUIDANG_HOME"] = str(home)  # the home's guidang.toml (with the demo profile) is read from there
    settings = load_settings()
    settings.profiles["demo"].limits = BatchLimits(max_rows=rows)
    batch = write_batch(scratch / f"drop-{rows}" / f"B{rows}", rows)
    start = time.perf_counter()
    outcome = ingest_batch(settings, "demo", batch)
    elapsed = time.perf_counter() - start
    assert outcome.summary["items"] == rows, outcome.summary
    return elapsed


def time_refusal(rows: int, scratch: Path) -> tuple[float, str]:
    """A whole ingest of a catalogue beyond the default row limit: refused, with a receipt."""
    home = scratch / "home-refused"
    init_home(home)
    os.environ["GUIDANG_HOME"] = str(home)
    settings = load_settings()
    batch = write_batch(scratch / "drop-refused" / "HUGE", rows)
    start = time.perf_counter()
    outcome = ingest_batch(settings, "demo", batch)
    elapsed = time.perf_counter() - start
    assert outcome.status == "failed" and outcome.receipt_paths, outcome.status
    return elapsed, outcome.batch_results[0].message_en


def time_intake(rows: int, scratch: Path, sample: int) -> dict[str, float]:
    batch = write_batch(scratch / f"intake-{rows}" / "B", rows)
    start = time.perf_counter()
    intake = read_batch(batch, BatchLimits(max_rows=rows))
    read = time.perf_counter() - start
    start = time.perf_counter()
    for item in intake.items:
        intake.problems_of(item.archival_code)
    indexed = time.perf_counter() - start
    codes = [i.archival_code for i in intake.items[:: max(1, len(intake.items) // sample)]][:sample]
    start = time.perf_counter()
    for code in codes:
        [p for p in intake.problems if p.item_code == code]  # the lookup before the index
    scanned = (time.perf_counter() - start) / len(codes) * len(intake.items)
    return {"read_batch_s": read, "lookup_indexed_s": indexed, "lookup_scan_estimated_s": scanned}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000,2000,4000")
    ap.add_argument("--intake-rows", type=int, default=200_000)
    ap.add_argument("--sample", type=int, default=200, help="items timed with the old lookup")
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-catalogue-") as tmp:
        scratch = Path(tmp)
        ingest = {n: time_ingest(n, scratch) for n in sizes}
        intake = time_intake(args.intake_rows, scratch, args.sample)
        refused, message = time_refusal(args.intake_rows, scratch)
    RESULTS.mkdir(exist_ok=True)
    data = {"ingest_seconds": ingest, "intake_rows": args.intake_rows, "intake": intake,
            "refused_seconds": refused, "refused_message": message}
    (RESULTS / "catalogue.json").write_text(json.dumps(data, indent=2) + "\n", "utf-8")
    lines = [
        "## Catalogue rows (bench/bench_catalogue.py)",
        "",
        "Whole ingest of a CSV catalogue of N rows without images (every row read, registered, decided, kept "
        "with its reasons, written into the receipt):",
        "",
        "| rows | seconds | seconds per 1,000 rows |",
        "|---:|---:|---:|",
        *(f"| {n:,} | {s:.1f} | {s / n * 1000:.2f} |" for n, s in ingest.items()),
        "",
        f"Intake alone for {args.intake_rows:,} rows: read_batch {intake['read_batch_s']:.1f} s; every item's "
        f"problems looked up through the index {intake['lookup_indexed_s']:.2f} s, by the scan used before "
        f"{intake['lookup_scan_estimated_s']:.0f} s (estimated from {args.sample} items).",
        "",
        f"The same {args.intake_rows:,} rows through a whole ingest under the default limits: refused in "
        f"{refused:.1f} s with a receipt (\"{message}\").",
        "",
        f"Load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (other work shared the machine).",
        "",
    ]
    (RESULTS / "catalogue.md").write_text("\n".join(lines), "utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
