"""python -m guidang.samples {demo,bench,batch} DEST: write sample batches from the shell."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from guidang.samples.batch import generate_demo, make_batch
from guidang.samples.corpus import make_bench_corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m guidang.samples", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="the two demo batches (TIFF and JPEG)")
    bench = sub.add_parser("bench", help="the benchmark corpus (one batch, N degraded pages)")
    batch = sub.add_parser("batch", help="one batch with chosen options")
    for p in (demo, bench, batch):
        p.add_argument("dest", type=Path)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--dpi", type=int, default=300)
    demo.add_argument("--truth-dir", type=Path)
    bench.add_argument("--pages", type=int, default=40)
    bench.add_argument("--format", choices=("tiff", "jpeg"), default="jpeg")
    batch.add_argument("--items", type=int, default=3)
    batch.add_argument("--format", choices=("tiff", "jpeg", "mixed"), default="tiff")
    batch.add_argument("--profile", choices=("clean", "scan", "harsh"), default="scan")
    batch.add_argument("--catalogue", choices=("csv", "xlsx"), default="csv")
    batch.add_argument("--encoding", choices=("utf-8", "utf-8-sig", "gb18030"), default="utf-8")
    batch.add_argument("--service-fields", action="store_true")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.command == "demo":
        out = generate_demo(args.dest, args.seed, truth_dir=args.truth_dir, dpi=args.dpi)
        print(f"demo batches in {out}")
    elif args.command == "bench":
        truth = make_bench_corpus(args.dest, args.pages, args.seed, dpi=args.dpi, image_format=args.format)
        print(f"{truth.page_count} pages in {truth.path}")
    else:
        truth = make_batch(
            args.dest, items=args.items, seed=args.seed, dpi=args.dpi, image_format=args.format,
            profile=args.profile, catalogue=args.catalogue, encoding=args.encoding,
            service_fields=args.service_fields,
        )  # fmt: skip
        print(f"{truth.page_count} pages in {truth.path}")
    print(f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
