"""Read the 归档文件目录 of a batch: CSV (UTF-8 or GB18030) or XLSX, Chinese or English headers.

Columns follow DA/T 22 (序号, 档号, 文号, 责任者, 题名, 日期, 密级, 页数, 保管期限, 备注) plus the
optional 政务服务 fields. Every problem becomes a :class:`Problem` with the row it concerns;
nothing here raises on bad input.
"""

from __future__ import annotations

import csv
import io
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook
from pydantic import ValidationError

from guidang.models import CatalogueRow
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
_HEADER_INDEX = {h.casefold(): attr for attr, names in COLUMNS.items() for h in names}


@dataclass(frozen=True)
class CatalogueParse:
    path: Path | None
    rows: tuple[CatalogueRow, ...]
    problems: tuple[Problem, ...]

    @property
    def usable(self) -> bool:
        """False when the batch cannot be processed at all (no rows could be read)."""
        return bool(self.rows)


def find_catalogue(batch_dir: Path) -> tuple[Path | None, list[Problem]]:
    found = [batch_dir / n for n in CATALOGUE_NAMES if (batch_dir / n).is_file()]
    if not found:
        return None, [Problem.fail("INTAKE-CATALOGUE", "missing")]
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        return None, [Problem.fail("INTAKE-CATALOGUE", "several", files=names)]
    return found[0], []


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


def _table_from_csv(path: Path) -> tuple[list[list[str]], Problem | None]:
    text, problem = decode_text(path.read_bytes())
    if text is None:
        return [], problem
    sample = text[:4096]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:  # newline="": the csv module sees \r, \n and \r\n itself (a bare \r was an error; found by fuzzing)
        return [row for row in csv.reader(io.StringIO(text, newline=""), dialect) if any(c.strip() for c in row)], None
    except csv.Error as exc:  # a field over the csv module's limit (128 KiB), a NUL, …
        return [], Problem.fail("INTAKE-CATALOGUE", "unreadable", detail=f"CSV: {exc}")


# what openpyxl raises for a damaged workbook: a broken zip or deflate stream (zlib.error), a part
# compressed by an unknown method (NotImplementedError) or encrypted (RuntimeError) (all found by
# fuzzing), a missing part, XML that does not parse (SyntaxError: ElementTree's ParseError), values
# of the wrong type
_XLSX_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, KeyError, ValueError, TypeError, IndexError,
                AttributeError, SyntaxError, NotImplementedError, RuntimeError)


def _table_from_xlsx(path: Path) -> tuple[list[list[str]], Problem | None]:
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except _XLSX_ERRORS as exc:
        return [], Problem.fail("INTAKE-CATALOGUE", "unreadable", detail=f"{type(exc).__name__}: {exc}")
    try:
        sheet = wb.worksheets[0]
        rows = [
            ["" if v is None else _cell_text(v) for v in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    except _XLSX_ERRORS as exc:
        return [], Problem.fail("INTAKE-CATALOGUE", "unreadable", detail=f"{type(exc).__name__}: {exc}")
    finally:
        wb.close()
    return [r for r in rows if any(c.strip() for c in r)], None


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows_to_models(table: Sequence[Sequence[str]]) -> tuple[list[CatalogueRow], list[Problem]]:
    header = [h.strip().lstrip("\ufeff").casefold() for h in table[0]]
    mapping = {i: _HEADER_INDEX[h] for i, h in enumerate(header) if h in _HEADER_INDEX}
    missing = [COLUMNS[a][0] for a in REQUIRED if a not in mapping.values()]
    if missing:
        return [], [Problem.fail("INTAKE-CATALOGUE", "column_missing", columns="、".join(missing))]
    rows: list[CatalogueRow] = []
    problems: list[Problem] = []
    for n, raw in enumerate(table[1:], start=1):
        values = {attr: raw[i].strip() for i, attr in mapping.items() if i < len(raw) and raw[i].strip()}
        code = values.get("archival_code")
        bad = [COLUMNS[a][0] for a in REQUIRED if not values.get(a)]
        for column in bad:
            problems.append(Problem.fail("INTAKE-ROW", "value_missing", code, row=n, column=column))
        if bad:
            continue
        pages = values.get("page_count")
        if pages is not None and not pages.isdigit():
            problems.append(Problem.fail("INTAKE-ROW", "not_integer", code, row=n, column="页数", value=pages))
            values.pop("page_count")
        try:
            rows.append(CatalogueRow.model_validate({"row": n, **values}))
        except ValidationError as exc:  # defensive: every field is a string or int
            problems.append(Problem.fail("INTAKE-ROW", "value_missing", code, row=n, column=str(exc)))
    problems.extend(_duplicates(rows))
    return rows, problems


def _duplicates(rows: Iterable[CatalogueRow]) -> list[Problem]:
    where: dict[str, list[int]] = defaultdict(list)
    for r in rows:
        where[r.archival_code].append(r.row)
    return [
        Problem.fail("INTAKE-ROW", "duplicate_code", code, code=code, rows="、".join(map(str, ns)))
        for code, ns in where.items()
        if len(ns) > 1
    ]


def read_catalogue(batch_dir: Path) -> CatalogueParse:
    path, problems = find_catalogue(batch_dir)
    if path is None:
        return CatalogueParse(None, (), tuple(problems))
    reader = _table_from_xlsx if path.suffix.lower() == ".xlsx" else _table_from_csv
    try:
        table, problem = reader(path)
    except OSError as exc:
        table, problem = [], Problem.fail("INTAKE-CATALOGUE", "unreadable", detail=str(exc))
    if problem is not None:
        return CatalogueParse(path, (), (problem,))
    if len(table) < 2:
        return CatalogueParse(path, (), (Problem.fail("INTAKE-CATALOGUE", "empty"),))
    rows, row_problems = _rows_to_models(table)
    return CatalogueParse(path, tuple(rows), tuple(row_problems))
