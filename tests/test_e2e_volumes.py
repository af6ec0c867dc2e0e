"""End to end: generated volume batches (案卷目录 + 卷内目录 + pages) through the CLI with real Tesseract.

Asserts on the store (one OCFL object per volume holding its masters once, the volume PDF/A with a
bookmark per document, DA/T 46 metadata at 案卷 and 文件 level with each document's 档号 and page
range, the text of each document found on its pages), the receipt and the catalogue DB; and that each
page-range defect rejects its volume with its check ID, the volume kept whole (docs/volumes.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pikepdf
import pytest
from click.testing import CliRunner
from e2e_support import cjk_recall, ingest_json, pdf_text
from sqlalchemy import select

from guidang.cli import main
from guidang.config import Settings, load_settings
from guidang.samples.volumes import Defect, VolumeBatchTruth, make_volume_batch
from guidang.storage.catalogue import Catalogue, ItemRow
from guidang.storage.ocfl_store import OcflStore

pytestmark = pytest.mark.e2e


@pytest.fixture
def volume_home(home: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The test home's demo inbox with a by-volume 档号 rule (全宗号-目录号-案卷号-件号)."""
    monkeypatch.setenv("GUIDANG_PROFILES__DEMO__ARCHIVAL_CODE_RULE", "dat13-catalogue")
    return load_settings()


@pytest.fixture(scope="module")
def clean_volumes(tmp_path_factory: pytest.TempPathFactory) -> VolumeBatchTruth:
    # 2 volumes: 2 documents (2 + 1 pages) and 3 documents (1 + 2 + 1 pages), each with its 备考表
    return make_volume_batch(tmp_path_factory.mktemp("drop"), documents=((2, 1), (1, 2, 1)), seed=5,
                             batch_id="E2E-VOL")


def test_volumes_are_archived_one_object_each(volume_home: Settings, clean_volumes: VolumeBatchTruth,
                                              tmp_path: Path) -> None:
    code, out = ingest_json(clean_volumes.path)
    assert code == 0
    items = {i["id"]: i for i in out["items"]}  # type: ignore[attr-defined]
    assert set(items) == {v.code for v in clean_volumes.volumes}
    assert all(i["status"] == "accepted" for i in items.values()), out
    store = OcflStore(volume_home.store_root, create=False)
    assert store.validate().valid
    assert sorted(store.list_codes()) == sorted(v.code for v in clean_volumes.volumes)  # one object per 案卷
    for volume in clean_volumes.volumes:
        item = items[volume.code]
        assert item["pages"] == volume.images and item["object"] == volume.code
        assert [(f["id"], f["first_page"], f["last_page"], f["status"]) for f in item["files"]] == [
            (f"{volume.code}-{d.number:03d}", d.first_page, d.last_page, "accepted") for d in volume.documents]
        files = store.logical_files(volume.code)
        masters = sorted(f for f in files if f.startswith("masters/"))
        assert len(masters) == volume.images  # the masters once, the 备考表 among them
        for name in masters:
            delivered = (clean_volumes.path / volume.code / Path(name).name).read_bytes()
            assert hashlib.sha256(store.read_file(volume.code, name)).digest() == hashlib.sha256(delivered).digest()
        assert [f for f in files if f.startswith("content/") and f.endswith(".pdf")] == [f"content/{volume.code}.pdf"]
        pdf_bytes = store.read_file(volume.code, f"content/{volume.code}.pdf")
        with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
            assert pdf.open_metadata().pdfa_status == "2B"
            assert len(pdf.pages) == volume.images
            with pdf.open_outline() as outline:
                marks = [(o.title, pdf.pages.index(pikepdf.Page(o.destination[0])))  # type: ignore[index]
                         for o in outline.root]
        assert [(title.split(" ", 1)[1].split("（")[0], page) for title, page in marks] == [
            (d.title, d.first_page - 1) for d in volume.documents]
        texts = pdf_text(pdf_bytes)
        for doc in volume.documents:  # each document's text is found on its own pages
            found = "".join(texts[doc.first_page - 1:doc.last_page])
            assert cjk_recall(doc.text, found) > 0.75, (volume.code, doc.number, found[:200])
        volume_xml = store.read_file(volume.code, "metadata/metadata.xml").decode("utf-8")
        assert "<聚合层次>案卷</聚合层次>" in volume_xml
        assert f"<件数>{len(volume.documents)}</件数>" in volume_xml and "卷内备考表" in volume_xml
        for doc in volume.documents:
            xml = store.read_file(volume.code, f"metadata/文件-{doc.number:04d}.xml").decode("utf-8")
            assert "<聚合层次>文件</聚合层次>" in xml and f'值="{volume.code}-{doc.number:03d}"' in xml
            assert f"<页号>{doc.first_page}</页号>" in xml
            assert f"<页数>{doc.last_page - doc.first_page + 1}</页数>" in xml
            assert f"起止页号：{doc.first_page}-{doc.last_page}" in xml and doc.title in xml

    # DA/T 70 2-11 on a stored volume: its document records cover its pages; without one, it fails
    volume = clean_volumes.volumes[1]
    package = tmp_path / volume.code
    for name, path in store.logical_files(volume.code).items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, package / name)
    assert _check(package, "BC-2-11") == ("pass", []) and _check(package, "BC-1-7") == ("pass", [])
    # 1-8 (YJ, against the catalogue DB): the archived volume's documents are found by their own 档号
    status, messages = _check(package, "YJ-1-8")
    assert status == "fail" and any(f"{volume.code}-002" in m for m in messages), messages
    (package / "metadata" / "文件-0002.xml").unlink()
    status, messages = _check(package, "BC-2-11")
    assert status == "fail" and any("件数为 3" in m for m in messages) and any("第 2、3 页" in m for m in messages)
    # 1-7: a document record whose 档号 is not its volume's
    record = package / "metadata" / "文件-0001.xml"
    record.write_text(record.read_text("utf-8").replace(f'值="{volume.code}-001"', '值="Z109-001-009-001"'), "utf-8")
    status, messages = _check(package, "BC-1-7")
    assert status == "fail" and any("Z109-001-009-001" in m and volume.code in m for m in messages), messages

    receipt = json.loads(Path(out["receipt"][0]).read_text("utf-8"))  # type: ignore[index]
    assert [len(i["files"]) for i in receipt["items"]] == [len(v.documents) for v in clean_volumes.volumes]
    html = Path(out["receipt"][1]).read_text("utf-8")  # type: ignore[index]
    assert all(d.title in html for v in clean_volumes.volumes for d in v.documents)

    with Catalogue(volume_home.db_url).session() as s:
        rows = {r.archival_code: r for r in s.scalars(select(ItemRow))}
        assert set(rows) == {v.code for v in clean_volumes.volumes}
        for volume in clean_volumes.volumes:
            row = rows[volume.code]
            assert row.status == "accepted" and row.object_id == volume.code
            assert [(d.archival_code, d.first_page, d.last_page) for d in row.documents] == [
                (f"{volume.code}-{d.number:03d}", d.first_page, d.last_page) for d in volume.documents]
            assert len([f for f in row.files if f.role == "master"]) == volume.images


