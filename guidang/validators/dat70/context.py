"""What a DA/T 70 run needs besides the package: options, the catalogue DB, the sender's declaration, clamd.

The context is how the pipeline (stage GD), transfer (YJ) and audits (BC) hand the same checks
their surroundings. Everything in it is optional; a check whose input is missing says so in its
result (a ``warn`` or ``fail`` naming what is missing), never a silent ``pass``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field

from guidang.packaging.archival_code import ArchivalCodeRule, get_rule
from guidang.validators.clamav import ClamdClient


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
    # 3-3 / 3-5: PRONOM ids accepted (GB/T 18894-2016 8.3, DA/T 47); .txt sidecars and XML metadata too
    allowed_formats: list[str] = Field(
        default_factory=lambda: [
            "fmt/95",
            "fmt/354",
            "fmt/476",
            "fmt/477",
            "fmt/478",
            "fmt/479",
            "fmt/480",
            "fmt/481",  # PDF/A
            "fmt/14",
            "fmt/15",
            "fmt/16",
            "fmt/17",
            "fmt/18",
            "fmt/19",
            "fmt/20",
            "fmt/276",  # PDF 1.0-1.7, 2.0
            "fmt/353",
            "fmt/153",
            "fmt/154",
            "fmt/155",
            "fmt/156",
            "fmt/7",
            "fmt/8",
            "fmt/9",
            "fmt/10",  # TIFF
            "fmt/43",
            "fmt/44",
            "fmt/42",
            "fmt/41",
            "x-fmt/398",
            "x-fmt/390",
            "x-fmt/391",
            "fmt/112",  # JPEG
            "fmt/11",
            "fmt/12",
            "fmt/13",
            "fmt/935",  # PNG
            "x-fmt/111",
            "fmt/101",
            "fmt/1507",  # text, XML
            "fmt/1683",  # OFD (GB/T 33190)
        ]
    )
    # 3-5: PRONOM ids fit for long-term preservation (DA/T 47: PDF/A, OFD; images TIFF/JPEG/PNG; text)
    preservation_formats: list[str] = Field(
        default_factory=lambda: [
            "fmt/95",
            "fmt/354",
            "fmt/476",
            "fmt/477",
            "fmt/478",
            "fmt/479",
            "fmt/480",
            "fmt/481",
            "fmt/353",
            "fmt/153",
            "fmt/154",
            "fmt/155",
            "fmt/156",
            "fmt/7",
            "fmt/8",
            "fmt/9",
            "fmt/10",
            "fmt/43",
            "fmt/44",
            "fmt/42",
            "fmt/41",
            "x-fmt/398",
            "x-fmt/390",
            "x-fmt/391",
            "fmt/112",
            "fmt/11",
            "fmt/12",
            "fmt/13",
            "fmt/935",
            "x-fmt/111",
            "fmt/101",
            "fmt/1507",
            "fmt/1683",
        ]
    )
    # PDF/A part required of content/<档号>.pdf (1b, 2b, 3b)
    pdfa_part: str = Field(default="2b", pattern=r"^(1b|2b|3b)$")
    # 3-6: creating programs (文档创建程序) not acceptable: unknown or unlicensed software
    forbidden_programs: list[str] = Field(default_factory=lambda: ["未知", "unknown", "破解", "cracked"])
    # 4-1: oldest acceptable antivirus signature database, in days
    max_signature_age_days: int = Field(default=30, ge=1)
    # 2-5: actions that must each appear in the process history (业务行为); 检测 is recorded after GD
    required_actions: list[str] = Field(default_factory=lambda: ["接收"])


@dataclass(frozen=True)
class SenderDeclaration:
    """What the sender declared before sending (1-14, 2-1, 2-2): package digest, counts, bytes."""

    package_digest: str | None = None
    algorithm: str = "sha256"  # sha256 | sm3
    file_count: int | None = None
    total_bytes: int | None = None
    source: str = "sender"


@dataclass(frozen=True)
class Registered:
    """Files registered for an item in the catalogue DB (the 登记表 at GD)."""

    file_count: int
    total_bytes: int


@dataclass(frozen=True)
class Event:
    """An entry of the audit log: who did what, when (4-7)."""

    agent: str
    action: str
    at: dt.datetime


class CatalogueLookups(Protocol):
    """The catalogue DB as DA/T 70 needs it (1-8, 2-1, 2-2, 3-2, 4-7)."""

    def ping(self) -> None:
        """Raise unless the database answers."""

    def archived_with(self, element: str, value: str) -> Sequence[str]:
        """档号 of the archived items whose ``element`` (档号, 电子文件号, …) equals ``value``."""
        ...

    def registered(self, archival_code: str) -> Registered | None:
        """Files registered for the item at intake, if the DB has them."""

    def events(self, archival_code: str) -> Sequence[Event]:
        """Audit-log entries about the item."""
        ...


@dataclass(frozen=True)
class Carrier:
    """An offline carrier (disc, disk) the package was delivered on (4-3, 4-4, 4-6)."""

    root: Path
    min_read_mib_s: float = 2.0


@dataclass(frozen=True)
class Dat70Context:
    options: Dat70Options = field(default_factory=lambda: Dat70Options())
    db: CatalogueLookups | None = None
    sender: SenderDeclaration | None = None
    clamd: ClamdClient | None = None
    carrier: Carrier | None = None  # None: online intake
    backups: Sequence[Path] = ()  # 3-9: backup copies of the package (folders or .tar/.zip)
    eeps: Sequence[Path] = ()  # 1-15, 1-16: EEPs (DA/T 48) of the package kept outside it
    fonds_code: str | None = None  # 1-9: the receiving archive's 全宗号
    archive_codes: Mapping[str, Sequence[str]] = field(default_factory=dict)  # 1-9: element → allowed codes
    archival_code_rule: str | ArchivalCodeRule = "dat22"
    # the item's record in the catalogue DB, element name → value (1-2 … 1-6 check the DB as well)
    db_record: Mapping[str, str] | None = None

    def rule(self) -> ArchivalCodeRule:
        r = self.archival_code_rule
        return r if isinstance(r, ArchivalCodeRule) else get_rule(r)
