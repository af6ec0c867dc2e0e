"""Multi-page TIFF benchmark: measuring a file of many tiny pages costs in proportion to its pages.

Run ``python bench/bench_multipage.py`` from the project root. A TIFF of N tiny pages (32 x 32
grey, LZW; a hostile vendor's file, as in issue 12) is measured by scan QA's
:func:`guidang.ingest.scanqa.inspect_file` with ``max_pages_per_file`` raised to N, for N = 1,000
and 10,000 (best of ``--repeat``). Linear cost shows as a time ratio near the page ratio (10);
the earlier code's file handling (per page: open the file, count every page, seek, decode with
libtiff, which walks every earlier page directory) is replayed as ``earlier`` on 250 and 500
pages, where its ratio shows the square (4 for twice the pages). The profile's default limit (1,000
pages) turns the 10,000-page file into one rejection: that time is given too.
Figures go to ``bench/results/multipage.json`` and ``multipage.md``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PIL import Image

from guidang.ingest.scanqa import ScanQAOptions, inspect_file

RESULTS = Path(__file__).resolve().parent / "results"


def tiff_of(pages: int, folder: Path) -> Path:
    frames = [Image.new("L", (32, 32), 255 - i % 7) for i in range(pages)]
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], dpi=(300, 300), compression="tiff_lzw")
    path = folder / f"pages-{pages}.tif"
    path.write_bytes(buf.getvalue())
    return path


def earlier(path: Path, pages: int) -> None:
    """What the earlier code did with a file for each of its pages, measurement left out: read the
    file, open it, count its pages (Pillow walks every page directory), move to the page and
    decode it (libtiff walks every page directory before it again)."""
    for i in range(pages):
        img = Image.open(io.BytesIO(path.read_bytes()))
        assert img.n_frames == pages
        img.seek(i)
        img.load()


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    opts = ScanQAOptions(osd="never")
    rows: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for n in (1000, 10000):
            path = tiff_of(n, folder)
            raised = opts.model_copy(update={"max_pages_per_file": n})
            assert len(inspect_file(path, raised)) == n
            rows[f"guidang {n}"] = best(lambda p=path, o=raised: inspect_file(p, o), args.repeat)  # type: ignore[misc]
        big = folder / "pages-10000.tif"
        assert inspect_file(big, opts)[0].rejected == "too_many_pages"
        rows["default limit 10000"] = best(lambda: inspect_file(big, opts), args.repeat)
        for n in (250, 500):
            path = tiff_of(n, folder)
            rows[f"earlier {n}"] = best(lambda p=path, k=n: earlier(p, k), 1)  # type: ignore[misc]
    linear = rows["guidang 10000"] / rows["guidang 1000"]
    square = rows["earlier 500"] / rows["earlier 250"]
    data = {"seconds": rows, "ratio_10000_over_1000": linear, "earlier_ratio_500_over_250": square,
            "load": os.getloadavg()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "multipage.json").write_text(json.dumps(data, indent=2), "utf-8")
    md = [
        f"### Multi-page TIFF: scan QA of tiny pages (best of {args.repeat}, load {os.getloadavg()[0]:.1f})",
        "",
        "Written by bench/bench_multipage.py. One TIFF of N pages of 32 x 32 grey (LZW), measured by",
        "`inspect_file` with `max_pages_per_file` raised to N (best of the runs; the whole scan QA",
        "measurement of each page). `earlier` replays only the file handling of the earlier code, per",
        "page: read and open the file, count every page, seek, decode (libtiff walks the page",
        "directories before the page again); the measurement itself is left out of it.",
        "",
        "| contender | pages | seconds | per page (ms) |",
        "|---|---:|---:|---:|",
        *(
            f"| {name.rsplit(' ', 1)[0]} | {name.rsplit(' ', 1)[1]} | {secs:.2f} | "
            f"{1000 * secs / int(name.rsplit(' ', 1)[1]):.3f} |"
            for name, secs in rows.items()
            if not name.startswith("default")
        ),
        "",
        f"* guidang, 10,000 / 1,000 pages: time ratio **{linear:.1f}** for 10 times the pages (linear: 10).",
        f"* earlier code, 500 / 250 pages: time ratio **{square:.1f}** for twice the pages (square: 4).",
        f"* With the default `max_pages_per_file` (1,000) the 10,000-page file is one SCAN-READ rejection "
        f"(`too_many_pages`) in {rows['default limit 10000'] * 1000:.0f} ms: 1,001 page directories counted, "
        "none decoded.",
        "",
    ]
    (RESULTS / "multipage.md").write_text("\n".join(md), "utf-8")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
