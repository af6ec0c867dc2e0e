"""Volume batches (案卷): recognise them, read the 卷内目录 and link every document to its volume
and every page image to exactly one document (docs/volumes.md).

A volume batch is recognised by its 案卷目录 (one row per volume: the volume's 档号 names its folder,
which holds the volume's pages in order). Read with the item catalogue's reader (the same encodings
and header aliases), its rows become the items the steps process, one per volume. The 卷内目录 (one
row per document: its volume, 序号, 题名 …, 起始页号 and 终止页号 or 页号 "3-5") is read here and
checked against the images delivered: page ranges that overlap, leave gaps or run past the pages,
documents out of order, a volume without documents, a document without its volume (VOLUME-* in
``validators/checks/volume.toml``). Nothing here raises on bad input and nothing is modified.

Page numbers are the images' sequence numbers (DA/T 31 names the images ``<档号>-0001`` … in order).
The 备考表, a volume's last sheet, carries no 页号 (GB/T 9705, DA/T 22): one image after the last
document's last page is taken as the 备考表 and kept with the volume's masters, part of no document.
A blank page inside a document's range stays in that document, without a text layer (SCAN-BLANK).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from guidang.models import CatalogueRow
from guidang.packaging.archival_code import (
    LEVEL_SEP,
    ArchivalCodeError,
    ArchivalCodeRule,
    document_code,
    volume_rule,
)
from guidang.pipeline.catalogue_file import (
    CATALOGUE_NAMES,
    COLUMNS,
    CatalogueLayout,
    CatalogueParse,
    read_catalogue,
)
from guidang.pipeline.limits import BatchLimits
from guidang.pipeline.problems import Problem

VOLUME_LAYOUT = CatalogueLayout(
    file_names=("案卷目录.csv", "案卷目录.xlsx", "volumes.csv", "volumes.xlsx"),
    columns={**COLUMNS,
             "title": ("案卷题名", "题名", "title", "volume_title"),
             "creator": ("立卷单位", "责任者", "creator", "unit"),
             "date_range": ("起止日期", "date_range", "dates")},
)
DOCUMENT_LAYOUT = CatalogueLayout(
    file_names=("卷内目录.csv", "卷内目录.xlsx", "documents.csv", "documents.xlsx"),
    columns={**COLUMNS,
             "archival_code": ("档号", "archival_code", "document_code"),
             "volume_code": ("案卷档号", "volume_code", "volume"),
             "first_page": ("起始页号", "起页号", "first_page", "start_page"),
             "last_page": ("终止页号", "止页号", "last_page", "end_page"),
             "page_range": ("页号", "起止页号", "page_range")},
    required=("title",),
    integers=("page_count", "first_page", "last_page"),
)
FILE_NAMES = VOLUME_LAYOUT.file_names + DOCUMENT_LAYOUT.file_names
RowChecks = Callable[[CatalogueRow, str], list[Problem]]
_RANGE = re.compile(r"\s*(\d+)\s*(?:[-–—～~至]\s*(\d+)\s*)?")


@dataclass(frozen=True)
class VolumeDocument:
    """One document (文件) of a volume: its 卷内目录 row, its place, its 档号 and its pages (1-based, inclusive)."""

    row: CatalogueRow
    number: int  # its place in the volume (件号 under a by-volume rule)
    code: str | None  # its own 档号 (given, or the volume's 档号 with its 件号), None when the rule gives none
    first_page: int
    last_page: int

    @property
    def pages(self) -> int:
        return self.last_page - self.first_page + 1

    @property
    def label(self) -> str:
        """How a reader names it: its 档号, else 序号 (else its place)."""
        return self.code or self.row.seq or str(self.number)


@dataclass(frozen=True)
class Volume:
    """A volume's documents, in order, and the images delivered for it."""

    code: str
    documents: tuple[VolumeDocument, ...]
    images: int
    backsheet: bool  # the last image is the 备考表 (no 页号, part of no document)

    def expected_images(self, page_count: int | None) -> int | None:
        """The images the 案卷目录's 页数 stands for: the numbered pages, and the 备考表 when delivered."""
        return None if page_count is None else page_count + (1 if self.backsheet else 0)


