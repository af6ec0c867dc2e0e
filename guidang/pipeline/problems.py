"""Intake problems: findings made while reading a batch, tied to an item or to the batch."""

from __future__ import annotations

from dataclasses import dataclass

from guidang.validators.registry import REGISTRY
from guidang.validators.result import CheckResult, Evidence, Finding, Status
from guidang.validators.spec import Stage


@dataclass(frozen=True)
class Problem:
    check_id: str
    finding: Finding
    item_code: str | None = None  # None: concerns the batch as a whole
    stage: Stage | None = None  # a DA/T 70 item found at intake (e.g. GD for 4-2): its stage

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
        return REGISTRY.render(REGISTRY.specs[self.check_id], self.finding, self.stage)
