"""The one renderer registry: receipts and check reports render through it, by (kind, format)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest

from guidang.cli.check import check_command
from guidang.models import ItemStatus
from guidang.pipeline.outcome import BatchOutcome, ItemOutcome
from guidang.reports import registry
from guidang.reports.registry import formats, render, renderer
from guidang.validators.result import CheckedSubject, CheckResult, Report, Status


def _outcome() -> BatchOutcome:
    bad = CheckResult("INTAKE-ROW", Status.FAIL, "第 2 行缺少题名", "row 2 has no title")
    items = (
        ItemOutcome("Z109-WS·2026-Y-0001", "甲", ItemStatus.ACCEPTED, object_id="obj-1", pages=2),
        ItemOutcome("Z109-WS·2026-Y-0002", "乙", ItemStatus.REJECTED, (bad,), rejected_path="/out/r/2", pages=1),
    )
    return BatchOutcome(1, "b1", "demo", "v", 1, "0" * 64, "done", "/in/b1", items=items, receipt_paths=("/r.json",))


def test_each_kind_offers_its_formats() -> None:
    assert set(formats("receipt")) == {"json", "html", "text"}
    option = next(p for p in check_command.params if p.name == "fmt")
    assert isinstance(option.type, click.Choice)
    assert set(option.type.choices) == set(formats("check"))  # the command offers what is registered


def test_an_unknown_document_or_a_second_renderer_is_refused() -> None:
    with pytest.raises(KeyError, match="no renderer for receipt/pdf"):
        render("receipt", "pdf", _outcome())
    with pytest.raises(ValueError, match="registered twice"):
        renderer("check", "csv")(lambda document, **_: "")


def test_a_new_kind_adds_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "_RENDERERS", dict(registry._RENDERERS))
    renderer("ops", "text")(lambda document, **options: f"{document} {options['language']}")
    assert render("ops", "text", "backup ok", language="en") == "backup ok en"
    assert formats("ops") == ("text",)


def test_the_receipt_renders_the_same_outcome_in_every_format() -> None:
    outcome = _outcome()
    assert json.loads(render("receipt", "json", outcome)) == json.loads(json.dumps(outcome.as_dict()))
    text = render("receipt", "text", outcome).splitlines()
    assert text[0].startswith("批次 b1：处理完毕，2 件（接收 1，退回 1")
    assert text[1:] == [
        "  ✔ Z109-WS·2026-Y-0001 接收 obj-1",
        "  ✘ Z109-WS·2026-Y-0002 退回 [INTAKE-ROW] /out/r/2",
        "  回执 receipt: /r.json",
    ]
    html = render("receipt", "html", outcome)
    assert "第 2 行缺少题名" in html and "Z109-WS·2026-Y-0002" in html


def test_the_check_report_renders_in_every_format(tmp_path: Path) -> None:
    result = CheckResult("FILE-KIND", Status.FAIL, "是符号链接", "a symbolic link")
    subjects = [CheckedSubject("a.tif", "文件", Report((result,)))]
    rendered = {fmt: render("check", fmt, subjects, language="zh") for fmt in formats("check")}
    assert json.loads(rendered["json"])["exit_code"] == 1
    assert rendered["csv"].splitlines()[1].startswith("a.tif,,FILE-KIND,fail,True,是符号链接")
    assert "[不合格] FILE-KIND 文件类型（链接与特殊文件） 是符号链接" in rendered["text"]
    assert "文件类型（链接与特殊文件）" in rendered["html"] and "安全性" in rendered["html"]
