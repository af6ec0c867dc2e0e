"""Volume batches at intake (no OCR): recognition, both catalogues read and linked, every page-range
defect found under its check ID and bound to its volume (docs/volumes.md)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from guidang.packaging.archival_code import ArchivalCodeError, document_code, get_rule, volume_rule
from guidang.pipeline.intake import IntakePolicy, read_batch
from guidang.pipeline.volumes import is_volume_batch
from guidang.samples.volumes import DEFECTS, DOCUMENT_LIST, VOLUME_CATALOGUE, Defect, make_volume_batch

POLICY = IntakePolicy(rule=get_rule("dat13-catalogue"))


def _problems(batch: Path, policy: IntakePolicy = POLICY) -> dict[str | None, list[tuple[str, str]]]:
    intake = read_batch(batch, policy)
    found: dict[str | None, list[tuple[str, str]]] = {}
    for p in intake.all_problems:
        found.setdefault(p.item_code, []).append((p.check_id, p.finding.key))
    return found


def _rewrite(path: Path, change: dict[str, str], where: tuple[str, str]) -> None:
    """Change cells of the rows of a CSV catalogue whose column ``where[0]`` equals ``where[1]``."""
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
    for row in rows:
        if row[where[0]] == where[1]:
            row.update(change)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), "utf-8")


def test_volume_rule_and_document_codes() -> None:
    rule = get_rule("dat13-catalogue")
    vrule = volume_rule(rule)
    assert vrule is not None and vrule.sequence_part == "案卷号"
    assert document_code("Z109-001-002", 3, rule).text == "Z109-001-002-003"
    assert volume_rule(get_rule("dat22")) is None and volume_rule(get_rule("dat13")) is None
    assert volume_rule(get_rule("dat13-volume")) is not None
    with pytest.raises(ArchivalCodeError):
        document_code("Z109-001-002", 1000, rule)  # 件号 has three digits


def test_a_clean_volume_batch_is_linked(tmp_path: Path) -> None:
    truth = make_volume_batch(tmp_path, documents=((2, 1), (1, 2, 1)), seed=1)
    assert is_volume_batch(truth.path)
    intake = read_batch(truth.path, POLICY)
    assert [p for p in intake.all_problems if p.finding.status == "fail"] == []
    assert [i.archival_code for i in intake.items] == [v.code for v in truth.volumes]
    for volume in truth.volumes:
        linked = intake.volumes[volume.code]
        assert linked.backsheet and linked.images == volume.images
        assert [(d.code, d.first_page, d.last_page) for d in linked.documents] == [
            (f"{volume.code}-{d.number:03d}", d.first_page, d.last_page) for d in volume.documents]
        assert linked.expected_images(3) == 4  # 页数 counts the numbered pages, not the 备考表


@pytest.mark.parametrize("defect", [d for d in DEFECTS if d not in ("page_count", "orphan")])
def test_each_defect_is_bound_to_its_volume(tmp_path: Path, defect: Defect) -> None:
    truth = make_volume_batch(tmp_path, documents=((1, 1, 1), (1, 1, 1)), seed=2, defects={1: defect})
    found = _problems(truth.path)
    first, second = (v.code for v in truth.volumes)
    expected = {"overlap": ("VOLUME-RANGE", "overlap"), "gap": ("VOLUME-RANGE", "gap"),
                "beyond": ("VOLUME-RANGE", "beyond"), "order": ("VOLUME-ORDER", "page_order"),
                "no_documents": ("VOLUME-LINK", "no_documents")}[defect]
    assert found.get(second) == [expected]
    assert first not in found


def test_orphan_rows_are_batch_problems_that_stop_nothing(tmp_path: Path) -> None:
    truth = make_volume_batch(tmp_path, documents=((1, 1), (1, 1)), seed=3, defects={1: "orphan"})
    intake = read_batch(truth.path, POLICY)
    orphans = [p for p in intake.batch_problems if p.check_id == "VOLUME-LINK"]
    assert [p.finding.key for p in orphans] == ["orphan", "orphan"] and not intake.stopping
    assert [p.check_id for p in intake.problems_of(truth.volumes[1].code)] == ["VOLUME-LINK"]


def test_page_range_column_english_headers_and_xlsx(tmp_path: Path) -> None:
    truth = make_volume_batch(tmp_path, documents=((2, 1),), seed=4)
    volume = truth.volumes[0]
    (truth.path / DOCUMENT_LIST).unlink()
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["volume_code", "seq", "title", "page_range"])
    ws.append([volume.code, 1, "第一件", "1-2"])
    ws.append([volume.code, 2, "第二件", 3])
    wb.save(truth.path / "documents.xlsx")
    intake = read_batch(truth.path, POLICY)
    assert [p for p in intake.all_problems if p.finding.status == "fail"] == []
    assert [(d.first_page, d.last_page) for d in intake.volumes[volume.code].documents] == [(1, 2), (3, 3)]


def test_unreadable_range_and_code_outside_its_volume(tmp_path: Path) -> None:
    truth = make_volume_batch(tmp_path, documents=((1, 1), (1, 1)), seed=5)
    first, second = (v.code for v in truth.volumes)
    path = truth.path / DOCUMENT_LIST
    _rewrite(path, {"起始页号": "三", "终止页号": ""}, ("题名", truth.volumes[0].documents[0].title))
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))
    text = path.read_text("utf-8").splitlines()
    text[0] += ",档号"
    for i, row in enumerate(rows, 1):
        text[i] += "," + (f"{first}-002" if row["案卷档号"] == second and row["序号"] == "2" else "")
    path.write_text("\n".join(text) + "\n", "utf-8")
    found = _problems(truth.path)
    assert ("INTAKE-ROW", "not_integer") in found[first] and ("VOLUME-RANGE", "invalid") in found[first]
    assert ("VOLUME-LINK", "code_mismatch") in found[second]


def test_a_classified_document_returns_its_volume(tmp_path: Path) -> None:
    truth = make_volume_batch(tmp_path, documents=((1, 1), (1, 1)), seed=6)
    _rewrite(truth.path / DOCUMENT_LIST, {"密级": "机密"}, ("题名", truth.volumes[1].documents[0].title))
    found = _problems(truth.path)
    assert ("INTAKE-CLASSIFIED", "classified") in found[truth.volumes[1].code]
    assert truth.volumes[0].code not in found


def test_missing_list_and_item_rule_return_every_volume(tmp_path: Path) -> None:
    truth = make_volume_batch(tmp_path, documents=((1,), (1,)), seed=7)
    dat22 = read_batch(truth.path, IntakePolicy(rule=get_rule("dat22")))
    assert [(p.check_id, p.finding.key) for p in dat22.stopping] == [("VOLUME-LIST", "no_rule")]
    (truth.path / DOCUMENT_LIST).unlink()
    intake = read_batch(truth.path, POLICY)
    assert [(p.check_id, p.finding.key) for p in intake.stopping] == [("VOLUME-LIST", "missing")]
    assert all(intake.problems_of(v.code) for v in truth.volumes)


def test_an_item_catalogue_beside_a_volume_catalogue_returns_the_batch(tmp_path: Path) -> None:
    truth = make_volume_batch(tmp_path, documents=((1,),), seed=9)
    (truth.path / "catalogue.csv").write_text("档号,题名\n", "utf-8")
    intake = read_batch(truth.path, POLICY)
    assert [(p.check_id, p.finding.key) for p in intake.stopping] == [("INTAKE-CATALOGUE", "several")]
    assert "catalogue.csv" in intake.stopping[0].result().message_zh


def test_an_item_batch_is_not_a_volume_batch(tmp_path: Path) -> None:
    truth = make_volume_batch(tmp_path, documents=((1,),), seed=8)
    assert is_volume_batch(truth.path)
    (truth.path / VOLUME_CATALOGUE).rename(truth.path / "catalogue.csv")
    assert not is_volume_batch(truth.path)
    assert read_batch(truth.path, POLICY).volumes == {}


def test_the_volume_pdf_has_a_bookmark_per_document(tmp_path: Path) -> None:
    import pikepdf
    from PIL import Image

    from guidang.errors import InputError
    from guidang.ingest.pdfa import PdfPage, write_pdfa

    pages = []
    for shade in (250, 240, 230):
        buf = io.BytesIO()
        Image.new("L", (170, 240), shade).save(buf, "JPEG", dpi=(200, 200))
        pages.append(PdfPage(buf.getvalue()))
    write_pdfa(pages, tmp_path / "v.pdf", outline=[("1 关于某事的通知（第 1-2 页）", 0), ("2 批复（第 3-3 页）", 2)])
    with pikepdf.open(tmp_path / "v.pdf") as pdf:
        assert pdf.Root.PageMode == pikepdf.Name.UseOutlines
        with pdf.open_outline() as outline:
            assert [o.title for o in outline.root] == ["1 关于某事的通知（第 1-2 页）", "2 批复（第 3-3 页）"]
    with pytest.raises(InputError):
        write_pdfa(pages, tmp_path / "w.pdf", outline=[("3 不存在", 3)])
    assert not (tmp_path / "w.pdf").exists()
