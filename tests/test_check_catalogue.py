"""One registry, one result type, one message catalogue: intake problems and refusals take their texts from
the checks' TOML data and are rendered by the registry."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import guidang
from guidang.pipeline.problems import Problem
from guidang.validators.registry import REGISTRY, refusal
from guidang.validators.result import Finding, Status
from guidang.validators.spec import COMMON_MESSAGES, REFUSAL_MESSAGES, Stage

PACKAGE = Path(guidang.__file__).parent


def _literal_calls(names: set[str]) -> list[tuple[str, str, str]]:
    """(file, check ID, message key) of every ``Problem.fail/warn/of`` call written with literal ID and key."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names):
                continue
            if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "Problem"):
                continue
            args = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if len(args) >= 2:
                found.append((path.name, args[0], args[1]))
    return found


def test_every_intake_problem_names_a_registered_check_and_one_of_its_messages() -> None:
    calls = _literal_calls({"fail", "warn"})
    assert len(calls) > 30  # the scan found the intake code
    for file, check_id, key in calls:
        spec = REGISTRY.specs.get(check_id)
        assert spec is not None, f"{file}: {check_id} is not in validators/checks/*.toml"
        assert key in spec.messages or key in COMMON_MESSAGES, f"{file}: {check_id} has no message {key!r}"


def test_a_problem_is_the_registry_rendering_of_its_finding() -> None:
    problem = Problem.fail("INTAKE-ROW", "value_missing", "Z1-0001", "目录.csv", row=4, column="题名")
    assert problem.finding == Finding(Status.FAIL, "value_missing", {"file": "目录.csv", "row": 4, "column": "题名"},
                                      problem.finding.evidence)
    assert problem.result() == REGISTRY.render(REGISTRY.specs["INTAKE-ROW"], problem.finding, None)
    at_gd = Problem("1-4", Finding(Status.FAIL, "no_metadata"), stage=Stage.GD)
    assert at_gd.result().check_id == "GD-1-4"


def test_a_warning_about_a_row_is_bound_to_that_row_like_a_failure() -> None:
    assert Problem.fail("INTAKE-ROW", "value_missing", row=7, column="题名").row == 7
    assert Problem.warn("INTAKE-ROW", "value_missing", row=7, column="题名").row == 7
    assert Problem.warn("INTAKE-ROW", "value_missing", row="7", column="题名").row is None  # only a row number


def test_a_refusal_takes_its_text_from_the_catalogue() -> None:
    result = refusal("symlink", name="b1", detail="/etc", count=0)
    assert (result.check_id, result.status) == ("symlink", Status.FAIL)
    assert result.message_zh == "收件箱中的“b1”是符号链接（指向 /etc），不跟随、不处理"
    assert result.message_en == "'b1' in the inbox is a symbolic link (to /etc); it is neither followed nor processed"
    assert REGISTRY.spec_of_result("symlink") is None  # a refusal is not a check
    with pytest.raises(KeyError):
        refusal("no_such_reason")


def test_refusal_reasons_and_check_ids_do_not_collide() -> None:
    assert not set(REFUSAL_MESSAGES) & set(REGISTRY.specs)
