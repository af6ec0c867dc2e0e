"""Read the 归档文件目录 of a batch: CSV (UTF-8 or GB18030) or XLSX, Chinese or English headers.

Columns follow DA/T 22 (序号, 档号, 文号, 责任者, 题名, 日期, 密级, 页数, 保管期限, 备注) plus the
optional 政务服务 fields. Every problem becomes a :class:`Problem` with the row it concerns;
nothing here raises on bad input.
"""

from __future__ import annotations

import csv
import io
import os
import stat
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from openpyxl import load_workbook

from guidang import safexml
from guidang.models import CatalogueRow
from guidang.pipeline.limits import BatchLimits
from guidang.pipeline.problems import Problem

CATALOGUE_NAMES = ("catalogue.csv", "目录.csv", "目录.xlsx", "catalogue.xlsx")

# attribute of CatalogueRow -> accepted headers (first is the DA/T 22 name used in messages)
COLUMNS: dict[str, tuple[str, ...]] = {
    "seq": ("序号", "seq", "no", "serial"),
    "archival_code": ("档号", "archival_code", "reference_code", "dh"),
    "doc_number": ("文号", "文件编号", "doc_number", "document_number"),
    "creator": ("责任者", "creator", "author"),
    "title": ("题名", "title"),
    "date": ("日期", "date"),
    "classification": ("密级", "classification", "security_class"),
    "page_count": ("页数", "page_count", "pages"),
    "retention": ("保管期限", "retention", "retention_period"),
    "remarks": ("备注", "remarks", "notes"),
    "matter_name": ("事项名称", "matter_name"),
    "matter_code": ("事项编码", "matter_code"),
    "case_number": ("办件编号", "case_number"),
    "applicant": ("申请人", "applicant"),
    "accepted_at": ("受理时间", "accepted_at"),
    "completed_at": ("办结时间", "completed_at"),
    "outcome": ("办理结果", "outcome"),
}
REQUIRED = ("archival_code", "title")


@dataclass(frozen=True)
class CatalogueParse:
    path: Path | None
    rows: tuple[CatalogueRow, ...]
    problems: tuple[Problem, ...]

    @property
    def usable(self) -> bool:
        """False when the batch cannot be processed at all (no rows could be read)."""
        return bool(self.rows)


def find_catalogue(batch_dir: Path, file_names: Sequence[str] = CATALOGUE_NAMES) -> tuple[Path | None, list[Problem]]:
    """The batch's one catalogue file (one of ``file_names``). A link (symbolic, or a file with other
    names) or anything but a regular file is never opened: it is a problem that stops the whole batch."""
    found: list[Path] = []
    for name in file_names:
        try:
            st = os.lstat(batch_dir / name)
        except OSError:
            continue
        found.append(batch_dir / name)
        problem = unsafe_root_file("INTAKE-CATALOGUE", name, st)
        if problem is not None:
            return None, [problem]
    if not found:
        return None, [Problem.fail("INTAKE-CATALOGUE", "missing")]
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        return None, [Problem.fail("INTAKE-CATALOGUE", "several", files=names)]
    return found[0], []


def unsafe_root_file(check_id: str, name: str, st: os.stat_result) -> Problem | None:
    """The problem with a file guidang itself reads at the batch root (catalogue, manifest), if any."""
    if stat.S_ISLNK(st.st_mode):
        return Problem.fail(check_id, "linked", file=name, detail="符号链接", detail_en="symbolic link")
    if not stat.S_ISREG(st.st_mode):
        kind = "文件夹 folder" if stat.S_ISDIR(st.st_mode) else "特殊文件 special file"
        return Problem.fail(check_id, "not_regular", file=name, detail=kind)
    if st.st_nlink > 1:
        return Problem.fail(check_id, "linked", file=name, detail=f"硬链接（另有 {st.st_nlink - 1} 个名称）",
                            detail_en=f"hard link (with {st.st_nlink - 1} other names)")
    return None


def decode_text(raw: bytes) -> tuple[str | None, Problem | None]:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030; else a specific problem."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), None
        except UnicodeDecodeError as utf16_err:  # a lone surrogate, an odd byte count (found by fuzzing)
            return None, Problem.fail(
                "INTAKE-CATALOGUE", "encoding_utf16", offset=utf16_err.start, detail=utf16_err.reason
            )
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as utf8_err:
        try:
            return raw.decode("gb18030"), None
        except UnicodeDecodeError:
            return None, Problem.fail(
                "INTAKE-CATALOGUE", "encoding", offset=utf8_err.start, detail=utf8_err.reason
            )


def _too_many_rows(limits: BatchLimits) -> Problem:
    return Problem.fail("INTAKE-CATALOGUE", "too_many_rows", limit=limits.max_rows)


def _table_from_csv(path: Path, limits: BatchLimits) -> tuple[list[list[str]], Problem | None]:
    text, problem = decode_text(path.read_bytes())
    if text is None:
        return [], problem
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    table: list[list[str]] = []
    try:  # newline="": the csv module sees a bare \r too (an error before; found by fuzzing)
        for row in csv.reader(io.StringIO(text, newline=""), dialect):
            if any(c.strip() for c in row):
                table.append(row)
                if len(table) > limits.max_rows + 1:  # the header, then at most max_rows rows
                    return [], _too_many_rows(limits)
    except csv.Error as exc:  # a NUL byte, a field beyond csv.field_size_limit()
        return [], Problem.fail("INTAKE-CATALOGUE", "unreadable", detail=f"CSV: {exc}")
    return table, None