@dataclass(frozen=True)
class VolumeIntake:
    """What the volume step read: the volumes linked, and every problem found (bound to a volume, or none)."""

    list_path: Path | None
    volumes: Mapping[str, Volume]
    problems: tuple[Problem, ...]


def is_volume_batch(root: Path) -> bool:
    """A batch is a volume batch when it delivers a 案卷目录 (as a file name; links are judged by the reader)."""
    return any((root / name).exists() or (root / name).is_symlink() for name in VOLUME_LAYOUT.file_names)


def read_volume_catalogue(root: Path, limits: BatchLimits) -> CatalogueParse:
    """The 案卷目录: one row per volume, its 档号 naming the volume's folder. A batch that also brings an
    item catalogue (归档文件目录) is ambiguous: the batch is returned (INTAKE-CATALOGUE several)."""
    items = [n for n in CATALOGUE_NAMES if os.path.lexists(root / n)]
    if items:
        volumes = [n for n in VOLUME_LAYOUT.file_names if os.path.lexists(root / n)]
        several = Problem.fail("INTAKE-CATALOGUE", "several", files="、".join(volumes + items))
        return CatalogueParse(None, (), (several,))
    return read_catalogue(root, limits, VOLUME_LAYOUT)


def _volume_of_code(code: str) -> str:
    return code.rsplit(LEVEL_SEP, 1)[0] if LEVEL_SEP in code else ""


def _rebind(problems: Iterable[Problem], owner: Mapping[str, str], line_owner: Mapping[int, str]) -> list[Problem]:
    """Problems of the 卷内目录's rows, bound to the volume the row belongs to (a 卷内 row number is
    not an 案卷目录 row: it is never kept as ``row``)."""
    out = []
    for p in problems:
        volume = owner.get(p.item_code or "") or (line_owner.get(p.row) if p.row is not None else None)
        out.append(dataclasses.replace(p, item_code=volume, row=None))
    return out


def _page_range(row: CatalogueRow) -> tuple[int, int] | None:
    if row.first_page is not None:
        last = row.last_page if row.last_page is not None else row.first_page
        return row.first_page, last
    m = _RANGE.fullmatch(row.page_range or "")
    if m is None:
        return None
    first = int(m[1])
    return first, int(m[2]) if m[2] else first


def _shown(numbers: Sequence[int]) -> str:
    """1、2、5-7 for [1, 2, 5, 6, 7]."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return "、".join(f"{r[0]}-{r[-1]}" if len(r) > 2 else "、".join(map(str, r)) for r in runs)


def _link_volume(code: str, rows: list[CatalogueRow], images: int, rule: ArchivalCodeRule,
                 numbered: bool) -> tuple[Volume, list[Problem]]:
    """Order, page ranges and 档号 of one volume's documents."""
    problems: list[Problem] = []
    seqs = [r.seq for r in rows]
    if all(s is not None and s.isdigit() for s in seqs):
        numbers = [int(s) for s in seqs if s is not None]
        if numbers != list(range(numbers[0], numbers[0] + len(numbers))) or numbers[0] != 1:
            problems.append(Problem.fail("VOLUME-ORDER", "seq_order", code, code=code,
                                         found="、".join(map(str, numbers))))
        rows = [r for _, r in sorted(zip(numbers, rows, strict=True), key=lambda t: t[0])]
    documents: list[VolumeDocument] = []
    for n, row in enumerate(rows, 1):
        found = _page_range(row)
        if found is None or found[0] < 1 or found[0] > found[1]:
            shown = row.page_range or f"{row.first_page or ''}-{row.last_page or ''}"
            problems.append(Problem.fail("VOLUME-RANGE", "invalid", code, code=code, line=row.row, range=shown))
            continue
        own = row.archival_code or None
        if own is None and numbered:
            try:
                own = document_code(code, n, rule).text
            except ArchivalCodeError:
                own = None  # the volume's own 档号 is wrong: 1-7 on its 案卷目录 row says so
        documents.append(VolumeDocument(row, n, own, found[0], found[1]))
    previous: VolumeDocument | None = None
    covered: set[int] = set()
    for doc in documents:
        if previous is not None and doc.first_page < previous.first_page:
            problems.append(Problem.fail("VOLUME-ORDER", "page_order", code, code=code, number=doc.number,
                                         first=doc.first_page))
        pages = set(range(doc.first_page, doc.last_page + 1))
        for other in documents:
            if other.number < doc.number and pages & set(range(other.first_page, other.last_page + 1)):
                both = sorted(pages & set(range(other.first_page, other.last_page + 1)))
                problems.append(Problem.fail("VOLUME-RANGE", "overlap", code, code=code, first=other.number,
                                             second=doc.number, pages=_shown(both)))
        if doc.last_page > images:
            problems.append(Problem.fail("VOLUME-RANGE", "beyond", code, code=code, number=doc.number,
                                         last=doc.last_page, images=images))
        covered |= pages
        previous = doc
    last = max(covered, default=0)
    backsheet = images == last + 1 and bool(documents)
    gaps = sorted(set(range(1, min(last, images) + 1)) - covered)
    if images > last + 1:  # more than one image after the last document: the last is the 备考表
        gaps += list(range(last + 1, images))
        backsheet = True
    if gaps and len(documents) == len(rows):
        problems.append(Problem.fail("VOLUME-RANGE", "gap", code, code=code, pages=_shown(gaps)))
    return Volume(code, tuple(documents), images, backsheet), problems


