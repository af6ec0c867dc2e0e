"""Intake problems: findings made while reading a batch, tied to an item or to the batch."""

from __future__ import annotations

from dataclasses import dataclass

from guidang.validators.registry import REGISTRY
from guidang.validators.result import CheckResult, Evidence, Finding, Status


@dataclass(frozen=True)
class Problem:
    check_id: str
    finding: Finding
    item_code: str | None = None  # None: concerns the batch as a whole

    @classmethod
    def fail(
        cls, check_id: str, key: str, item_code: str | None = None, file: str | None = None, **params: object
    ) -> Problem:
        evidence = (Evidence(file=file),) if file else ()
        return cls(check_id, Finding(Status.FAIL, key, {"file": file, **params}, evidence), item_code)

    @classmethod
    def warn(
        cls, check_id: str, key: str, item_code: str | None = None, file: str | None = None, **params: object
    ) -> Problem:
        evidence = (Evidence(file=file),) if file else ()
        return cls(check_id, Finding(Status.WARN, key, {"file": file, **params}, evidence), item_code)

    def result(self) -> CheckResult:
        return REGISTRY.render(REGISTRY.specs[self.check_id], self.finding, None)
