"""The description of a born-digital case (办件): ``case.json`` or ``办件.json``, Chinese or English keys.

The fields are the catalogue's (``catalogue_file.COLUMNS``: 办件编号, 事项名称, 事项编码, 申请人, 受理时间,
办结时间, 办理结果, 题名, 责任者, 日期, 密级, 保管期限, an optional 档号) plus the materials list
(材料 / materials: ``{"文件"|"file", "类别"|"kind", "题名"|"title"}``). Problems are collected, never raised.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from guidang import names
from guidang.models import CatalogueRow
from guidang.pipeline.catalogue_file import COLUMNS
from guidang.pipeline.problems import Problem

CASE_FILES = ("case.json", "办件.json")
MAX_CASE_JSON_BYTES = 4 * 1024 * 1024  # a description, not a payload: far above any real one
MATERIAL_KINDS = ("申请材料", "过程材料", "结果材料")
OTHER_KIND = "其他材料"
MATERIAL_KEYS = {"文件": "file", "file": "file", "类别": "kind", "kind": "kind", "题名": "title", "title": "title"}
_KEY_INDEX = {h.casefold(): attr for attr, hs in COLUMNS.items() for h in hs}
REQUIRED = ("case_number", "title")


@dataclass(frozen=True)
class Material:
    file: str  # relative path inside the case folder, as listed
    kind: str
    title: str


@dataclass(frozen=True)
class CaseDescription:
    path: Path | None
    row: CatalogueRow | None  # None: unusable (its problems say why)
    materials: tuple[Material, ...]
    problems: tuple[Problem, ...]


def case_file(root: Path) -> Path | None:
    """The case description in ``root`` (a regular file, never a link), or None."""
    for name in CASE_FILES:
        p = root / name
        if p.is_file() and not p.is_symlink():
            return p
    return None


def is_case(root: Path) -> bool:
    return any(os.path.lexists(root / n) for n in CASE_FILES)


def read_case(root: Path) -> CaseDescription:
    path = case_file(root)
    if path is None:
        return CaseDescription(None, None, (), (Problem.fail("CASE-JSON", "missing"),))
    size = path.stat().st_size
    if size > MAX_CASE_JSON_BYTES:
        return CaseDescription(path, None, (), (
            Problem.fail("CASE-JSON", "too_large", file=path.name, size=size, limit=MAX_CASE_JSON_BYTES),))
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return CaseDescription(path, None, (), (Problem.fail("CASE-JSON", "unreadable", file=path.name,
                                                              detail=str(exc)),))
    if not isinstance(data, dict):
        return CaseDescription(path, None, (), (Problem.fail("CASE-JSON", "not_object", file=path.name),))
    return _describe(path, data)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool | dict | list):
        raise ValueError(f"expected text, found {type(value).__name__}")
    return str(value).strip() or None


def _describe(path: Path, data: dict[str, Any]) -> CaseDescription:
    problems: list[Problem] = []
    fields: dict[str, Any] = {}
    materials_raw: Any = None
    unknown = []
    for key, value in data.items():
        if key.casefold() in ("材料", "materials"):
            materials_raw = value
            continue
        attr = _KEY_INDEX.get(str(key).casefold())
        if attr is None or attr in ("seq", "page_count", "row"):
            unknown.append(str(key))
            continue
        try:
            fields[attr] = _text(value)
        except ValueError as exc:
            problems.append(Problem.fail("CASE-JSON", "bad_value", file=path.name, name=key, detail=str(exc)))
    if unknown:
        problems.append(Problem.warn("CASE-JSON", "unknown_key", file=path.name, keys="、".join(unknown)))
    missing = [COLUMNS[a][0] for a in REQUIRED if not fields.get(a)]
    if missing:
        problems.append(Problem.fail("CASE-JSON", "field_missing", file=path.name, fields="、".join(missing)))
    materials, material_problems = _materials(path, materials_raw)
    problems += material_problems
    row = None
    if not missing:
        try:
            row = CatalogueRow(row=1, archival_code=fields.pop("archival_code", None) or "", **fields)
        except ValidationError as exc:
            problems.append(Problem.fail("CASE-JSON", "bad_value", file=path.name, name="?", detail=str(exc)))
    return CaseDescription(path, row, tuple(materials), tuple(problems))


def _materials(path: Path, raw: Any) -> tuple[list[Material], list[Problem]]:
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        return [], [Problem.fail("CASE-JSON", "bad_value", file=path.name, name="材料/materials",
                                 detail="expected a list")]
    out: list[Material] = []
    problems: list[Problem] = []
    for i, entry in enumerate(raw, start=1):
        if not isinstance(entry, dict):
            problems.append(Problem.fail("CASE-JSON", "bad_material", file=path.name, index=i, detail="not an object"))
            continue
        got = {MATERIAL_KEYS[k]: v for k, v in entry.items() if k in MATERIAL_KEYS}
        file = got.get("file")
        kind = got.get("kind") or OTHER_KIND
        if not isinstance(file, str) or not file.strip():
            problems.append(Problem.fail("CASE-JSON", "bad_material", file=path.name, index=i, detail="no file"))
            continue
        try:  # a name the business system gives is data until proven a safe relative path
            for part in file.split("/"):
                names.component(part)
        except names.UnsafeNameError as exc:
            problems.append(Problem.fail("CASE-JSON", "bad_material", file=path.name, index=i,
                                         detail=f"{names.printable(file)}: {exc.reason_en}"))
            continue
        if kind not in (*MATERIAL_KINDS, OTHER_KIND):
            problems.append(Problem.fail("CASE-JSON", "bad_material", file=path.name, index=i,
                                         detail=f"kind {kind!r} is not one of {'/'.join(MATERIAL_KINDS)}"))
            continue
        out.append(Material(file, str(kind), str(got.get("title") or "")))
    return out, problems
