"""Preflight: the vendor-side run of every check of ingest that needs no archive, on a batch as it
would be delivered (``guidang preflight BATCH_DIR``).

It runs intake as ingest does (catalogue, names, formats, viruses, the manifest's digests, each row's
metadata against the 档号 rule and the DA/T 70 row checks) and the DA/T 31 scan QA measurement and
checks, with the same check IDs and messages; it runs no OCR, builds no package, reads no catalogue
database and writes nothing: the result is returned, and the caller writes its report where it is
told to. What it cannot check without the archive (OCR-based page orientation, PDF/A, DA/T 70 checks
of the built package, duplicates against what is archived) is done at ingest.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from guidang.config import Settings
from guidang.errors import InputError
from guidang.ingest.scanqa.options import ScanQAOptions
from guidang.pipeline import steps
from guidang.pipeline.antivirus import open_scanner
from guidang.pipeline.intake import IntakePolicy, read_batch
from guidang.pipeline.progress import Progress
from guidang.pipeline.vendor_profile import VendorProfile
from guidang.validators.clamav import Scanner
from guidang.validators.result import CheckedSubject, Report

BATCH_KIND = "批次"
ITEM_KIND = "件"


@dataclass(frozen=True)
class PreflightResult:
    batch: Path
    subjects: tuple[CheckedSubject, ...]  # the batch first, then one per catalogue row and per extra folder
    pages: int  # page files measured

    @property
    def failed(self) -> bool:
        return any(s.failed for s in self.subjects)

    @property
    def defects(self) -> list[tuple[str, str]]:
        """(subject, check ID) of every failure, in report order."""
        return [(s.path, r.check_id) for s in self.subjects for r in s.report.failures]


def preflight_batch(batch: Path, policy: IntakePolicy, scan_qa: ScanQAOptions, scanner: Scanner | None,
                    *, jobs: int = 1, progress: Progress | None = None) -> PreflightResult:
    """Check ``batch`` as ingest would, short of OCR and the archive; nothing is written."""
    intake = read_batch(batch, policy, scanner)
    works: dict[str, steps.ItemWork] = {}
    for item in intake.items:
        work = works.setdefault(item.archival_code, steps.ItemWork(item))
        work.add(Report(tuple(p.result() for p in intake.problems_of(item.archival_code))))
    ready = [w for w in works.values() if not w.blocked]
    total = sum(len(w.item.pages) for w in ready)
    if progress is not None:
        progress.start(total)
    context = steps.measure(works, scan_qa, jobs, on_file=progress.advance if progress else None, ocr_follows=False)
    for work in ready:
        steps.scan_checks(work, scan_qa, context)
    subjects = [CheckedSubject(str(batch), BATCH_KIND, Report(tuple(p.result() for p in intake.batch_problems)))]
    for unit in intake.units:
        if unit.code in works:
            name = unit.code if unit.row is None else f"{unit.code}（第 {unit.row.row} 行 / row {unit.row.row}）"
            subjects.append(CheckedSubject(name, ITEM_KIND, Report(tuple(works[unit.code].results))))
        elif unit.row is not None:  # a row without 档号
            results = tuple(p.result() for p in intake.problems_of_row(unit.row.row))
            subjects.append(CheckedSubject(f"第 {unit.row.row} 行 / row {unit.row.row}", ITEM_KIND, Report(results)))
    return PreflightResult(batch, tuple(subjects), total)


def run_preflight(batch: Path, profile: VendorProfile, settings: Settings, *, jobs: int = 1,
                  progress: Progress | None = None) -> PreflightResult:
    """:func:`preflight_batch` with the configured antivirus held for the run (``settings`` only say
    which antivirus; the thresholds are the profile's)."""
    if not batch.is_dir() or batch.is_symlink():
        raise InputError(f"批次目录不存在或不是目录：{batch}", f"not a batch folder: {batch}")
    with open_scanner(settings) as scanner:
        return preflight_batch(batch, profile.policy(), profile.scan_qa, scanner, jobs=jobs, progress=progress)
