"""The check registry: specs (data) joined with implementations (code) by stable ID.

Implementations register with ``@check("SCAN-DPI")``; a check function takes the family's
subject (a page set, a package, …) and returns findings. :meth:`Registry.run` never lets a
check crash the run: an exception becomes a ``fail`` of that check with the error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from guidang.validators.result import CheckResult, Finding, Report, Status
from guidang.validators.spec import REFUSAL_MESSAGES, Automation, CheckSpec, Stage, load_specs

log = logging.getLogger(__name__)

CheckFn = Callable[[Any], Iterable[Finding]]


class Registry:
    def __init__(self, specs: dict[str, CheckSpec]) -> None:
        self.specs = specs
        self.implementations: dict[str, CheckFn] = {}

    def check(self, check_id: str) -> Callable[[CheckFn], CheckFn]:
        """Decorator: register the implementation of the check with this ID."""
        if check_id not in self.specs:
            raise KeyError(f"no spec for check {check_id}: add it to validators/checks/*.toml")

        def register(fn: CheckFn) -> CheckFn:
            if check_id in self.implementations:
                raise ValueError(f"check {check_id} implemented twice")
            self.implementations[check_id] = fn
            return fn

        return register

    def spec_of_result(self, result_id: str) -> CheckSpec | None:
        """The spec behind a result's ID ("SCAN-DPI"; "GD-4-1" for DA/T 70 item 4-1 at 归档)."""
        if result_id in self.specs:
            return self.specs[result_id]
        stage, _, item = result_id.partition("-")
        spec = self.specs.get(item)
        if spec is None or spec.family != "DAT70" or stage not in {str(s) for s in Stage}:
            return None
        return spec

    def family(self, family: str) -> list[CheckSpec]:
        return [s for s in self.specs.values() if s.family == family]

    def render(self, spec: CheckSpec, finding: Finding, stage: Stage | None) -> CheckResult:
        text = spec.message(finding.key)
        params = dict(finding.params)
        return CheckResult(
            check_id=spec.result_id(stage),
            status=finding.status,
            message_zh=_format(text.zh, params),
            message_en=_format(text.en, params),
            evidence=finding.evidence,
            blocking=spec.blocking,
            system=spec.system,
            dat70=tuple(f"{stage or Stage.GD}-{item}" for item in spec.dat70_of(finding.key)),
        )

    def result(self, check_id: str, finding: Finding, stage: Stage | None = None) -> CheckResult:
        """A finding of the check with this ID as its result (intake problems, steps that fail)."""
        return self.render(self.specs[check_id], finding, stage)

    def run_one(self, check_id: str, subject: object, stage: Stage | None = None) -> Report:
        spec = self.specs[check_id]
        if spec.automation is Automation.MANUAL:
            findings: Sequence[Finding] = [Finding(Status.MANUAL, "manual")]
        else:
            fn = self.implementations[check_id]
            try:
                findings = list(fn(subject))
            except Exception as exc:  # a check that crashes fails itself, never the run
                log.exception("check %s crashed", check_id)
                findings = [Finding(Status.FAIL, "crashed", {"error": f"{type(exc).__name__}: {exc}"})]
            if not findings:
                findings = [Finding(Status.PASS)]
        return Report(tuple(self.render(spec, f, stage) for f in findings))

    def run(self, check_ids: Iterable[str], subject: object, stage: Stage | None = None) -> Report:
        report = Report()
        for check_id in check_ids:
            report += self.run_one(check_id, subject, stage)
        return report


def refusal(reason: str, **params: object) -> CheckResult:
    """The one failed result of a delivery the watcher refused whole (``reason``: a key of
    ``checks/_refusals.toml``, which is also the result's ID); not a check of the registry."""
    text = REFUSAL_MESSAGES[reason]
    return CheckResult(reason, Status.FAIL, _format(text.zh, params), _format(text.en, params))


def _format(template: str, params: dict[str, object]) -> str:
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return f"{template} {params}"


REGISTRY = Registry(load_specs())
check = REGISTRY.check
