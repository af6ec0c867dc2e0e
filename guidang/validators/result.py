"""Immutable result types of every check: a finding, a check result, a report, a checked subject.

A check implementation returns :class:`Finding` objects (a status, a message key and
its parameters, evidence); the registry renders them into :class:`CheckResult` with the
Chinese and English texts from the check's data, so no message text lives in code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from guidang.errors import ExitCode


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    MANUAL = "manual"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class Evidence:
    """Where a finding was made and what was measured against what was expected."""

    file: str | None = None
    field: str | None = None
    expected: str | None = None
    found: str | None = None
    page: int | None = None

    def as_dict(self) -> dict[str, str | int]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class Finding:
    """What a check implementation reports: rendered later with the check's messages."""

    status: Status
    key: str = "ok"
    params: Mapping[str, object] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class CheckResult:
    check_id: str
    status: Status
    message_zh: str
    message_en: str
    evidence: tuple[Evidence, ...] = ()
    blocking: bool = True
    system: bool = False  # about the archive's systems, not the record (see CheckSpec.system)
    dat70: tuple[str, ...] = ()  # the DA/T 70 items (GD-1-14, …) this finding of another check is one of

    def message(self, language: str = "zh") -> str:
        return self.message_en if language == "en" else self.message_zh

    @property
    def is_problem(self) -> bool:
        """A failure or a warning: what a receipt or report shows."""
        return self.status in (Status.FAIL, Status.WARN)

    def as_dict(self) -> dict[str, object]:
        return {
            "check": self.check_id,
            "status": str(self.status),
            "blocking": self.blocking,
            "system": self.system,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "evidence": [e.as_dict() for e in self.evidence],
            "dat70": list(self.dat70),
        }


@dataclass(frozen=True)
class Report:
    """All results for one subject (a page set, an item package, a batch)."""

    results: tuple[CheckResult, ...] = ()

    def __add__(self, other: Report) -> Report:
        return Report(self.results + other.results)

    @property
    def failures(self) -> tuple[CheckResult, ...]:
        """Blocking failures: any of them keeps the subject out of the store."""
        return tuple(r for r in self.results if r.status is Status.FAIL and r.blocking)

    @property
    def failed_ids(self) -> list[str]:
        """IDs of the blocking failures, with the DA/T 70 items an INTAKE-/INGEST- failure is one of."""
        return sorted({r.check_id for r in self.failures} | {i for r in self.failures for i in r.dat70})

    @property
    def accepted(self) -> bool:
        return not self.failures

    def by_id(self, check_id: str) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.check_id == check_id)

    def as_dicts(self) -> list[dict[str, object]]:
        return [r.as_dict() for r in self.results]


@dataclass(frozen=True)
class CheckedSubject:
    """One thing ``guidang check`` checked: a file, a package, a stored object, a class of packages."""

    path: str
    kind: str  # 文件 / 信息包 / …, as shown
    report: Report
    stage: str | None = None
    error: str | None = None  # could not be checked at all

    @property
    def failed(self) -> bool:
        return self.error is not None or any(r.status is Status.FAIL for r in self.report.results)


def exit_code(subjects: Iterable[CheckedSubject]) -> ExitCode:
    """0 nothing failed, 1 failures found, 2 something could not be checked."""
    subjects = list(subjects)
    if any(s.error for s in subjects):
        return ExitCode.CANNOT_RUN
    if any(r.status is Status.FAIL for s in subjects for r in s.report.results):
        return ExitCode.CHECKS_FAILED
    return ExitCode.OK
