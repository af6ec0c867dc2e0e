"""The OCR/scan-QA benchmark corpus: one batch of many degraded pages with ground truth."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Literal

import numpy as np

from guidang.samples.batch import make_batch
from guidang.samples.degrade import Degradation
from guidang.samples.truth import BatchTruth


def bench_degradation(rng: np.random.Generator, *, dpi: int = 300) -> Degradation:
    """A page as a middling production scanner delivers it: skew 0.5–3° either way, noise,
    blur, grey paper, JPEG artefacts, sometimes a black border and specks."""
    scale = dpi / 300.0
    sign = 1.0 if rng.random() < 0.5 else -1.0
    grey = int(rng.integers(220, 240))
    border = rng.random() < 0.4
    return Degradation(
        skew_deg=round(sign * float(rng.uniform(0.5, 3.0)), 2),
        skew_fill="grey" if rng.random() < 0.3 else "white",
        noise_sigma=round(float(rng.uniform(3.0, 8.0)), 2),
        blur_sigma=round(float(rng.uniform(0.6, 1.2)) * scale, 2),
        paper=(grey, grey, max(grey - 5, 0)),
        border_px=round(float(rng.uniform(30, 90)) * scale) if border else 0,
        border_edges=("l", "r", "t", "b", "lr", "tb")[int(rng.integers(6))] if border else "",
        jpeg_quality=int(rng.integers(40, 76)),
        specks=int(rng.integers(0, 10)),
    )


def make_bench_corpus(
    dest: Path,
    pages: int = 40,
    seed: int = 2024,
    *,
    dpi: int = 300,
    image_format: Literal["tiff", "jpeg"] = "jpeg",
    blanks: int = 3,
    truth_path: Path | None = None,
    workers: int | None = None,
) -> BatchTruth:
    """One batch of ``pages`` A4 pages (items of 1–5 pages) for the OCR and scan-QA benchmarks.

    Simplified and traditional Chinese with English lines; every page degraded by
    :func:`bench_degradation`; ``blanks`` near-blank pages (grey paper, noise, specks; the
    first with bleed-through of its back side) and one upside-down page, never the first page
    of an item. JPEG pages (the default: 1-2 MB a page rather than 5-10 MB of noisy LZW TIFF)
    are saved at each page's drawn quality (40-75); TIFF pages carry the same artefacts from
    a JPEG round trip. The truth (per-page text, parameters) goes to ``truth_path``
    (default ``dest/<batch-id>.truth.json``).
    ``workers``: processes writing items (default: one per CPU).
    """
    if pages < blanks + 2:
        raise ValueError("pages must leave room for the blank and upside-down pages")
    rng = np.random.default_rng([seed, 99])
    counts: list[int] = []
    while sum(counts) < pages:
        counts.append(min(int(rng.integers(1, 6)), pages - sum(counts)))
    if all(c == 1 for c in counts):
        raise ValueError("need at least one item of several pages")
    # pages that are not the first of their item, as (item, page)
    inner = [(i, p) for i, c in enumerate(counts) for p in range(1, c)]
    chosen = [inner[int(k)] for k in rng.choice(len(inner), size=min(len(inner), blanks + 1), replace=False)]
    overrides: dict[tuple[int, int], Degradation] = {}
    for i, c in enumerate(counts):
        for p in range(c):
            overrides[(i, p)] = bench_degradation(np.random.default_rng([seed, i, p, 2]), dpi=dpi)
    upside_down, blank_pages = chosen[0], chosen[1:]
    d = overrides[upside_down]
    overrides[upside_down] = replace(d, rotate=180)
    for n, key in enumerate(blank_pages):
        d = overrides[key]
        overrides[key] = Degradation(
            paper=d.paper,
            noise_sigma=d.noise_sigma,
            blur_sigma=d.blur_sigma,
            specks=int(rng.integers(3, 15)),
            blank=True,
            bleed_through=0.08 if n == 0 else 0.0,
            jpeg_quality=d.jpeg_quality,
        )
    return make_batch(
        dest,
        page_counts=counts,
        seed=seed,
        dpi=dpi,
        image_format=image_format,
        scripts=("hans", "hant", "hans"),
        workers=workers or os.cpu_count() or 1,
        overrides=overrides,
        batch_id=f"BENCH-{seed}-{pages}P",
        truth_path=truth_path,
    )
