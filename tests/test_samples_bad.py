"""The bad-batch helpers each make exactly the defect they name."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from PIL import Image

from guidang.samples import BatchTruth, make_batch
from guidang.samples.bad import (
    add_stray_file,
    corrupt_catalogue_encoding,
    drop_catalogue_column,
    read_catalogue,
    remove_item_folder,
    remove_page,
    set_catalogue_value,
    truncate_file,
)


@pytest.fixture
def batch(tmp_path: Path) -> BatchTruth:
    return make_batch(tmp_path, page_counts=(2, 1), seed=9, dpi=50, image_format="tiff")


def _manifest_ok(root: Path) -> bool:
    for line in (root / "manifest-sha256.txt").read_text(encoding="utf-8").splitlines():
        digest, rel = line.split("  ", 1)
        if not (root / rel).is_file() or hashlib.sha256((root / rel).read_bytes()).hexdigest() != digest:
            return False
    return True


def test_drop_column(batch: BatchTruth) -> None:
    drop_catalogue_column(batch.batch_dir, "题名")
    columns, rows, encoding = read_catalogue(batch.batch_dir)
    assert "题名" not in columns and "档号" in columns and len(rows) == 2 and encoding == "utf-8"
    assert _manifest_ok(batch.batch_dir)
    with pytest.raises(ValueError, match="no column"):
        drop_catalogue_column(batch.batch_dir, "题名")


def test_drop_column_in_xlsx_and_gb18030(tmp_path: Path) -> None:
    xlsx = make_batch(tmp_path / "a", page_counts=(1,), dpi=50, catalogue="xlsx")
    drop_catalogue_column(xlsx.batch_dir, "档号")
    assert "档号" not in read_catalogue(xlsx.batch_dir)[0]
    gb = make_batch(tmp_path / "b", page_counts=(1,), dpi=50, encoding="gb18030")
    drop_catalogue_column(gb.batch_dir, "日期")
    columns, _, encoding = read_catalogue(gb.batch_dir)
    assert encoding == "gb18030" and "日期" not in columns


def test_set_value(batch: BatchTruth) -> None:
    set_catalogue_value(batch.batch_dir, 0, "页数", "5")
    assert read_catalogue(batch.batch_dir)[1][0]["页数"] == "5"


@pytest.mark.parametrize("kind", ["invalid", "utf-16", "big5"])
def test_corrupt_encoding(batch: BatchTruth, kind: str) -> None:
    path = corrupt_catalogue_encoding(batch.batch_dir, kind)  # type: ignore[arg-type]
    data = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    if kind == "big5":
        assert "题名" not in data.decode("gb18030")  # decodes, but as mojibake
    else:
        with pytest.raises(UnicodeDecodeError):
            data.decode("gb18030")
    assert _manifest_ok(batch.batch_dir)


def test_remove_item_folder_and_page(batch: BatchTruth) -> None:
    first, second = batch.items
    remove_item_folder(batch.batch_dir, second.archival_code)
    assert not (batch.batch_dir / second.folder).exists()
    remove_page(batch.batch_dir, first.pages[1].file, refresh_manifest=False)
    assert not (batch.batch_dir / first.pages[1].file).exists()
    assert not _manifest_ok(batch.batch_dir)  # the stale manifest still lists the page


def test_stray_file(batch: BatchTruth) -> None:
    path = add_stray_file(batch.batch_dir, batch.items[0].archival_code)
    assert path.parent.name == batch.items[0].archival_code and path.suffix == ".docx"
    assert path.relative_to(batch.batch_dir).as_posix() in (batch.batch_dir / "manifest-sha256.txt").read_text(
        encoding="utf-8"
    )


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_truncated_tiff_and_jpeg_do_not_decode(tmp_path: Path, batch: BatchTruth) -> None:
    jpeg = make_batch(tmp_path / "j", page_counts=(1,), dpi=50, image_format="jpeg")
    for truth in (batch, jpeg):
        rel = truth.items[0].pages[0].file
        size = (truth.batch_dir / rel).stat().st_size
        path = truncate_file(truth.batch_dir, rel, keep=0.5)
        assert path.stat().st_size == size // 2
        with pytest.raises(OSError), Image.open(path) as im:
            im.load()