def read_volumes(root: Path, limits: BatchLimits, volume_rows: Sequence[CatalogueRow], images: Mapping[str, int],
                 rule: ArchivalCodeRule, row_checks: RowChecks) -> VolumeIntake:
    """Read the 卷内目录 and link it to the volumes of the 案卷目录 (``images``: page images per volume).

    ``rule`` is the profile's 档号 rule for documents; the volumes' own 档号 follow :func:`volume_rule`.
    ``row_checks`` are the metadata checks of one row (1-2 … 1-7, 密级), run on every document's row."""
    if volume_rule(rule) is None:
        return VolumeIntake(None, {}, (Problem.fail("VOLUME-LIST", "no_rule", rule=rule.name),))
    parsed = read_catalogue(root, limits, DOCUMENT_LAYOUT)
    if parsed.path is None and any(p.finding.key == "missing" for p in parsed.problems):
        return VolumeIntake(None, {}, (Problem.fail("VOLUME-LIST", "missing"),))
    if not parsed.usable:  # unreadable: the reader's own problem (INTAKE-CATALOGUE) stops the batch
        return VolumeIntake(parsed.path, {}, tuple(parsed.problems))
    codes = {r.archival_code for r in volume_rows if r.archival_code}
    problems: list[Problem] = []
    by_volume: dict[str, list[CatalogueRow]] = defaultdict(list)
    owner: dict[str, str] = {}
    line_owner: dict[int, str] = {}
    for row in parsed.rows:
        given, own = row.volume_code or "", row.archival_code
        implied = _volume_of_code(own) if own else ""
        volume = given or implied
        if not volume:
            problems.append(Problem.fail("VOLUME-LINK", "no_volume", line=row.row, title=row.title))
            continue
        if volume not in codes:
            problems.append(Problem.fail("VOLUME-LINK", "orphan", line=row.row, title=row.title, volume=volume))
            continue
        if given and own and implied != given:
            problems.append(Problem.fail("VOLUME-LINK", "code_mismatch", volume, line=row.row, doc=own, code=given))
        by_volume[volume].append(row)
        line_owner[row.row] = volume
        if own:
            owner[own] = volume
    checked = [p for row in parsed.rows for p in row_checks(row, parsed.path.name if parsed.path else "")]
    problems += _rebind([*parsed.problems, *checked], owner, line_owner)
    numbered = _numbers_documents(rule)
    volumes: dict[str, Volume] = {}
    for code in sorted(codes, key=[r.archival_code for r in volume_rows].index):
        rows = by_volume.get(code, [])
        if not rows:
            problems.append(Problem.fail("VOLUME-LINK", "no_documents", code, code=code))
            continue
        linked, found = _link_volume(code, rows, images.get(code, 0), rule, numbered)
        volumes[code] = linked
        problems += found
    return VolumeIntake(parsed.path, volumes, tuple(problems))


def _numbers_documents(rule: ArchivalCodeRule) -> bool:
    """Whether the rule gives a volume's documents their own 档号 (a 件号 after the 案卷号)."""
    return rule.slots[-1].spec.role == "item"

