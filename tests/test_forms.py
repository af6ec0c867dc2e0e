"""The registration forms (GB/T 18894-2016 A.1, A.3; DA/T 93-2022 C.1) from a generated history: the PDF is
laid out by WeasyPrint with its fonts embedded, converted to PNG (pdftoppm) and read back (pdftotext)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from report_history import write_history

from guidang.cli import main
from guidang.config import Settings
from guidang.storage.catalogue import BatchRow, Catalogue


@pytest.fixture
def history(home: Settings) -> Settings:
    write_history(Catalogue(home.db_url))
    return home


def _form(tmp_path: Path, kind: str, *args: str) -> Path:
    out = tmp_path / f"{kind}.pdf"
    result = CliRunner().invoke(main, ["form", kind, "--batch", "1", "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    return out


def _text(pdf: Path) -> str:
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    return re.sub(r"\s+", "", text)


def _pages(pdf: Path, tmp_path: Path) -> list[Path]:
    prefix = tmp_path / pdf.stem
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(prefix)], check=True)
    return sorted(tmp_path.glob(f"{pdf.stem}-*.png"))


def _fonts_embedded(pdf: Path) -> list[str]:
    out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, check=True, text=True).stdout.splitlines()[2:]
    assert out, "no fonts"
    return [line.split()[-5] for line in out]  # the "emb" column


def test_a1_prints_the_tables_rows_with_the_batchs_numbers(history: Settings, tmp_path: Path) -> None:
    pdf = _form(tmp_path, "a1")
    text = _text(pdf)
    for label in ("电子文件归档登记表", "GB/T18894-2016表A.1", "单位名称", "归档时间", "归档电子文件门类",
                  "归档电子文件数量", "归档方式", "检验项目", "检验结果", "载体外观检验", "病毒检验", "真实性检验",
                  "可靠性检验", "完整性检验", "可用性检验", "技术方法与相关软件说明登记表", "档案部门（签章）",
                  "电子文件形成或办理部门（签章）"):
        assert label in text, label
    assert "3件6张" in text and "3000字节" in text and "2026年11月16日" in text and "文书" in text
    assert "检测5件，合格3件，不合格2件（SCAN-DPI×2" in text and "GD-1-7×1" in text
    assert "在线归档" in text and "DA/T70-2018未设可靠性检测项" in text
    assert set(_fonts_embedded(pdf)) == {"yes"}
    [page] = _pages(pdf, tmp_path)
    grey = np.asarray(Image.open(page).convert("L"))
    assert grey.shape[0] > grey.shape[1]  # A4 portrait
    assert (grey < 128).mean() > 0.01  # the table's rules and text are on the page


def test_a3_records_the_conversion_to_pdfa(history: Settings, tmp_path: Path) -> None:
    text = _text(_form(tmp_path, "a3"))
    assert "电子档案格式转换与迁移登记表" in text and "格式转换" in text
    assert "TIF6个文件" in text and "PDF3个文件" in text and "转换前3件6页图像；转换后3个PDF/A文件；件数一致" in text


def test_c1_fills_the_receiving_side_and_leaves_the_unit_side_blank(history: Settings, tmp_path: Path) -> None:
    pdf = _form(tmp_path, "c1")
    text = _text(pdf)
    for label in ("电子档案移交接收登记表", "移交接收事项", "内容描述", "移交电子档案数量", "移交数据量",
                  "载体起止顺序号（或起止档号）", "移交载体类型、规格、数量", "检测内容", "真实性检测", "完整性检测",
                  "可用性检测", "安全性检测", "填表人（签名）", "审核人（签名）", "单位（印章）"):
        assert label in text, label
    assert "文件3件，案卷0卷" in text and "0.000GB" in text and "在线" in text
    assert "BGS-1001" in text and "BGS-1003" in text  # pdftotext drops the hyphens where the cell wraps
    assert len(_pages(pdf, tmp_path)) == 1
    data = json.loads(CliRunner().invoke(main, ["form", "c1", "--batch", "1", "--format", "json"]).stdout)
    assert data["fields"]["载体起止顺序号(或起止档号)"] == "Z109-WS·2026-Y-BGS-1001 — Z109-WS·2026-Y-BGS-1003"
    assert data["results"]["真实性检测"] == {"property": "真实性", "checked": 5, "failed": 1, "warned": 0,
                                             "failing_checks": [{"check": "GD-1-7", "items": 1}],
                                             "warning_checks": [], "text": data["results"]["真实性检测"]["text"]}


def test_a_batch_not_finished_or_not_there_is_a_clear_error(history: Settings) -> None:
    assert "no batch #99" in CliRunner(env={"GUIDANG_LANGUAGE": "en"}).invoke(
        main, ["form", "a1", "--batch", "99"]).output
    cat = Catalogue(history.db_url)
    with cat.session() as s:
        batch = s.get(BatchRow, 2)
        assert batch is not None
        batch.status = "processing"
    result = CliRunner().invoke(main, ["form", "a1", "--batch", "2"])
    assert result.exit_code == 2 and "尚未处理完毕" in result.output


def test_a_warning_is_never_counted_as_passed(history: Settings) -> None:
    """A virus scan with test signatures only warns (DA/T 70 4-2): the form says so, it does not call it 合格."""
    from sqlalchemy import select

    from guidang.storage.catalogue import CheckResultRow

    cat = Catalogue(history.db_url)
    with cat.session() as s:
        for r in s.scalars(select(CheckResultRow).where(CheckResultRow.check_id == "GD-4-2")):
            r.status = "warn"
    data = json.loads(CliRunner().invoke(main, ["form", "a1", "--batch", "1", "--format", "json"]).stdout)
    virus = data["results"]["病毒检验"]
    assert (virus["checked"], virus["warned"], virus["failed"]) == (5, 5, 0)
    assert virus["text"].startswith("检测 5 件，合格 0 件，有警告或待人工确认 5 件（GD-4-2 ×5）")



def test_rendering_a_form_leaves_truncated_scans_unreadable(history: Settings, tmp_path: Path) -> None:
    """WeasyPrint turns on Pillow's process-wide LOAD_TRUNCATED_IMAGES when imported; a process that rendered a
    form must still refuse a truncated scan (SCAN-READ)."""
    import io

    from PIL import ImageFile

    _form(tmp_path, "a1")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    buf = io.BytesIO()
    Image.new("L", (400, 400), 128).save(buf, "JPEG", quality=90)
    with pytest.raises(OSError), Image.open(io.BytesIO(buf.getvalue()[: len(buf.getvalue()) // 2])) as im:
        im.load()
