"""DA/T 70 settings (``[dat70]`` in guidang.toml): a light module, so config.py can import it."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

OFD_ID = "guidang:ofd"  # OFD (GB/T 33190) has no PRONOM signature; formats.py identifies it by OFD.xml


def _families() -> list[dict[str, Any]]:
    """The format table (``data/archival_formats.toml``): families of PRONOM ids, their roles and sources."""
    text = resources.files("guidang.validators").joinpath("data/archival_formats.toml").read_text("utf-8")
    families: list[dict[str, Any]] = tomllib.loads(text)["family"]
    return families


FORMAT_FAMILIES = tuple(_families())


def formats_for(role: str) -> tuple[str, ...]:
    """PRONOM ids of every family with ``role`` (content | preservation | original), in the table's order."""
    return tuple(p for f in FORMAT_FAMILIES if role in f["roles"] for p in f["puids"])


ALLOWED_FORMATS = formats_for("content")
PRESERVATION_FORMATS = formats_for("preservation")
ORIGINAL_FORMATS = formats_for("original")


class Dat70Options(BaseModel):
    """DA/T 70 settings (``[dat70]`` in guidang.toml)."""

    # 1-6: characters allowed although they are GB 18030 double-byte symbols (common Chinese punctuation)
    allowed_symbols: str = "，。、；：？！“”‘’（）《》〈〉【】〔〕—…·－～％＋＝／"
    # 1-5: earliest plausible year of a record (legacy paper may be old)
    earliest_year: int = Field(default=1900, ge=1000)
    # 1-8: metadata elements whose value must be unique in the catalogue besides 档号
    duplicate_keys: list[str] = Field(default_factory=lambda: ["电子文件号"])
    # 2-6: first number of a sequence (件号, page sequence)
    sequence_start: int = 1
    # 2-9: retention schedule (保管期限表): 事项名称/文种/关键词 → allowed 保管期限 codes
    retention_schedule: dict[str, list[str]] = Field(default_factory=dict)
    # 2-9: retention periods accepted at all (DA/T 22-2015; legacy 长期/短期 on digitised paper)
    retention_periods: list[str] = Field(
        default_factory=lambda: [
            "永久",
            "定期30年",
            "定期10年",
            "Y",
            "D30",
            "D10",
            "长期",
            "短期",
            "30年",
            "10年",
        ]
    )
    # 1-4: local terms added to a DA/T 46 value domain (STANDARDS §4.3: e.g. 密级 内部), domain → terms
    domain_terms: dict[str, list[str]] = Field(default_factory=dict)
    # 3-3: formats accepted at archiving (GB/T 18894-2016 8.3: PDF, PDF/A, OFD, TIFF, JPEG, PNG; text, XML)
    allowed_formats: list[str] = Field(default_factory=lambda: list(ALLOWED_FORMATS))
    # 3-5: formats fit for long-term preservation (DA/T 47: PDF/A and OFD for fixed layout; images; text)
    preservation_formats: list[str] = Field(default_factory=lambda: list(PRESERVATION_FORMATS))
    # 3-3 on a born-digital record: formats accepted for the originals kept beside the preservation copy
    # (GB/T 18894-2016 8.3.3 a: RTF, WPS, DOCX … as components; the table data/archival_formats.toml)
    original_formats: list[str] = Field(default_factory=lambda: list(ORIGINAL_FORMATS))
    # PDF/A part required of content/<档号>.pdf (1b, 2b, 3b)
    pdfa_part: str = Field(default="2b", pattern=r"^(1b|2b|3b)$")
    # 3-6: creating programs (文档创建程序) not acceptable: unknown or unlicensed software
    forbidden_programs: list[str] = Field(default_factory=lambda: ["未知", "unknown", "破解", "cracked"])
    # 3-9: where backups of packages are kept: <root>/<档号>/ or <root>/<档号>.zip / .tar / .tar.gz
    backup_roots: list[Path] = Field(default_factory=list)
    # 4-1: oldest acceptable antivirus signature database, in days
    max_signature_age_days: int = Field(default=30, ge=1)
    # 2-5: actions that must each appear in the process history (业务行为); 检测 is recorded after GD
    required_actions: list[str] = Field(default_factory=lambda: ["接收"])
