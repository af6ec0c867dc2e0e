"""The vendor batch written by guidang.samples matches the DESIGN.md "Vendor batch" contract."""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from guidang.samples import BatchTruth, Degradation, generate_demo, make_batch
from guidang.samples.batch import DAT22_COLUMNS, SERVICE_COLUMNS, archival_code
from guidang.samples.corpus import make_bench_corpus

DPI = 100  # small pages: layout and headers do not depend on the resolution


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> BatchTruth:
    dest = tmp_path_factory.mktemp("inbox")
    return make_batch(dest, items=3, pages=(1, 3), seed=5, dpi=DPI, profile="scan")


def _csv_rows(path: Path, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline="")))


def test_layout_matches_contract(batch: BatchTruth) -> None:
    root = batch.batch_dir
    assert root.name == batch.batch_id
    names = {p.name for p in root.iterdir()}
    codes = [item.archival_code for item in batch.items]
    assert names == {"catalogue.csv", "manifest-sha256.txt", "READY", *codes}
    for n, item in enumerate(batch.items, start=1):
        assert item.archival_code == f"Z109-WS·2023-Y-BGS-{n:04d}"
        files = sorted(p.name for p in (root / item.folder).iterdir())
        assert files == [f"{item.archival_code}-{k:04d}.tif" for k in range(1, len(item.pages) + 1)]
        assert [p.file for p in item.pages] == [f"{item.folder}/{f}" for f in files]


def test_catalogue_has_dat22_columns_and_rows(batch: BatchTruth) -> None:
    rows = _csv_rows(batch.batch_dir / "catalogue.csv", "utf-8")
    assert tuple(rows[0]) == DAT22_COLUMNS
    assert len(rows) == 1 + len(batch.items)
    dates = []
    for row, item in zip(rows[1:], batch.items, strict=True):
        record = dict(zip(rows[0], row, strict=True))
        assert record == item.catalogue_row
        assert record["档号"] == item.archival_code and record["题名"] == item.title
        assert record["页数"] == str(len(item.pages))
        assert record["保管期限"] == "永久"
        assert len(record["日期"]) == 8 and record["日期"].isdigit() and record["日期"].startswith("2023")
        dates.append(record["日期"])
    assert dates == sorted(dates)  # 件号 follow the date (DA/T 22)


