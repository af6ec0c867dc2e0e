"""Configuration: one TOML file in the working home plus ``GUIDANG_*`` environment overrides.

``GUIDANG_HOME`` names the working home (default ``./var``); the file is
``$GUIDANG_HOME/guidang.toml``. Nested keys are overridden with ``__``, e.g.
``GUIDANG_OCR__LANGUAGES=chi_tra+eng``. Paths that are relative are taken relative to
the home. Each inbox has a profile: the vendor, the fonds it delivers for, the 档号 rule
and the OCR languages.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from guidang.errors import ConfigError
from guidang.hotfolders.options import WatchOptions
from guidang.ingest.scanqa.options import ScanQAOptions
from guidang.packaging.archival_code import ArchivalCodeRule
from guidang.packaging.signing import SigningOptions
from guidang.pipeline.limits import BatchLimits
from guidang.storage.options import PreservationOptions
from guidang.validators.dat70_options import Dat70Options
from guidang.web.options import WebOptions

CONFIG_NAME = "guidang.toml"


def default_home() -> Path:
    return Path(os.environ.get("GUIDANG_HOME", "var")).resolve()


class OcrOptions(BaseModel):
    # the engine with the lower CER on the bench corpus, its throughput at least 0.9x the other's
    # (issue #14; measured in docs/ocr-engines.md); a profile may choose the other (ocr_engine)
    engine: Literal["ppocr", "tesseract"] = "ppocr"
    languages: str = "chi_sim+eng"
    # a line read with less confidence (0-100, mean of its words) is doubtful: on the bench corpus 50-100% of
    # such lines had an error, 2% (PP-OCR) and 15% (Tesseract) of those above (docs/ocr-engines.md); a page with
    # more than low_confidence_share of its lines doubtful gets an OCR warning, never a rejection (INGEST-OCR)
    low_confidence_ppocr: float = Field(default=95.0, ge=0, le=100)
    low_confidence_tesseract: float = Field(default=90.0, ge=0, le=100)
    low_confidence_share: float = Field(default=0.25, ge=0, le=1)

    def low_confidence(self, engine: str) -> float:
        """The doubtful-line threshold for a page read by *engine* (`OcrPage.engine`, e.g. "ppocr PP-OCRv4 …")."""
        return self.low_confidence_ppocr if engine.startswith("ppocr") else self.low_confidence_tesseract
    jobs: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1)
    # resolution Tesseract reads at (the page is downscaled for OCR only; never upscaled); None: the
    # scan's own. 200 dpi reads body text as well as 300 in 25-35% less time (docs/ocr.md)
    dpi: float | None = Field(default=200, gt=0)
    # pools a page is run in when its process dies under it (segfault, OOM kill); the last alone
    page_attempts: int = Field(default=3, ge=1)


class DistributedOptions(BaseModel):
    """The Celery back end (docs/deploy/distributed.md). No broker: the local process pool, as always."""

    # e.g. redis://:password@broker.example:6379/0; empty: page tasks run in the local process pool
    broker_url: str = ""
    # how long a worker holds a page before another may take it over (its worker is taken for dead):
    # well above the slowest page measured (docs/deploy/distributed.md, "Leases"); also Redis's visibility timeout
    lease_seconds: float = Field(default=600, gt=0)
    # how often the coordinator of a batch looks in the catalogue DB for finished pages
    poll_seconds: float = Field(default=0.5, gt=0)
    ocr_queue: str = "guidang-ocr"  # the queue of the page tasks (CPU-bound): OCR workers consume it
    # the queue of the item tasks (PDF/A, package, DA/T 70 checks, archive: mostly I/O on the store)
    item_queue: str = "guidang-item"
    # the queue of the batch tasks (the watcher's claims: intake, then waiting on the catalogue): batch workers only
    batch_queue: str = "guidang-batch"
    # how many holders of one item task may die under it before it is given up (as ocr.page_attempts for a page)
    item_attempts: int = Field(default=3, ge=1)


class PdfaOptions(BaseModel):
    part: str = Field(default="2b", pattern=r"^(1b|2b|3b)$")  # GB/T 18894 cites PDF/A-1 (GB/T 23286.1)


class ClamavOptions(BaseModel):
    """Empty socket: guidang runs its own clamd under ``$GUIDANG_HOME/clamav`` (see clamd_service)."""

    socket: Path | None = None
    # true: a command that scans (ingest, check) stops with exit code 4 when no antivirus answers;
    # false: it runs, and DA/T 70 4-1 and 4-2 fail for every item (nothing is accepted unscanned)
    required: bool = True


class AntivirusOptions(BaseModel):
    """A command-line antivirus used instead of clamd (docs/antivirus.md): empty ``command``: clamd."""

    command: list[str] = Field(default_factory=list)  # e.g. ["/opt/av/bin/scan", "--file", "{file}"]
    clean_exit_codes: list[int] = Field(default_factory=lambda: [0])
    infected_exit_codes: list[int] = Field(default_factory=lambda: [1])
    version_command: list[str] = Field(default_factory=list)  # prints product and signature version/date
    product: str = ""  # name reported under 4-1; default: the first line of version_command's output
    test_signatures: bool = False  # true: its signatures are a test set (4-2 then says so)
    timeout_seconds: float = Field(default=600, gt=0)


class Profile(BaseModel):
    """What an inbox delivers and how it is archived."""

    vendor: str = Field(description="vendor (外包扫描公司) or business system name")
    inbox: Path | None = Field(None, description="folder watched; default: inbox/<profile name>")
    archive_name: str = ""  # 档案馆名称
    fonds_code: str = "Z109"  # 全宗号
    fonds_name: str = ""  # 全宗名称
    unit_name: str = ""  # 立档单位名称
    archival_code_rule: str = "dat22"  # 档号 rule name (see packaging.archival_code)
    ocr_languages: str | None = None  # overrides ocr.languages for this inbox
    ocr_engine: Literal["ppocr", "tesseract"] | None = None  # overrides ocr.engine for this inbox
    quiet_seconds: float = 30.0  # inboxes without READY markers: quiet period
    require_ready_marker: bool = True
    scan_qa: ScanQAOptions = ScanQAOptions()  # DA/T 31 scan QA thresholds (guidang.ingest.scanqa)
    limits: BatchLimits = BatchLimits()  # what one batch may hold (guidang.pipeline.limits, docs/security.md)
    # false (default): an antivirus with test signatures only (no vendor database) blocks acceptance
    # (DA/T 70 4-2 fails); true: 4-2 warns and the item may be accepted. Only for a demo or a test.
    accept_test_signatures: bool = False
    # what the inbox takes: "scans" (vendor batches with a catalogue) or "cases" (born-digital 办件 from a
    # business system, each folder with a case.json; docs/cases.md). A folder with a case.json is a case either way.
    intake: Literal["scans", "cases"] = "scans"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUIDANG_", env_nested_delimiter="__", extra="forbid")

    home: Path = Field(default_factory=default_home)
    database_url: str = ""  # default: sqlite:///<home>/catalogue.db
    language: str = Field("zh", pattern=r"^(zh|en)$")
    # true only on a system accredited for state secrets (涉密信息系统): else rows whose 密级 is
    # 秘密, 机密 or 绝密 are refused at intake (docs/verdicts.md)
    classified_system: bool = False
    ocr: OcrOptions = OcrOptions()
    distributed: DistributedOptions = DistributedOptions()  # Celery back end (guidang.distributed)
    pdfa: PdfaOptions = PdfaOptions()
    clamav: ClamavOptions = ClamavOptions()
    antivirus: AntivirusOptions = AntivirusOptions()
    watch: WatchOptions = WatchOptions()
    signing: SigningOptions = SigningOptions()  # EEP signing key (guidang.packaging.signing)
    dat70: Dat70Options = Dat70Options()  # DA/T 70 check policy (guidang.validators.dat70_options)
    preservation: PreservationOptions = PreservationOptions()  # second copy, audits, S3 (guidang.storage.options)
    profiles: dict[str, Profile] = Field(default_factory=dict)
    archival_code_rules: dict[str, ArchivalCodeRule] = Field(default_factory=dict)  # 档号 rules; see get_rule
    web: WebOptions = WebOptions()  # guidang serve (issue #15, guidang.web.options)
    # the archive's own font folders (仿宋_GB2312, 方正小标宋, 楷体 … which Debian lacks), used when office
    # documents of born-digital cases are converted to PDF/A (guidang.ingest.office; docs/cases.md)
    fonts_dirs: list[Path] = Field(default_factory=list)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # a home passed in (Settings(home=…)) names the file read; only then GUIDANG_HOME or ./var
        given = getattr(init_settings, "init_kwargs", {}).get("home")
        toml_file = (Path(given).resolve() if given is not None else default_home()) / CONFIG_NAME
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))

    # Layout of the working home -------------------------------------------------
    def path(self, name: str) -> Path:
        return self.home / name

    @property
    def inbox_root(self) -> Path:
        return self.path("inbox")

    @property
    def outbox_root(self) -> Path:
        return self.path("outbox")

    @property
    def store_root(self) -> Path:
        return self.path("store")

    @property
    def rejected_root(self) -> Path:
        return self.path("rejected")

    @property
    def processing_root(self) -> Path:
        return self.path("processing")

    @property
    def work_root(self) -> Path:
        return self.path("work")

    @property
    def audit_root(self) -> Path:
        """Heads of the audit log's hash chain written outside the database (issue #15)."""
        return self.path("audit")

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.path('catalogue.db')}"

    def profile(self, name: str) -> Profile:
        try:
            return self.profiles[name]
        except KeyError:
            raise ConfigError(
                f"配置中没有名为“{name}”的收件箱档案（profile）；已有：{', '.join(self.profiles) or '无'}",
                f"no profile named {name!r} in the configuration; known: {', '.join(self.profiles) or 'none'}",
            ) from None

    def inbox_of(self, name: str) -> Path:
        p = self.profile(name).inbox or Path(name)
        return p if p.is_absolute() else self.inbox_root / p

    def ocr_languages(self, profile: Profile) -> str:
        return profile.ocr_languages or self.ocr.languages

    def ocr_engine(self, profile: Profile) -> str:
        return profile.ocr_engine or self.ocr.engine


def console_language() -> str:
    """zh or en for console messages: ``GUIDANG_LANGUAGE``, else the home's ``language`` key, else zh
    (never fails: it is used to print configuration errors too)."""
    env = os.environ.get("GUIDANG_LANGUAGE")
    if env in ("zh", "en"):
        return env
    try:
        return load_settings().language
    except ConfigError:
        return "zh"


def load_settings(**overrides: Any) -> Settings:
    """Read the configuration, turning pydantic's errors into a ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(f"配置无效：{exc}", f"invalid configuration: {exc}") from exc
