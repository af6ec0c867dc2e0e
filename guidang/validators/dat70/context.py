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

from guidang.packaging.archival_code import ArchivalCodeRule, get_rule
from guidang.validators.clamav import Scanner
from guidang.validators.dat70_options import Dat70Options


@dataclass(frozen=True)
class SenderDeclaration:
    """What the sender declared before sending (1-14, 2-1, 2-2): package digest, counts, bytes."""

    package_digest: str | None = None
    algorithm: str = "sha256"  # sha256 | sm3
    file_count: int | None = None
    total_bytes: int | None = None
    source: str = "发送方 / sender"


@dataclass(frozen=True)
class IntakeRegistration:
    """What was registered for an item at intake, before any processing (GD 1-14, 2-1, 2-2).

    ``digests`` maps the package path of each delivered file (``masters/<name>``) to the SHA-256
    measured at intake. ``vendor_manifest``: the vendor's manifest listed every one of these files
    and intake found them equal; without it the registration is guidang's own measurement, and
    the checks that rely on it say there is no independent evidence."""

    digests: Mapping[str, str]
    total_bytes: int
    vendor_manifest: bool

    @property
    def file_count(self) -> int:
        return len(self.digests)


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
    intake: IntakeRegistration | None = None  # GD in the pipeline: the intake registration (1-14, 2-1, 2-2)
    clamd: Scanner | None = None  # the antivirus (clamd or a command-line scanner)
    # 4-2 with test signatures only (no vendor database): fail (True) or warn (the profile's
    # accept_test_signatures); never pass
    test_signatures_block: bool = True
    # 1-1, 1-16: trust anchors (DER certificates, [signing] trusted_certificates) and what an intact
    # signature by anyone else is ("warn" or "fail", [signing] untrusted_signer)
    trusted_certificates: tuple[bytes, ...] = ()
    untrusted_signer: str = "warn"
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
