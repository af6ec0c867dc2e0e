"""Intake problems: findings made while reading a batch, tied to an item, to a catalogue row, or to the batch.

A :class:`Problem` is a registered check's :class:`~guidang.validators.result.Finding` (the check's ID, a
message key of its TOML data, the parameters) bound to where it was found; the registry renders it
(docs/checks.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from guidang.validators.registry import REGISTRY
from guidang.validators.result import CheckResult, Evidence, Finding, Status
from guidang.validators.spec import Stage


@dataclass(frozen=True)
class Problem:
    check_id: str
    finding: Finding
    item_code: str | None = None  # None: concerns no item folder (see ``row``)
    row: int | None = None  # the catalogue row it concerns (a row without 档号 has no item_code)
    stage: Stage | None = None  # set for DA/T 70 items found at intake (reported as GD-1-4, …)

    @classmethod
    def fail(
        cls, check_id: str, key: str, item_code: str | None = None, file: str | None = None, **params: object
    ) -> Problem:
        return cls.of(Status.FAIL, check_id, key, item_code, file, **params)

    @classmethod
    def warn(
        cls, check_id: str, key: str, item_code: str | None = None, file: str | None = None, **params: object
    ) -> Problem:
        return cls.of(Status.WARN, check_id, key, item_code, file, **params)

    @classmethod
    def of(
        cls, status: Status, check_id: str, key: str, item_code: str | None = None, file: str | None = None,
        **params: object,
    ) -> Problem:
        """The check's finding (message ``key``, ``params`` for its text) bound to an item, and to the
        catalogue row named by an integer ``row`` parameter."""
        evidence = (Evidence(file=file),) if file else ()
        row = params.get("row")
        return cls(check_id, Finding(status, key, {"file": file, **params}, evidence), item_code,
                   row if isinstance(row, int) else None)

    @property
    def stops_batch(self) -> bool:
        """A blocking failure of a batch-scope check found outside every item and row: it rejects
        every item of the batch (the list is data: ``scope`` in validators/checks/*.toml)."""
        spec = REGISTRY.specs[self.check_id]
        return (self.item_code is None and self.row is None and spec.scope == "batch" and spec.blocking
                and self.finding.status is Status.FAIL)

    def result(self) -> CheckResult:
        """Rendered by the registry, with the check's messages: a problem has no text of its own."""
        return REGISTRY.result(self.check_id, self.finding, self.stage)
