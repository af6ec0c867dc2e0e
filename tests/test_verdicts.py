"""Verdicts: which problems stop a batch (data), one verdict per delivered thing, the DA/T 70 id
of each defect, links refused, classified rows refused, re-deliveries linked (docs/verdicts.md)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from guidang.cli import main
from guidang.config import Settings
from guidang.models import CatalogueRow
from guidang.pipeline.intake import IntakePolicy, read_batch
from guidang.pipeline.row_checks import classified_level
from guidang.samples import bad
from guidang.samples.batch import make_batch, write_catalogue, write_manifest
from guidang.samples.truth import BatchTruth
from guidang.storage.catalogue import BatchRow, Catalogue, ItemRow
from guidang.validators.registry import REGISTRY

DOCS = Path(__file__).resolve().parents[1] / "docs" / "verdicts.md"


def ingest_json(batch: Path) -> dict[str, object]:
    result = CliRunner().invoke(main, ["ingest", str(batch), "--profile", "demo", "--json"])
    assert "Traceback" not in result.output, result.output
    assert result.exit_code == 0, result.output
    out: dict[str, object] = json.loads(result.stdout)
    return out


def items_of(out: dict[str, object]) -> list[dict[str, object]]:
    items = out["items"]
    assert isinstance(items, list)
    return items


def small(root: Path, n: int = 2, seed: int = 3, batch_id: str = "V") -> BatchTruth:
    return make_batch(root, page_counts=(1,) * n, seed=seed, dpi=100, profile="clean", colour="none",
                      batch_id=batch_id, write_truth=False)


# ------------------------------------------------------------------------------------ the data


def test_every_intake_and_ingest_check_maps_to_dat70_or_says_none() -> None:
    """The mapping is complete: every message key of every INTAKE-/INGEST- check has DA/T 70 items
    (or an explicit empty list), and each named item is a DA/T 70 item of stage GD."""
    dat70 = {s.id: s for s in REGISTRY.family("DAT70")}
    checked = 0
    for spec in REGISTRY.specs.values():
        if spec.family not in ("INTAKE", "INGEST"):
            continue
        assert spec.dat70 is not None, f"{spec.id}: no dat70 mapping (write dat70 = {{ \"*\" = [] }} for none)"
        for key in spec.messages:
            assert key in spec.dat70 or "*" in spec.dat70, f"{spec.id}.{key} is not mapped"
            for item in spec.dat70_of(key):
                assert item in dat70 and "GD" in {str(s) for s in dat70[item].stages}, f"{spec.id}.{key}: {item}"
            checked += 1
    assert checked > 30


def test_batch_scope_is_data_and_documented() -> None:
    batch_scoped = sorted(s.id for s in REGISTRY.specs.values() if s.scope == "batch")
    assert batch_scoped == ["INTAKE-CATALOGUE", "INTAKE-LIMITS", "INTAKE-MANIFEST", "INTAKE-UNSAFE", "VOLUME-LIST"]
    documented = DOCS.read_text("utf-8")
    for check_id in batch_scoped:
        assert re.search(rf"`{check_id}`[^\n]*\bbatch\b", documented), f"{check_id} not in docs/verdicts.md"


# ------------------------------------------------------------------------------------ intake


def test_a_symlinked_catalogue_is_never_read(tmp_path: Path) -> None:
    truth = small(tmp_path / "drop")
    outside = tmp_path / "outside.csv"
    shutil.copy(truth.batch_dir / "catalogue.csv", outside)
    outside.write_text(outside.read_text("utf-8").replace("通知", "OUTSIDE-CANARY"), "utf-8")
    (truth.batch_dir / "catalogue.csv").unlink()
    (truth.batch_dir / "catalogue.csv").symlink_to(outside)
    intake = read_batch(truth.batch_dir)
    assert intake.catalogue.rows == ()
    assert [(p.check_id, p.finding.key) for p in intake.stopping] == [("INTAKE-CATALOGUE", "linked")]
    # each delivered folder still gets its verdict, with the reason that stops the batch
    assert {u.folder for u in intake.units} == {t.archival_code for t in truth.items}
    for item in intake.items:
        found = [(p.check_id, p.finding.key) for p in intake.problems_of(item.archival_code)]
        assert found == [("INTAKE-CATALOGUE", "linked")]


def test_a_hard_linked_catalogue_and_page_are_refused(tmp_path: Path) -> None:
    truth = small(tmp_path / "drop")
    first = truth.items[0]
    page = truth.batch_dir / first.pages[0].file
    os.link(page, tmp_path / "outside.tif")  # the page has a second name outside the batch
    intake = read_batch(truth.batch_dir)
    assert [(p.check_id, p.finding.key) for p in intake.problems_of(first.archival_code)] == [
        ("INTAKE-UNSAFE", "hardlink")]
    assert intake.stopping == []  # inside an item's folder: that item only
    assert not intake.problems_of(truth.items[1].archival_code)

    os.link(truth.batch_dir / "catalogue.csv", tmp_path / "outside.csv")
    intake = read_batch(truth.batch_dir)
    assert [(p.check_id, p.finding.key) for p in intake.stopping] == [("INTAKE-CATALOGUE", "linked")]
    assert "硬链接" in intake.stopping[0].result().message_zh


def test_a_symlinked_manifest_is_never_read_and_stops_the_batch(tmp_path: Path) -> None:
    truth = small(tmp_path / "drop")
    outside = tmp_path / "outside-manifest.txt"
    outside.write_text("0" * 64 + "  " + truth.items[0].pages[0].file + "\n", "utf-8")  # would mismatch if read
    (truth.batch_dir / "manifest-sha256.txt").unlink()
    (truth.batch_dir / "manifest-sha256.txt").symlink_to(outside)
    intake = read_batch(truth.batch_dir)
    keys = [(p.check_id, p.finding.key) for p in intake.all_problems]
    assert keys == [("INTAKE-MANIFEST", "linked")]  # not read: no mismatch, and the link reported once
    for t in truth.items:
        assert [p.check_id for p in intake.problems_of(t.archival_code)] == ["INTAKE-MANIFEST"]


def test_classified_rows_are_refused_unless_the_system_is_accredited(tmp_path: Path) -> None:
    truth = small(tmp_path / "drop")
    bad.set_catalogue_value(truth.batch_dir, 0, "密级", "机密")
    code = truth.items[0].archival_code
    refused = read_batch(truth.batch_dir).problems_of(code)
    assert [(p.check_id, p.finding.key) for p in refused] == [("INTAKE-CLASSIFIED", "classified")]
    assert "机密" in refused[0].result().message_zh and "Guarding State Secrets" in refused[0].result().message_en
    assert read_batch(truth.batch_dir, IntakePolicy(classified_system=True)).problems_of(code) == []
    assert not read_batch(truth.batch_dir).problems_of(truth.items[1].archival_code)


@pytest.mark.parametrize(("value", "level"), [("机密★10年", "机密"), ("绝密", "绝密"), (" 秘密 ", "秘密"),
                                              ("公开", None), ("内部", None), ("", None)])
def test_classified_levels(value: str, level: str | None) -> None:
    row = CatalogueRow(row=1, archival_code="X", title="t", classification=value)
    assert classified_level(row) == level


# ------------------------------------------------------------------------------------ end to end


def seeded_batch(root: Path) -> tuple[BatchTruth, dict[str, tuple[str, ...]]]:
    """A batch with one seeded defect per item; returns it and the expected failed_checks per row
    (catalogue row number as a string, or "folder:<name>" for a folder no row names)."""
    truth = small(root, n=15, seed=21, batch_id="SEEDED")
    b = truth.batch_dir
    columns, rows, _ = bad.read_catalogue(b)
    code = [t.archival_code for t in truth.items]
    rows[0]["保管期限"] = "八十年"  # outside the 保管期限 domain
    rows[1]["日期"] = "20230231"  # no such day
    rows[2]["日期"] = "20991231"  # in the future
    rows[3]["题名"] = "关于\x07归档的通知"  # a control character
    malformed = code[4].replace("·", "-")
    (b / code[4]).rename(b / malformed)
    rows[4]["档号"] = malformed  # 档号 not under the rule (its folder renamed along)
    rows[5]["题名"] = ""  # a required item empty
    rows[6]["档号"] = ""  # no 档号: the row, and its folder that no row names now
    rows[7]["档号"] = code[8]  # 档号 given twice: rows 8 and 9; the folder of 7 is left without a row
    rows[9]["页数"] = "两页"  # not a whole number
    rows[10]["密级"] = "绝密"  # classified
    shutil.rmtree(b / code[11])  # a row without its folder
    (b / code[12] / "notes.docx").write_bytes(b"PK\x03\x04 a word file")  # not an image
    write_catalogue(b / "catalogue.csv", columns, rows)
    write_manifest(b)
    page = b / truth.items[13].pages[0].file
    page.write_bytes(page.read_bytes() + b"\0")  # changed after the manifest was written
    (b / code[14] / "extra.tif").symlink_to(b / truth.items[14].pages[0].file)  # a link inside an item
    expected = {
        "1": ("GD-1-4",),
        "2": ("GD-1-3",),
        "3": ("GD-1-5",),
        "4": ("GD-1-6",),
        "5": ("GD-1-7",),
        "6": ("GD-2-4", "INTAKE-ROW"),
        "7": ("GD-2-4", "INTAKE-ROW"),
        "folder:" + code[6]: ("GD-2-1", "GD-2-11", "INTAKE-FOLDER"),
        "8": ("GD-1-8", "INTAKE-ROW"),
        "9": ("GD-1-8", "INTAKE-ROW"),
        "folder:" + code[7]: ("GD-2-1", "GD-2-11", "INTAKE-FOLDER"),
        "10": ("GD-1-3", "INTAKE-ROW"),
        "11": ("INTAKE-CLASSIFIED",),
        "12": ("GD-2-1", "GD-2-11", "INTAKE-FOLDER"),
        "13": ("GD-3-3", "INTAKE-FILE-TYPE"),
        "14": ("GD-1-1", "GD-1-14", "INTAKE-MANIFEST"),
        "15": ("INTAKE-UNSAFE",),
    }
    return truth, expected


def test_seeded_defects_decide_every_row_and_folder_once_with_the_standards_id(home: Settings, tmp_path: Path) -> None:
    truth, expected = seeded_batch(tmp_path / "drop")
    out = ingest_json(truth.batch_dir)
    seen: dict[str, tuple[str, ...]] = {}
    for item in items_of(out):
        key = str(item["row"]) if item["row"] is not None else f"folder:{item['folder']}"
        assert key not in seen, f"two verdicts for {key}"
        assert item["status"] == "rejected", item
        seen[key] = tuple(item["failed_checks"])  # type: ignore[arg-type]
    assert seen == expected
    summary = out["summary"]
    assert isinstance(summary, dict) and summary["items"] == len(expected) == summary["rejected"]

    # the row without 档号 is in the receipt too, and its defect is named in the HTML
    receipt = out["receipt"]
    assert isinstance(receipt, list)
    html = Path(receipt[1]).read_text("utf-8")
    assert html.count("<tr><td>") >= len(expected) and "GD-2-4" in html and "（无档号）" in html
    assert json.loads(Path(receipt[0]).read_text("utf-8"))["items"] == items_of(out)
    # the classified item's images are not copied into the rejected area
    classified = next(i for i in items_of(out) if i["row"] == 11)
    kept = Path(str(classified["rejected_path"]))
    assert (kept / "reasons.json").is_file() and not any((kept / "delivered").rglob("*.tif"))


def test_a_linked_catalogue_returns_every_item_with_that_reason(home: Settings, tmp_path: Path) -> None:
    truth = small(tmp_path / "drop")
    outside = tmp_path / "outside.csv"
    outside.write_text((truth.batch_dir / "catalogue.csv").read_text("utf-8").replace("通知", "OUTSIDE-CANARY"),
                       "utf-8")
    (truth.batch_dir / "catalogue.csv").unlink()
    (truth.batch_dir / "catalogue.csv").symlink_to(outside)
    out = ingest_json(truth.batch_dir)
    assert "OUTSIDE-CANARY" not in json.dumps(out, ensure_ascii=False)
    batch = out["batch"]
    assert isinstance(batch, dict) and batch["status"] == "failed"
    assert [p["check"] for p in batch["problems"]] == ["INTAKE-CATALOGUE"]
    items = items_of(out)
    assert sorted(str(i["folder"]) for i in items) == sorted(t.archival_code for t in truth.items)
    assert all(i["status"] == "rejected" and i["failed_checks"] == ["GD-1-12", "INTAKE-CATALOGUE"] for i in items)


def test_a_redelivery_is_linked_and_an_archived_item_is_not_archived_twice(home: Settings, tmp_path: Path) -> None:
    """Batch A: one good item, one with a 保管期限 outside its domain (returned). Batch B re-delivers
    the returned item corrected, and the good one again: B is linked to A, the corrected item to the
    returned one, and the good one is recognised as archived (same 档号, same content)."""
    first = make_batch(tmp_path / "a", page_counts=(1, 1), seed=31, dpi=200, profile="clean", colour="none",
                       scripts=["hans"], batch_id="A", write_truth=False)
    good, returned = (t.archival_code for t in first.items)
    bad.set_catalogue_value(first.batch_dir, 1, "保管期限", "八十年")
    out_a = ingest_json(first.batch_dir)
    verdicts = {i["id"]: i for i in items_of(out_a)}
    assert verdicts[good]["status"] == "accepted", verdicts[good]
    assert verdicts[returned]["failed_checks"] == ["GD-1-4"]

    second = tmp_path / "b" / "B"
    shutil.copytree(first.batch_dir, second)
    bad.set_catalogue_value(second, 1, "保管期限", "永久")
    out_b = ingest_json(second)
    batch_a, batch_b = out_a["batch"], out_b["batch"]
    assert isinstance(batch_a, dict) and isinstance(batch_b, dict)
    assert batch_b["redelivery_of"] == batch_a["id"]
    verdicts = {i["id"]: i for i in items_of(out_b)}
    assert verdicts[returned]["status"] == "accepted", verdicts[returned]
    supersedes = verdicts[returned]["supersedes"]
    assert isinstance(supersedes, dict) and supersedes["batch_id"] == batch_a["id"]
    assert supersedes["status"] == "rejected"
    again = verdicts[good]
    assert again["status"] == "duplicate" and again["object"] == good and again["failed_checks"] == []
    duplicate_of = again["duplicate_of"]
    assert isinstance(duplicate_of, dict) and duplicate_of["batch_id"] == batch_a["id"]
    assert out_b["summary"] == out_b["summary"] | {"items": 2, "accepted": 1, "duplicate": 1}  # type: ignore[operator]

    with Catalogue(home.db_url).session() as s:
        row_b = s.get(BatchRow, batch_b["id"])
        assert row_b is not None and row_b.redelivery_of == batch_a["id"]
        items = {(i.batch_id, i.archival_code): i for i in s.scalars(select(ItemRow))}
        assert items[(batch_b["id"], returned)].supersedes == items[(batch_a["id"], returned)].id
        assert items[(batch_b["id"], good)].duplicate_of == items[(batch_a["id"], good)].id
        assert items[(batch_b["id"], good)].object_id is None  # the archived object is the first item's
        accepted_good = [i for i in items.values() if i.archival_code == good and i.status == "accepted"]
        assert len(accepted_good) == 1
    html = Path(out_b["receipt"][1]).read_text("utf-8")  # type: ignore[index]
    assert "重新提交" in html and "已归档，未重复归档" in html


@pytest.mark.parametrize("name", ["catalogue.csv", "manifest-sha256.txt"])
def test_a_linked_root_file_is_reported_once(tmp_path: Path, name: str) -> None:
    """A linked catalogue or manifest is its own check's problem, not an INTAKE-UNSAFE one as well."""
    truth = small(tmp_path / "drop")
    target = tmp_path / name
    shutil.copy(truth.batch_dir / name, target)
    (truth.batch_dir / name).unlink()
    (truth.batch_dir / name).symlink_to(target)
    intake = read_batch(truth.batch_dir)
    assert [p.check_id for p in intake.batch_problems] == [
        "INTAKE-CATALOGUE" if name == "catalogue.csv" else "INTAKE-MANIFEST"]
