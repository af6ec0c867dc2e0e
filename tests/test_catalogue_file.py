"""The catalogue reader: DA/T 22 columns, Chinese or English headers, UTF-8 or GB18030, CSV or XLSX."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from guidang.pipeline.catalogue_file import read_catalogue

HEADER_ZH = "序号,档号,文号,责任者,题名,日期,密级,页数,保管期限,备注"
ROW_1 = "1,Z109-WS·2023-Y-BGS-0001,示政发〔2023〕1号,示例市人民政府,关于做好政务服务工作的通知,20230105,公开,2,永久,"
ROW_2 = "2,Z109-WS·2023-Y-BGS-0002,,示例市政务服务中心,会议纪要,20230210,公开,1,永久,"


def write(tmp_path: Path, text: str, name: str = "catalogue.csv", encoding: str = "utf-8") -> Path:
    (tmp_path / name).write_bytes(text.encode(encoding))
    return tmp_path


def check_ids(parse: object) -> list[tuple[str, str]]:
    return [(p.check_id, p.finding.key) for p in parse.problems]  # type: ignore[attr-defined]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_reads_encodings(tmp_path: Path, encoding: str) -> None:
    parse = read_catalogue(write(tmp_path, f"{HEADER_ZH}\n{ROW_1}\n{ROW_2}\n", encoding=encoding))
    assert check_ids(parse) == []
    assert [r.archival_code for r in parse.rows] == ["Z109-WS·2023-Y-BGS-0001", "Z109-WS·2023-Y-BGS-0002"]
    first = parse.rows[0]
    assert first.title == "关于做好政务服务工作的通知"
    assert first.page_count == 2
    assert first.doc_number == "示政发〔2023〕1号"
    assert first.date == "20230105"


def test_english_headers_and_gov_fields(tmp_path: Path) -> None:
    text = (
        "archival_code,title,Pages,Creator,事项名称,办件编号,申请人\n"
        "Z109-WS·2023-Y-BGS-0001,Business licence,3,Market bureau,企业设立登记,BJ2023000123,张三\n"
    )
    parse = read_catalogue(write(tmp_path, text))
    row = parse.rows[0]
    assert (row.page_count, row.creator, row.matter_name, row.case_number, row.applicant) == (
        3, "Market bureau", "企业设立登记", "BJ2023000123", "张三",
    )


def test_missing_column_is_a_batch_problem(tmp_path: Path) -> None:
    parse = read_catalogue(write(tmp_path, "序号,档号,页数\n1,Z109-WS·2023-Y-BGS-0001,2\n"))
    assert not parse.usable
    assert check_ids(parse) == [("INTAKE-CATALOGUE", "column_missing")]
    assert "题名" in parse.problems[0].result().message_zh


def test_unreadable_encoding(tmp_path: Path) -> None:
    (tmp_path / "catalogue.csv").write_bytes(HEADER_ZH.encode() + b"\n1,\x80\xff\xfe\x81,x\n")
    parse = read_catalogue(tmp_path)
    assert check_ids(parse) == [("INTAKE-CATALOGUE", "encoding")]
    result = parse.problems[0].result()
    assert "GB18030" in result.message_zh and "UTF-8" in result.message_en


def test_no_catalogue_and_several(tmp_path: Path) -> None:
    assert check_ids(read_catalogue(tmp_path)) == [("INTAKE-CATALOGUE", "missing")]
    write(tmp_path, f"{HEADER_ZH}\n{ROW_1}\n")
    write(tmp_path, f"{HEADER_ZH}\n{ROW_1}\n", name="目录.csv")
    assert check_ids(read_catalogue(tmp_path)) == [("INTAKE-CATALOGUE", "several")]


def test_row_problems(tmp_path: Path) -> None:
    no_code = "3,,,,无档号,20230101,公开,1,永久,"
    bad_pages = "4,Z109-WS·2023-Y-BGS-0004,,,页数错,20230101,公开,两页,永久,"
    text = f"{HEADER_ZH}\n{ROW_1}\n{no_code}\n{ROW_1}\n{bad_pages}\n"
    parse = read_catalogue(write(tmp_path, text))
    assert sorted(check_ids(parse)) == [
        ("INTAKE-ROW", "duplicate_code"), ("INTAKE-ROW", "not_integer"), ("INTAKE-ROW", "value_missing"),
    ]
    # every row is kept (each gets its own verdict), an empty 档号 as ""
    assert [(r.row, r.archival_code) for r in parse.rows] == [
        (1, "Z109-WS·2023-Y-BGS-0001"), (2, ""), (3, "Z109-WS·2023-Y-BGS-0001"), (4, "Z109-WS·2023-Y-BGS-0004")]


def test_xlsx(tmp_path: Path) -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER_ZH.split(","))
    ws.append([1, "Z109-WS·2023-Y-BGS-0001", None, "示例市人民政府", "通知", 20230105, "公开", 2, "永久", None])
    wb.save(tmp_path / "目录.xlsx")
    parse = read_catalogue(tmp_path)
    assert check_ids(parse) == []
    assert parse.rows[0].date == "20230105" and parse.rows[0].page_count == 2


def test_corrupt_xlsx(tmp_path: Path) -> None:
    (tmp_path / "目录.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    assert check_ids(read_catalogue(tmp_path)) == [("INTAKE-CATALOGUE", "unreadable")]


def test_a_utf16_catalogue_that_is_not_valid_utf16_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    """Found by fuzzing (tests/data/fuzz/catalogue_csv/crash-utf16-bom-lone-surrogate.csv)."""
    (tmp_path / "catalogue.csv").write_bytes("档号,题名\n".encode("utf-16") + b"\x00\xd8,\x00")  # a lone surrogate
    parse = read_catalogue(tmp_path)
    [problem] = parse.problems
    assert (problem.check_id, problem.finding.key) == ("INTAKE-CATALOGUE", "encoding_utf16") and not parse.rows
    assert "UTF-16" in problem.result().message_zh


def test_csv_line_ends_and_oversized_fields_found_by_fuzzing(tmp_path: Path) -> None:
    """tests/data/fuzz/catalogue_csv/crash-csv-*: a bare carriage return ended the run with
    csv.Error; a field over the csv module's 128 KiB limit too."""
    (tmp_path / "catalogue.csv").write_bytes("序号,档号,题名\r1,A-1,标题一\r\n2,A-2,标题二\n".encode())
    assert [(r.archival_code, r.title) for r in read_catalogue(tmp_path).rows] == [("A-1", "标题一"), ("A-2", "标题二")]
    (tmp_path / "catalogue.csv").write_text("档号,题名\nA-1," + "x" * 140_000 + "\n", "utf-8")
    parse = read_catalogue(tmp_path)
    [problem] = parse.problems
    assert (problem.check_id, problem.finding.key) == ("INTAKE-CATALOGUE", "unreadable") and not parse.rows