def _check(package: Path, check_id: str) -> tuple[str, list[str]]:
    """Status and failure messages of one check (``BC-2-11``) in ``guidang check PACKAGE --stage BC``."""
    stage = check_id.split("-", 1)[0]
    args = ["check", str(package), "--stage", stage, "--profile", "demo", "--format", "json"]
    result = CliRunner().invoke(main, args)
    (subject,) = json.loads(result.output)["subjects"]
    found = [r for r in subject["results"] if r["check"] == check_id]
    status = "fail" if any(r["status"] == "fail" for r in found) else found[0]["status"]
    return status, [r["message_zh"] for r in found if r["status"] == "fail"]


@pytest.fixture(scope="module")
def defective_volumes(tmp_path_factory: pytest.TempPathFactory) -> VolumeBatchTruth:
    # one volume per defect, 2 documents of 1 page each, then one clean volume
    defects: tuple[Defect, ...] = ("overlap", "gap", "beyond", "order", "page_count", "no_documents")
    return make_volume_batch(tmp_path_factory.mktemp("drop"), documents=((1, 1, 1),) * (len(defects) + 1), seed=9,
                             defects=dict(enumerate(defects)), batch_id="E2E-VOL-BAD")


EXPECTED = {"overlap": "VOLUME-RANGE", "gap": "VOLUME-RANGE", "beyond": "VOLUME-RANGE", "order": "VOLUME-ORDER",
            "page_count": "SCAN-COUNT", "no_documents": "VOLUME-LINK"}


def test_each_page_range_defect_rejects_its_volume(volume_home: Settings,
                                                   defective_volumes: VolumeBatchTruth) -> None:
    code, out = ingest_json(defective_volumes.path)
    assert code == 0
    items = {i["id"]: i for i in out["items"]}  # type: ignore[attr-defined]
    for volume in defective_volumes.volumes:
        item = items[volume.code]
        if volume.defect is None:
            assert item["status"] == "accepted", (item["failed_checks"], [p["message_zh"] for p in item["problems"]])
            continue
        assert item["status"] == "rejected", (volume.defect, item)
        assert EXPECTED[volume.defect] in item["failed_checks"], (volume.defect, item["failed_checks"])
        kept = Path(item["rejected_path"]) / "delivered" / volume.code  # nothing is lost
        assert sorted(p.name for p in kept.iterdir()) == sorted(
            p.name for p in (defective_volumes.path / volume.code).iterdir())
    store = OcflStore(volume_home.store_root, create=False)
    assert list(store.list_codes()) == [defective_volumes.volumes[-1].code]


def test_orphan_documents_are_reported(volume_home: Settings, tmp_path: Path) -> None:
    truth = make_volume_batch(tmp_path, documents=((1, 1), (1, 1)), seed=11, defects={1: "orphan"},
                              batch_id="E2E-VOL-ORPHAN")
    code, out = ingest_json(truth.path)
    assert code == 0
    items = {i["id"]: i for i in out["items"]}  # type: ignore[attr-defined]
    first, second = truth.volumes
    assert items[first.code]["status"] == "accepted"
    assert items[second.code]["status"] == "rejected" and "VOLUME-LINK" in items[second.code]["failed_checks"]
    orphans = [p for p in out["batch"]["problems"] if p["check"] == "VOLUME-LINK"]  # type: ignore[index]
    assert len(orphans) == 2 and all("999" in p["message_zh"] for p in orphans)


def test_the_volume_demo_shows_both_outcomes(home: Settings, tmp_path: Path) -> None:
    """`make run`'s volume batch, ingested in the demo-volumes inbox of the default config: the first
    volume archived with its documents, the second returned with VOLUME-RANGE (a document left out)."""
    from guidang.samples.volumes import generate_volume_demo

    batch = generate_volume_demo(tmp_path / "inbox")
    result = CliRunner().invoke(main, ["ingest", str(batch), "--profile", "demo-volumes", "--json"])
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)["items"]
    assert [(i["id"], i["status"], len(i["files"])) for i in items] == [
        ("Z109-001-001", "accepted", 2), ("Z109-001-002", "rejected", 2)]
    assert items[1]["failed_checks"] == ["GD-2-11", "GD-2-6", "VOLUME-RANGE"]
