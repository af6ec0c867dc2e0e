"""Volume PDF/A: one PDF of the whole volume with a bookmark per document, against one PDF per document.

Run ``python bench/bench_volume_pdf.py`` from the project root. A generated volume (documents of 2, 1, 3
and 2 pages, then its 备考表; JPEG at 200 dpi, as ``guidang.samples.volumes`` writes them) is written as
PDF/A-2b by :func:`guidang.ingest.pdfa.write_pdfa` both ways, without OCR (the page images dominate a
PDF's size; the text layer is the same either way): the volume's PDF with its bookmarks, and a PDF per
document over its page range. Reported: bytes of each way, their ratio, the masters' bytes, and the
time to write (best of ``--repeat``). The figures decide what a volume's package holds (docs/volumes.md).
Results go to ``bench/results/volume_pdf.json`` and ``volume_pdf.md``.
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

from guidang.ingest.pdfa import PdfPage, write_pdfa
from guidang.samples.volumes import make_volume_batch

RESULTS = Path(__file__).resolve().parent / "results"
DOCUMENTS = (2, 1, 3, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-volume-") as tmp:
        truth = make_volume_batch(Path(tmp), documents=(DOCUMENTS,), seed=1, batch_id="BENCH-VOL")
        volume = truth.volumes[0]
        images = sorted((truth.path / volume.code).iterdir())
        outline = [(f"{d.number} {d.title}", d.first_page - 1) for d in volume.documents]

        def whole() -> int:
            return write_pdfa([PdfPage(p) for p in images], Path(tmp) / "volume.pdf", outline=outline).size

        def per_document() -> int:
            return sum(write_pdfa([PdfPage(p) for p in images[d.first_page - 1:d.last_page]],
                                  Path(tmp) / f"doc-{d.number}.pdf").size for d in volume.documents)

        figures: dict[str, object] = {"documents": list(DOCUMENTS), "images": len(images),
                                      "masters_bytes": sum(p.stat().st_size for p in images)}
        for name, fn in (("volume_pdf", whole), ("document_pdfs", per_document)):
            times = []
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                size = fn()
                times.append(time.perf_counter() - t0)
            figures[f"{name}_bytes"] = size
            figures[f"{name}_seconds"] = round(min(times), 3)
    figures["document_pdfs_over_volume_pdf"] = round(int(str(figures["document_pdfs_bytes"]))
                                                     / int(str(figures["volume_pdf_bytes"])), 3)
    figures["load"] = [list(load_before), list(os.getloadavg())]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "volume_pdf.json").write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    md = (
        f"## Volume PDF/A (bench/bench_volume_pdf.py)\n\n"
        f"One generated volume: documents of {', '.join(map(str, DOCUMENTS))} pages and its 备考表 "
        f"({figures['images']} JPEG images at 200 dpi, {figures['masters_bytes']} bytes of masters), written as "
        f"PDF/A-2b without OCR, best of {args.repeat}; 1-minute load average before/after "
        f"{load_before[0]:.2f}/{os.getloadavg()[0]:.2f} (the machine was shared with other work).\n\n"
        "| way | bytes | s to write |\n|---|---:|---:|\n"
        f"| the volume's PDF/A with a bookmark per document | {figures['volume_pdf_bytes']} | "
        f"{figures['volume_pdf_seconds']} |\n"
        f"| one PDF/A per document | {figures['document_pdfs_bytes']} | {figures['document_pdfs_seconds']} |\n\n"
        f"Document PDFs / volume PDF, bytes: **{figures['document_pdfs_over_volume_pdf']}** (the volume PDF also "
        "holds the 备考表, which belongs to no document; the JPEG masters are embedded as they are, so either way "
        "a PDF is about as large as the masters). Storing both would hold the page images twice beside the "
        "masters; guidang stores the volume PDF only (docs/volumes.md).\n"
    )
    (RESULTS / "volume_pdf.md").write_text(md, "utf-8")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