def test_an_xlsx_with_a_corrupt_compressed_part_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    """Found by fuzzing (tests/data/fuzz/catalogue_xlsx/crash-xlsx-corrupt-deflate-part.xlsx)."""
    fixture = Path(__file__).parent / "data" / "fuzz" / "catalogue_xlsx" / "crash-xlsx-corrupt-deflate-part.xlsx"
    (tmp_path / "目录.xlsx").write_bytes(fixture.read_bytes())
    parse = read_catalogue(tmp_path)
    [problem] = parse.problems
    assert (problem.check_id, problem.finding.key) == ("INTAKE-CATALOGUE", "unreadable") and not parse.rows


def test_an_xlsx_part_compressed_by_an_unknown_method_is_unreadable(tmp_path: Path) -> None:
    """Found by fuzzing (tests/data/fuzz/catalogue_xlsx/crash-xlsx-unknown-compression-method.xlsx)."""
    fixture = Path(__file__).parent / "data" / "fuzz" / "catalogue_xlsx" / "crash-xlsx-unknown-compression-method.xlsx"
    (tmp_path / "目录.xlsx").write_bytes(fixture.read_bytes())
    [problem] = read_catalogue(tmp_path).problems
    # refused by the zip pre-check (safexml.check_ooxml) before openpyxl would meet the unknown method
    assert problem.finding.key == "unreadable"
    assert str(problem.finding.params["detail"]).startswith(("NotImplementedError: ", "BadZipFile: "))
