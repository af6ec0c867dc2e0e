"""Checks of one catalogue row at intake, before any image is read: the DA/T 70 metadata items
(1-2 … 1-7, by the same rules the package checks use) and the classification rule.

A defect of the vendor's metadata is reported under the DA/T 70 item that names it (``GD-1-4``
for a 保管期限 outside its domain, …), for the row it is on, so the vendor sees which row to fix.
"""

from __future__ import annotations

from collections.abc import Iterator

from guidang.models import CatalogueRow
from guidang.packaging.archival_code import ArchivalCodeRule, parse
from guidang.pipeline.problems import Problem
from guidang.validators.dat70.authenticity import (
    Value,
    character_findings,
    code_findings,
    domain_findings,
    format_findings,
    length_findings,
    plausibility_findings,
    retention_part_findings,
)
from guidang.validators.dat70_options import Dat70Options
from guidang.validators.result import Finding
from guidang.validators.spec import Stage

# catalogue DB column -> DA/T 46 element: 1-2 to 1-6 check the catalogue row (at intake) and the DB
# record (at GD, beside the package) by these names
DB_ELEMENTS = {
    "archival_code": "档号", "title": "题名", "creator": "责任者", "date": "日期", "classification": "密级",
    "doc_number": "文件编号", "retention": "保管期限", "page_count": "页数",
}

# the three levels of state secrets (《中华人民共和国保守国家秘密法》: 绝密、机密、秘密); a 密级 written
# with its 保密期限 (机密★10年) starts with the level
CLASSIFIED_LEVELS = ("绝密", "机密", "秘密")


def db_record(row: CatalogueRow) -> dict[str, str]:
    """The row's values under their DA/T 46 element names (empty values left out)."""
    values = row.model_dump()
    return {element: str(values[key]) for key, element in DB_ELEMENTS.items() if values.get(key) not in (None, "")}


def classified_level(row: CatalogueRow) -> str | None:
    """The state-secret level of the row's 密级, or None when it is not classified."""
    value = (row.classification or "").strip()
    return next((level for level in CLASSIFIED_LEVELS if value.startswith(level)), None)


def _code_and_parts(row: CatalogueRow, rule: ArchivalCodeRule, catalogue: str) -> Iterator[Finding]:
    """1-7 on a row: its 档号 under the rule, then the 档号's retention part against the row's 保管期限."""
    issues = list(code_findings(row.archival_code, rule, catalogue))
    yield from issues
    if not issues:
        parsed = parse(row.archival_code, rule)
        yield from retention_part_findings(row.archival_code, parsed, row.retention, catalogue)


def row_problems(row: CatalogueRow, catalogue: str, rule: ArchivalCodeRule, options: Dat70Options,
                 *, classified_system: bool) -> list[Problem]:
    """The problems of one row's metadata; ``catalogue`` is the file's name (the evidence)."""
    code = row.archival_code or None
    problems: list[Problem] = []
    level = classified_level(row)
    if level is not None and not classified_system:
        problems.append(Problem.fail("INTAKE-CLASSIFIED", "classified", code, file=catalogue, row=row.row,
                                     level=row.classification))
    values = [Value(element, text, catalogue, f"第 {row.row} 行/row {row.row}: {element}")
              for element, text in db_record(row).items()]
    found: list[tuple[str, Iterator[Finding]]] = [
        ("1-2", length_findings(values)),
        ("1-3", format_findings(values)),
        ("1-4", domain_findings(values, options)),
        ("1-5", plausibility_findings(values, options)),
        ("1-6", character_findings(values, options)),
    ]
    if row.archival_code:  # an empty one is 2-4's (INTAKE-ROW value_missing)
        found.append(("1-7", _code_and_parts(row, rule, catalogue)))
    for item, findings in found:
        problems += [Problem(item, f, code, row.row, Stage.GD) for f in findings]
    return problems
