"""DA/T 70 settings (``[dat70]`` in guidang.toml): a light module, so config.py can import it."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

OFD_ID = "guidang:ofd"  # OFD (GB/T 33190) has no PRONOM signature; formats.py identifies it by OFD.xml

# PRONOM ids, by family
PDF_A = ("fmt/95", "fmt/354", "fmt/476", "fmt/477", "fmt/478", "fmt/479", "fmt/480", "fmt/481")  # 1a … 3u
PDF = ("fmt/14", "fmt/15", "fmt/16", "fmt/17", "fmt/18", "fmt/19", "fmt/20", "fmt/276")  # PDF 1.0 … 1.7, 2.0
TIFF = ("fmt/353", "fmt/7", "fmt/8", "fmt/9", "fmt/10")
JPEG = ("fmt/41", "fmt/42", "fmt/43", "fmt/44", "fmt/112", "x-fmt/398", "x-fmt/390", "x-fmt/391", "fmt/645")
PNG = ("fmt/11", "fmt/12", "fmt/13", "fmt/935")
TEXT_XML = ("x-fmt/111", "fmt/101")
ALLOWED_FORMATS = (*PDF_A, *PDF, *TIFF, *JPEG, *PNG, *TEXT_XML, OFD_ID)
PRESERVATION_FORMATS = (*PDF_A, *TIFF, *JPEG, *PNG, *TEXT_XML, OFD_ID)


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
