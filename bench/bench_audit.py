"""Audit benchmark: ``guidang audit`` (fixity of the whole store) against ``sha256sum`` over the same files.

Run ``python -m bench.bench_audit`` (or ``python bench/bench_audit.py``) from the project root. A store is
generated once in a temporary directory: ``--objects`` OCFL objects of ``--files`` small files each (1 to 16
KiB of random bytes; default 500 × 20 = 10,000 files) plus ``--large`` objects holding one large file of
``--large-mb`` MiB each, every object with its package manifests (SHA-256 and SM3) as guidang writes them.
Every content file is read into the page cache first, so every contender reads the same cached bytes.

Contenders, interleaved round by round, best of ``--repeat``:

* ``guidang audit (SHA-256 + SM3)``: :class:`guidang.pipeline.audit.StoreAudit`, recording in the catalogue
  as the command does (it reads every file once, SHA-256 and SM3, and checks the structure);
* ``sha256sum (1 process)``: ``sha256sum`` over the same content files (fed by ``xargs -0``);
* ``sha256sum (xargs -P cores)``: as many ``sha256sum`` processes as cores, the best a shell user gets.

Headline: files/s and MB/s of each and the ratio ``audit / sha256sum``, where the issue's goal is ≥ 0.9.
Memory: the audit's resident set size after 10% of the objects and at the end (flat = about equal).
Figures go to ``bench/results/audit.json`` and ``audit.md``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from guidang.config import Settings
from guidang.pipeline import audit as audit_module
from guidang.pipeline.audit import StoreAudit
from guidang.storage.object_audit import sha256_file
from guidang.storage.ocfl_store import OcflStore, Source

RESULTS = Path(__file__).resolve().parent / "results"
AUDIT = "guidang audit (SHA-256 + SM3)"
SHA1 = "sha256sum (1 process)"
SHAP = "sha256sum (xargs -P cores)"
AUDIT_SHA = "guidang audit, SHA-256 only (bench variant)"
SM3_TOOL = "openssl dgst -sm3 (1 process)"


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _object(store: OcflStore, code: str, files: dict[str, bytes]) -> None:
    sha = {rel: hashlib.sha256(d).hexdigest() for rel, d in files.items()}
    sm3 = {rel: hashlib.new("sm3", d).hexdigest() for rel, d in files.items()}
    manifests = {
        "manifest-sha256.txt": "".join(f"{sha[r]}  {r}\n" for r in sorted(files)).encode(),
        "manifest-sm3.txt": "".join(f"{sm3[r]}  {r}\n" for r in sorted(files)).encode(),
    }
    sources = {rel: Source(sha[rel], None, d) for rel, d in files.items()}
    sources |= {n: Source(hashlib.sha256(d).hexdigest(), None, d) for n, d in manifests.items()}
    store.add_object(code, sources, package_digest={})


def build(home: Path, objects: int, per_object: int, large: int, large_mb: int, seed: int) -> Settings:
    rng = random.Random(seed)
    home.mkdir(parents=True)
    (home / "guidang.toml").write_text("[clamav]\nrequired = false\n", "utf-8")
    settings = Settings(home=home)
    store = OcflStore(settings.store_root)
    for n in range(objects):
        files = {f"masters/p-{i:04d}.tif": rng.randbytes(rng.randint(1024, 16384)) for i in range(per_object)}
        _object(store, f"Z109-WS·2026-Y-BGS-{n + 1:04d}", files)
    for n in range(large):
        _object(store, f"Z109-WS·2026-Y-BGS-{9000 + n}", {"content/big.pdf": os.urandom(large_mb << 20)})
    return settings


def content_files(store: OcflStore) -> list[Path]:
    return sorted(p for p in store.root.rglob("*") if p.is_file() and "/content/" in p.as_posix())


def _sha256sum(files_list: Path, parallel: int, tool: tuple[str, ...] = ("sha256sum",)) -> None:
    argv = ["xargs", "-0", "-n", "2000"] + (["-P", str(parallel)] if parallel > 1 else []) + list(tool)
    with files_list.open("rb") as fh:
        subprocess.run(argv, stdin=fh, stdout=subprocess.DEVNULL, check=True)


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects", type=int, default=500)
    ap.add_argument("--files", type=int, default=20, help="small files per object")
    ap.add_argument("--large", type=int, default=3, help="objects with one large file")
    ap.add_argument("--large-mb", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="guidang-bench-audit-") as tmp:
        settings = build(Path(tmp) / "home", args.objects, args.files, args.large, args.large_mb, args.seed)
        store = OcflStore(settings.store_root)
        files = content_files(store)
        total = sum(p.stat().st_size for p in files)
        listing = Path(tmp) / "files.list"
        listing.write_bytes(b"\0".join(bytes(p) for p in files))
        for p in files:  # into the page cache
            p.read_bytes()
        best: dict[str, float] = {}
        paired: list[float] = []
        rss: dict[str, int] = {}
        load_before = os.getloadavg()[0]
        for _ in range(args.repeat):
            times: dict[str, float] = {}
            for name in (AUDIT, AUDIT_SHA, SHA1, SHAP, SM3_TOOL):
                start = time.perf_counter()
                if name == AUDIT_SHA:  # what the audit costs besides SM3: the same run with SHA-256 only
                    with mock.patch.object(audit_module, "both_digests", sha256_file):
                        variant = StoreAudit(settings, record=False)
                        assert sum(1 for _s in variant.run()) == variant.totals.objects
                elif name == SM3_TOOL:
                    _sha256sum(listing, 1, ("openssl", "dgst", "-sm3", "-r"))
                elif name == AUDIT:
                    audit = StoreAudit(settings)
                    count = audit.count()
                    early = max(1, count // 10)
                    for n, _s in enumerate(audit.run(count), 1):
                        if n == early:
                            rss.setdefault("after 10% of the objects", _rss_kib())
                    rss["at the end"] = max(rss.get("at the end", 0), _rss_kib())
                    assert audit.totals.damaged == 0 and audit.totals.files == len(files)
                else:
                    _sha256sum(listing, 1 if name == SHA1 else cores)
                times[name] = time.perf_counter() - start
                best[name] = min(best.get(name, float("inf")), times[name])
            paired.append(times[SHA1] / times[AUDIT])
        result: dict[str, object] = {
            "files": len(files),
            "bytes": total,
            "objects": args.objects + args.large,
            "small_files": args.objects * args.files,
            "large_files": args.large,
            "large_mb": args.large_mb,
            "cores": cores,
            "load_before": load_before,
            "load_after": os.getloadavg()[0],
            "machine": platform.platform(),
            "seconds": best,
            "files_per_s": {k: len(files) / v for k, v in best.items()},
            "mb_per_s": {k: total / v / 1e6 for k, v in best.items()},
            "ratio_vs_sha256sum": best[SHA1] / best[AUDIT],
            "ratio_vs_sha256sum_parallel": best[SHAP] / best[AUDIT],
            "ratio_vs_both_tools": (best[SHA1] + best[SM3_TOOL]) / best[AUDIT],
            "ratio_sha256_only_variant": best[SHA1] / best[AUDIT_SHA],
            "median_paired_ratio": sorted(paired)[len(paired) // 2],
            "rss_kib": rss,
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "audit.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", "utf-8")
    (args.out / "audit.md").write_text(report(result), "utf-8")
    print(report(result))
    return result


def report(r: dict[str, object]) -> str:
    secs = r["seconds"]
    fps = r["files_per_s"]
    mbs = r["mb_per_s"]
    assert isinstance(secs, dict) and isinstance(fps, dict) and isinstance(mbs, dict)
    rss = r["rss_kib"]
    assert isinstance(rss, dict)
    lines = [
        "## Store audit (`guidang audit`) against sha256sum",
        "",
        f"A generated store of {r['objects']} OCFL objects: {r['small_files']} small files (1–16 KiB) and "
        f"{r['large_files']} of {r['large_mb']} MiB, {r['files']} content files, {int(r['bytes']) / 1e6:.0f} MB "  # type: ignore[call-overload]
        f"in the page cache; best of the rounds, on {r['cores']} cores. The machine was loaded by other work "
        f"(load average {r['load_before']:.1f} before, {r['load_after']:.1f} after): the ratios are from one run, "
        "side by side, not absolute speeds.",
        "",
        "| contender | seconds | files/s | MB/s |",
        "|---|---:|---:|---:|",
        *(f"| {k} | {secs[k]:.2f} | {fps[k]:.0f} | {mbs[k]:.0f} |" for k in secs),
        "",
        f"- audit / sha256sum (1 process): **{r['ratio_vs_sha256sum']:.2f}×** (goal ≥ 0.9; median of the "
        f"per-round ratios {r['median_paired_ratio']:.2f}×); audit / sha256sum with xargs -P: "
        f"{r['ratio_vs_sha256sum_parallel']:.2f}×. The audit computes SHA-256 and SM3 of every byte, "
        "sha256sum only SHA-256; SM3 is about four times slower (bench_fixity).",
        f"- against the two tools a user needs for both digests (sha256sum, then openssl dgst -sm3): "
        f"**{r['ratio_vs_both_tools']:.2f}×**; the same audit with SHA-256 only (a bench variant, to show "
        f"what the audit costs besides SM3) against sha256sum: {r['ratio_sha256_only_variant']:.2f}×.",
        f"- audit memory (RSS): {rss.get('after 10% of the objects', 0) / 1024:.0f} MiB after 10% of the objects, "
        f"{rss.get('at the end', 0) / 1024:.0f} MiB at the end.",
        "",
        "Command: `python bench/bench_audit.py` (defaults: 500 × 20 small files, 3 × 64 MiB, 3 rounds).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