def test_manifest_lists_every_file_with_its_digest(batch: BatchTruth) -> None:
    root = batch.batch_dir
    listed = {}
    for line in (root / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines():
        digest, rel = line.split("  ", 1)
        listed[rel] = digest
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert set(listed) == files - {"manifest-sha256.txt", "READY"}
    for rel, digest in listed.items():
        assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == digest


def test_ready_is_written_last(batch: BatchTruth) -> None:
    root = batch.batch_dir
    ready = (root / "READY").stat().st_mtime_ns
    assert all(p.stat().st_mtime_ns <= ready for p in root.rglob("*") if p.is_file())


def test_truth_is_outside_the_batch_and_round_trips(batch: BatchTruth) -> None:
    truth_file = batch.batch_dir.parent / f"{batch.batch_id}.truth.json"
    assert truth_file.is_file()
    assert not list(batch.batch_dir.rglob("*.json"))
    loaded = BatchTruth.load(truth_file)
    assert loaded == batch
    assert BatchTruth.from_json(batch.to_json()) == batch
    page = loaded.items[0].pages[0]
    assert isinstance(page.degradation, Degradation) and isinstance(page.lines, tuple)
    assert page.lines[0] in loaded.items[0].text


def test_tiff_headers_carry_dpi_and_lossless_compression(batch: BatchTruth) -> None:
    for page in batch.pages():
        with Image.open(batch.batch_dir / page.file) as im:
            assert im.format == "TIFF"
            assert im.info["compression"] == "tiff_lzw"
            assert tuple(round(v) for v in im.info["dpi"]) == (DPI, DPI)
            assert im.mode == page.mode
            assert im.size == (page.width, page.height)


def test_red_pages_are_colour_the_others_grey(batch: BatchTruth) -> None:
    for item in batch.items:
        assert item.pages[0].mode == "RGB"  # 红头
        assert item.pages[-1].mode == "RGB"  # seal
        assert all(p.mode == "L" for p in item.pages[1:-1])
        assert item.pages[-1].seal_text == item.creator


def test_same_seed_gives_identical_files(tmp_path: Path, batch: BatchTruth) -> None:
    again = make_batch(tmp_path, items=3, pages=(1, 3), seed=5, dpi=DPI, profile="scan", workers=2)
    assert (again.batch_dir / "manifest-sha256.txt").read_bytes() == (
        batch.batch_dir / "manifest-sha256.txt"
    ).read_bytes()
    assert again.items == batch.items
    other = make_batch(tmp_path, items=3, seed=6, dpi=DPI, profile="scan", write_truth=False)
    assert [i.title for i in other.items] != [i.title for i in batch.items]


def test_gb18030_catalogue_decodes_and_is_not_utf8(tmp_path: Path) -> None:
    truth = make_batch(
        tmp_path, items=2, pages=(1, 1), seed=1, dpi=50, encoding="gb18030", scripts=("hant",), manifest=False
    )
    data = (truth.batch_dir / "catalogue.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    rows = _csv_rows(truth.batch_dir / "catalogue.csv", "gb18030")
    assert tuple(rows[0]) == DAT22_COLUMNS
    assert rows[1][4] == truth.items[0].title  # traditional characters survive GB18030
    assert not (truth.batch_dir / "manifest-sha256.txt").exists()


def test_xlsx_catalogue_with_service_columns_and_jpeg_dpi(tmp_path: Path) -> None:
    truth = make_batch(
        tmp_path, items=2, pages=(1, 2), seed=2, dpi=DPI, catalogue="xlsx", service_fields=True,
        image_format="jpeg", ready_marker=False,
    )  # fmt: skip
    wb = load_workbook(truth.batch_dir / "目录.xlsx", read_only=True)
    rows = [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()  # read-only keeps the file open: left to the collector it warns in whatever test runs then
    assert tuple(rows[0]) == DAT22_COLUMNS + SERVICE_COLUMNS
    for row, item in zip(rows[1:], truth.items, strict=True):
        record = dict(zip(rows[0], row, strict=True))
        assert record["档号"] == item.archival_code and record["页数"] == len(item.pages)
        assert item.service is not None and record["办件编号"] == item.service.case_number
        assert record["事项名称"] == item.service.matter_name and record["申请人"] == item.service.applicant
    assert not (truth.batch_dir / "READY").exists()
    for page in truth.pages():
        with Image.open(truth.batch_dir / page.file) as im:
            assert im.format == "JPEG" and page.file.endswith(".jpg")
            assert im.info["jfif_unit"] == 1 and im.info["jfif_density"] == (DPI, DPI)


def test_bitonal_pages_are_group4(tmp_path: Path) -> None:
    truth = make_batch(tmp_path, items=1, page_counts=(3,), seed=3, dpi=DPI, bitonal=True)
    modes = [p.mode for p in truth.items[0].pages]
    assert modes == ["RGB", "1", "RGB"]
    with Image.open(truth.batch_dir / truth.items[0].pages[1].file) as im:
        assert im.mode == "1" and im.info["compression"] == "group4"


def test_mixed_formats_and_colour_none(tmp_path: Path) -> None:
    truth = make_batch(tmp_path, items=3, pages=(1, 1), seed=4, dpi=50, image_format="mixed", colour="none")
    assert [i.pages[0].image_format for i in truth.items] == ["tiff", "jpeg", "tiff"]
    assert all(p.mode == "L" and p.seal_text is None for p in truth.pages())


def test_overrides_fix_page_parameters_and_are_checked(tmp_path: Path) -> None:
    blank = Degradation(blank=True, paper=(230, 230, 226), noise_sigma=3.0)
    truth = make_batch(tmp_path, page_counts=(2, 1), seed=1, dpi=50, overrides={(0, 1): blank})
    page = truth.items[0].pages[1]
    assert page.degradation == blank and page.lines == () and page.blank
    assert truth.items[0].catalogue_row["备注"] == "含空白页1页"
    with pytest.raises(ValueError, match="overrides"):
        make_batch(tmp_path / "x", page_counts=(1,), dpi=50, overrides={(0, 3): blank})
    assert not (tmp_path / "x").exists()
    with pytest.raises(FileExistsError):
        make_batch(tmp_path, page_counts=(2, 1), seed=1, dpi=50)


def test_archival_code_form() -> None:
    assert archival_code("Z109", 2011, "Y", "BGS", 1) == "Z109-WS·2011-Y-BGS-0001"
    assert archival_code("A439", 2015, "D30", "003", 5) == "A439-WS·2015-D30-003-0005"


def test_demo_is_two_single_format_batches(tmp_path: Path) -> None:
    inbox, truths = tmp_path / "inbox", tmp_path / "truth"
    assert generate_demo(inbox, truth_dir=truths, dpi=DPI) == inbox
    assert sorted(p.name for p in inbox.iterdir()) == ["DEMO-JPG-000", "DEMO-TIF-000"]
    loaded = [BatchTruth.load(p) for p in sorted(truths.glob("*.truth.json"))]
    items = [i for t in loaded for i in t.items]
    assert len(items) >= 3 and sum(len(i.pages) for i in items) >= 5
    assert len({i.archival_code for i in items}) == len(items)
    for t in loaded:
        assert len({p.image_format for p in t.pages()}) == 1 and (t.batch_dir / "READY").exists()
    assert {p.image_format for t in loaded for p in t.pages()} == {"tiff", "jpeg"}
    degradations = [p.degradation for t in loaded for p in t.pages()]
    assert all(0 < abs(d.skew_deg) <= 1.5 and d.noise_sigma > 0 and d.paper for d in degradations)
    # two black borders, on the first two 件: one over the right margin (26 mm), one into the text
    # behind the left margin (28 mm); test_e2e_ingest.py runs the demo and sees what each becomes
    first, second = (i for t in loaded for i in t.items if i.archival_code.endswith(("-0001", "-0002")))
    bordered = [(p.file, p.degradation.border_edges, p.degradation.border_px * 25.4 / DPI)
                for t in loaded for p in t.pages() if p.degradation.border_px]
    assert [(f, e) for f, e, _ in bordered] == [(first.pages[0].file, "r"), (second.pages[0].file, "l")]
    assert 3 < bordered[0][2] < 26 and bordered[1][2] > 28 + 10


def test_bench_corpus_shape(tmp_path: Path) -> None:
    truth = make_bench_corpus(tmp_path, pages=14, seed=3, dpi=60, workers=1)
    pages = truth.pages()
    assert len(pages) == 14 and len(truth.items) > 1
    blanks = [p for p in pages if p.blank]
    assert len(blanks) == 3 and sum(p.degradation.bleed_through > 0 for p in blanks) == 1
    assert sum(p.degradation.rotate == 180 for p in pages) == 1
    assert all(p.sequence > 1 for p in pages if p.blank or p.degradation.rotate)
    skews = [abs(p.degradation.skew_deg) for p in pages if not p.blank]
    assert all(0.5 <= s <= 3.0 for s in skews)
    assert {i.script for i in truth.items} == {"hans", "hant"}
    assert any(any(c.isascii() and c.isalpha() for c in p.text) for p in pages)


def test_jpeg_page_is_saved_at_its_degradation_quality(tmp_path: Path) -> None:
    low = Degradation(jpeg_quality=45)
    truth = make_batch(tmp_path, page_counts=(2,), dpi=50, image_format="jpeg", overrides={(0, 1): low})

    def tables(path: Path | io.BytesIO) -> dict[int, list[int]]:
        with Image.open(path) as im:
            return {k: list(v) for k, v in im.quantization.items()}  # type: ignore[attr-defined]

    def reference(quality: int) -> dict[int, list[int]]:
        buf = io.BytesIO()
        Image.new("RGB", (16, 16)).save(buf, format="JPEG", quality=quality)
        return tables(buf)

    first, second = (truth.batch_dir / p.file for p in truth.items[0].pages)
    assert tables(first) == reference(90) and tables(second) == reference(45)


def test_module_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from guidang.samples.__main__ import main

    assert main(["batch", str(tmp_path), "--items", "1", "--dpi", "50", "--encoding", "gb18030"]) == 0
    assert "pages in" in capsys.readouterr().out
    (batch,) = (p for p in tmp_path.iterdir() if p.is_dir())
    assert _csv_rows(batch / "catalogue.csv", "gb18030")[0][1] == "档号"
