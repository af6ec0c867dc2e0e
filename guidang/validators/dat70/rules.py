"""The metadata rules (lengths, formats) as data, and the value parsers the checks share."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any


@dataclass(frozen=True)
class FormatRule:
    kind: str
    regex: re.Pattern[str] | None = None
    rule: str = ""

    def describe(self) -> str:
        return self.rule or {
            "year": "四位年份 YYYY / four-digit year",
            "date": "日期 YYYY-MM-DD 或 YYYYMMDD / date as YYYY-MM-DD or YYYYMMDD",
            "datetime": "ISO 8601 日期时间 / ISO 8601 date-time",
            "integer": "非负整数 / a whole number",
            "digits": "数字 / digits",
        }.get(self.kind, self.kind)


@dataclass(frozen=True)
class MetadataRules:
    length: MappingProxyType[str, int]
    bytes: MappingProxyType[str, int]
    formats: MappingProxyType[str, FormatRule]


@cache
def metadata_rules() -> MetadataRules:
    raw: dict[str, Any] = tomllib.loads(
        files("guidang.validators.dat70").joinpath("metadata_rules.toml").read_text("utf-8")
    )
    formats = {
        name: FormatRule(spec["kind"], re.compile(spec["regex"]) if "regex" in spec else None, spec.get("rule", ""))
        for name, spec in raw["format"].items()
    }
    return MetadataRules(
        length=MappingProxyType(dict(raw["length"])),
        bytes=MappingProxyType(dict(raw["bytes"])),
        formats=MappingProxyType(formats),
    )


def parse_date(value: str) -> dt.date | None:
    """YYYYMMDD or YYYY-MM-DD (DA/T 22 catalogues use the first, ISO 8601 the second); YYYY-MM and
    YYYY (ISO 8601 reduced precision, for legacy paper with a partial date) give the first day."""
    v = value.strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d", "%Y-%m", "%Y"):
        try:
            return dt.datetime.strptime(v, fmt).date()
        except ValueError:
            continue
    return None


def parse_datetime(value: str) -> dt.datetime | None:
    """ISO 8601 date-time (or a bare date); naive values are taken as China Standard Time."""
    v = value.strip()
    if not v:
        return None
    d = parse_date(v)
    if d is not None:
        return dt.datetime(d.year, d.month, d.day, tzinfo=CST)
    try:
        t = dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=CST)


CST = dt.timezone(dt.timedelta(hours=8), "CST")


def check_format(rule: FormatRule, value: str) -> bool:
    v = value.strip()
    if rule.kind == "year":
        return bool(re.fullmatch(r"[0-9]{4}", v))
    if rule.kind == "date":
        return parse_date(v) is not None
    if rule.kind == "datetime":
        return parse_datetime(v) is not None
    if rule.kind == "integer":
        return bool(re.fullmatch(r"[0-9]+", v))
    if rule.kind == "digits":
        return bool(re.fullmatch(r"[0-9]+", v))
    if rule.kind == "pattern" and rule.regex is not None:
        return bool(rule.regex.search(v))
    raise ValueError(f"unknown format kind {rule.kind!r}")
