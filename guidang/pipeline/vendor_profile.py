"""The archive's thresholds for a vendor's preflight, as one file (``guidang profile export``).

A vendor runs ``guidang preflight BATCH --profile-file FILE`` on a machine without the archive's
working home; the file carries everything the checks that need no archive read: the 档号 rule (with
the rule's definition when the archive configured its own), the fonds code, the DA/T 31 scan QA
thresholds, the batch limits, the DA/T 70 options and whether classified records are refused.
It holds no path, key or address of the archive. The format is JSON with a ``format`` tag and a
``version``; a file of another format or a later version is refused with a clear message.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from guidang import __version__
from guidang.config import Settings
from guidang.errors import InputError
from guidang.ingest.scanqa.options import ScanQAOptions
from guidang.packaging.archival_code import ArchivalCodeRule, get_rule
from guidang.pipeline.intake import IntakePolicy
from guidang.pipeline.limits import BatchLimits
from guidang.validators.dat70_options import Dat70Options

FORMAT = "guidang-preflight-profile"
VERSION = 1


class VendorProfile(BaseModel):
    """What a vendor's preflight checks against; exported from one profile of the archive's configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: str = FORMAT
    version: int = VERSION
    profile: str
    vendor: str
    archive_name: str = ""
    fonds_code: str
    archival_code_rule: ArchivalCodeRule
    classified_system: bool = False
    scan_qa: ScanQAOptions = ScanQAOptions()
    limits: BatchLimits = BatchLimits()
    dat70: Dat70Options = Dat70Options()
    accept_test_signatures: bool = False
    exported_at: str = Field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    exported_by: str = f"guidang {__version__}"

    @classmethod
    def of(cls, settings: Settings, name: str) -> VendorProfile:
        """The profile ``name`` of the archive's configuration, with its 档号 rule resolved."""
        profile = settings.profile(name)
        return cls(
            profile=name, vendor=profile.vendor, archive_name=profile.archive_name, fonds_code=profile.fonds_code,
            archival_code_rule=get_rule(profile.archival_code_rule, settings.archival_code_rules),
            classified_system=settings.classified_system, scan_qa=profile.scan_qa, limits=profile.limits,
            dat70=settings.dat70, accept_test_signatures=profile.accept_test_signatures,
        )

    def policy(self) -> IntakePolicy:
        """What intake checks rows against, as the archive would."""
        return IntakePolicy(rule=self.archival_code_rule, dat70=self.dat70,
                            classified_system=self.classified_system, limits=self.limits)

    def dumps(self) -> str:
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"


def load_vendor_profile(path: Path) -> VendorProfile:
    """A profile file as exported; anything else is an :class:`InputError` naming what is wrong."""
    try:
        data = json.loads(path.read_bytes())
    except OSError as exc:
        raise InputError(f"无法读取档案配置文件 {path}：{exc.strerror}",
                         f"cannot read the profile file {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"档案配置文件 {path} 不是 JSON：{exc}",
                         f"the profile file {path} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path} 不是 guidang 导出的预检配置文件（应由 guidang profile export 生成）",
                         f"{path} is not a preflight profile (write one with guidang profile export)")
    if data.get("version") != VERSION:
        raise InputError(f"预检配置文件版本 {data.get('version')!r} 不受支持（支持 {VERSION}），请用相同版本的 guidang",
                         f"profile file version {data.get('version')!r} is not supported (this guidang reads "
                         f"{VERSION}); use the guidang version the archive uses")
    try:
        return VendorProfile.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"预检配置文件 {path} 无效：{exc}", f"invalid profile file {path}: {exc}") from exc