def _table_from_xlsx(path: Path, limits: BatchLimits) -> tuple[list[list[str]], Problem | None]:
    refused = safexml.check_ooxml(path, limits.ooxml())
    if refused is not None and refused.reason == "not_zip":
        return [], Problem.fail("INTAKE-CATALOGUE", "unreadable", detail=refused.detail)
    if refused is not None:
        return [], Problem.fail("INTAKE-CATALOGUE", f"xlsx_{refused.reason}", part=refused.part or "-",
                                detail=refused.detail)
    table: list[list[str]] = []
    try:  # any error of a parser library over vendor input is a verdict, never a traceback
        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            sheet = wb.worksheets[0]
            for row in sheet.iter_rows(values_only=True):
                cells = ["" if v is None else _cell_text(v) for v in row]
                if any(c.strip() for c in cells):
                    table.append(cells)
                    if len(table) > limits.max_rows + 1:
                        return [], _too_many_rows(limits)
        finally:
            wb.close()
    except Exception as exc:
        return [], Problem.fail("INTAKE-CATALOGUE", "unreadable", detail=f"{type(exc).__name__}: {str(exc)[:200]}")
    return table, None


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class CatalogueLayout:
    """What one kind of catalogue file is called and which columns it has: the 归档文件目录 (the
    default), or a volume batch's 案卷目录 and 卷内目录 (pipeline/volumes.py)."""

    file_names: tuple[str, ...] = CATALOGUE_NAMES
    columns: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: COLUMNS)
    required: tuple[str, ...] = REQUIRED
    integers: tuple[str, ...] = ("page_count",)

    @cached_property
    def header_index(self) -> dict[str, str]:
        return {h.casefold(): attr for attr, names in self.columns.items() for h in names}


ITEM_LAYOUT = CatalogueLayout()


def _rows_to_models(table: Sequence[Sequence[str]],
                    layout: CatalogueLayout = ITEM_LAYOUT) -> tuple[list[CatalogueRow], list[Problem]]:
    header = [h.strip().lstrip("\ufeff").casefold() for h in table[0]]
    index = layout.header_index
    mapping = {i: index[h] for i, h in enumerate(header) if h in index}
    missing = [layout.columns[a][0] for a in layout.required if a not in mapping.values()]
    if missing:
        return [], [Problem.fail("INTAKE-CATALOGUE", "column_missing", columns="、".join(missing))]
    rows: list[CatalogueRow] = []
    problems: list[Problem] = []
    for n, raw in enumerate(table[1:], start=1):
        values = {attr: raw[i].strip() for i, attr in mapping.items() if i < len(raw) and raw[i].strip()}
        code = values.get("archival_code")
        for column in (layout.columns[a][0] for a in layout.required if not values.get(a)):
            problems.append(Problem.fail("INTAKE-ROW", "value_missing", code, row=n, column=column))
        for attr in layout.integers:
            number = values.get(attr)
            if number is not None and not number.isdigit():
                problems.append(Problem.fail("INTAKE-ROW", "not_integer", code, row=n,
                                             column=layout.columns[attr][0], value=number))
                values.pop(attr)
        # every row is kept, an empty required value as "": each row gets its own verdict
        rows.append(CatalogueRow.model_validate({"archival_code": "", "title": "", **values, "row": n}))
    problems.extend(_duplicates(rows))
    return rows, problems


def _duplicates(rows: Iterable[CatalogueRow]) -> list[Problem]:
    where: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        if r.archival_code:
            where[r.archival_code].append(r.row)
    return [
        Problem.fail("INTAKE-ROW", "duplicate_code", code, code=code, rows="、".join(map(str, ns)))
        for code, ns in where.items()
        if len(ns) > 1
    ]


def read_catalogue(batch_dir: Path, limits: BatchLimits | None = None,
                   layout: CatalogueLayout = ITEM_LAYOUT) -> CatalogueParse:
    limits = limits or BatchLimits()
    path, problems = find_catalogue(batch_dir, layout.file_names)
    if path is None:
        return CatalogueParse(None, (), tuple(problems))
    reader = _table_from_xlsx if path.suffix.lower() == ".xlsx" else _table_from_csv
    table: list[list[str]]
    problem: Problem | None
    try:
        size = path.stat().st_size
        if size > limits.max_catalogue_bytes:
            table, problem = [], Problem.fail("INTAKE-CATALOGUE", "too_large", size=size,
                                              limit=limits.max_catalogue_bytes)
        else:
            table, problem = reader(path, limits)
    except OSError as exc:
        table, problem = [], Problem.fail("INTAKE-CATALOGUE", "unreadable", detail=str(exc))
    if problem is not None:
        return CatalogueParse(path, (), (problem,))
    if len(table) < 2:
        return CatalogueParse(path, (), (Problem.fail("INTAKE-CATALOGUE", "empty"),))
    rows, row_problems = _rows_to_models(table, layout)
    return CatalogueParse(path, tuple(rows), tuple(row_problems))
