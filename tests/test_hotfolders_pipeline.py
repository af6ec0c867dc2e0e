"""The watcher with the real unit of work (``ingest_batch``: scan QA, Tesseract, PDF/A, clamd,
the OCFL store): unsafe entries in a batch are rejected with their reason while the rest of
the batch is archived; a byte-identical re-delivery is recognised; the same name with other
content is a new delivery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from zips import zip_folder

from guidang.config import Settings
from guidang.hotfolders.state import ClaimRow, Stage, open_catalogue
from guidang.packaging.ocfl_package import package_digests
from guidang.samples.batch import make_batch
from guidang.storage.catalogue import BatchRow
from guidang.storage.ocfl_store import OcflStore

GUIDANG = str(Path(sys.executable).parent / "guidang")
DPI = 200  # the DA/T 31 minimum keeps Tesseract quick


def watch_once() -> None:
    run = subprocess.run([GUIDANG, "watch", "--once", "--workers", "2"], capture_output=True, timeout=600)
    assert run.returncode == 0, run.stderr.decode()


def claims_of(home: Settings) -> list[ClaimRow]:
    with open_catalogue(home.db_url).session() as s:
        return list(s.query(ClaimRow).order_by(ClaimRow.id))


def receipt(home: Settings, row: ClaimRow) -> dict[str, Any]:
    with open_catalogue(home.db_url).session() as s:
        batch = s.get(BatchRow, row.batch_id)
        assert batch is not None and batch.receipt_path
        data: dict[str, Any] = json.loads(Path(batch.receipt_path).read_text("utf-8"))
        return data


def test_unsafe_entries_rejected_rest_archived_and_redeliveries(home: Settings) -> None:
    inbox = home.inbox_of("demo")
    make_batch(inbox, page_counts=[1, 1], seed=3000, dpi=DPI, batch_id="V1", write_truth=False, ready_marker=False)
    first = sorted(p for p in (inbox / "V1").iterdir() if p.is_dir())[0]
    os.symlink("/etc/passwd", first / "link.tif")
    os.mkfifo(first / "pipe.tif")
    (first / "..\\..\\escape.tif").write_bytes(b"II*\x00")
    (inbox / "V1" / "READY").write_text("")
    watch_once()

    [claim] = claims_of(home)
    assert (claim.stage, claim.outcome) == (Stage.DONE, "done")
    data = receipt(home, claim)
    items = {i["id"]: i for i in data["items"]}
    bad, good = items[first.name], next(i for code, i in items.items() if code != first.name)
    assert bad["status"] == "rejected" and "INTAKE-UNSAFE" in bad["failed_checks"]
    unsafe = " ".join(p["message_en"] for p in bad["problems"] if p["check"] == "INTAKE-UNSAFE")
    assert "link.tif is a symbolic link" in unsafe
    assert "pipe.tif is a named pipe" in unsafe
    assert "path traversal" in unsafe and "escape.tif" in unsafe
    assert good["status"] == "accepted", good
    store = OcflStore(home.store_root, create=False)
    assert list(store.list_codes()) == [good["id"]]
    assert not any(rel.endswith(("link.tif", "pipe.tif", "escape.tif")) for rel in package_digests(store, good["id"]))

    # the same delivery again, byte for byte: recognised, nothing archived twice
    make_batch(inbox, page_counts=[1, 1], seed=3000, dpi=DPI, batch_id="V1", write_truth=False)
    watch_once()
    dup = claims_of(home)[-1]
    assert (dup.stage, dup.outcome) == (Stage.DONE, "duplicate")
    assert receipt(home, dup)["batch"]["duplicate_of"] == claim.batch_id
    assert store.versions(good["id"])[-1].version == "v1"

    # the same name with other content: a new delivery, and the receipt says so
    make_batch(inbox, page_counts=[1], seed=3002, dpi=DPI, batch_id="V1", first_number=3, write_truth=False)
    watch_once()
    new = claims_of(home)[-1]
    assert (new.stage, new.outcome) == (Stage.DONE, "done")
    batch = receipt(home, new)["batch"]
    assert batch["delivery"] == 3 and batch["duplicate_of"] is None
    assert len(list(store.list_codes())) == 2


def test_a_batch_zipped_on_windows_is_unpacked_archived_and_the_zip_kept(
    home: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUIDANG_PROFILES__DEMO__QUIET_SECONDS", "1")  # a zip has no READY marker
    truth = make_batch(tmp_path / "drop", page_counts=[1], seed=3100, dpi=DPI, batch_id="批次Z", write_truth=False,
                       ready_marker=False)
    inbox = home.inbox_of("demo")
    zipped = zip_folder(truth.batch_dir.parent, tmp_path / "批次Z.zip")  # the folder itself, GBK names
    (inbox / "批次Z.zip").write_bytes(zipped.read_bytes())
    unsafe = {"目录.csv": b"x", "../../etc/cron.d/evil": b"y"}
    with zipfile.ZipFile(inbox / "evil.zip", "w") as zf:
        for name, data in unsafe.items():
            zf.writestr(name, data)
    watch_once()

    refused, done = sorted(claims_of(home), key=lambda c: c.name)  # evil.zip, 批次Z.zip
    assert (done.name, done.stage, done.outcome) == ("批次Z.zip", Stage.DONE, "done")
    data = receipt(home, done)
    assert data["batch"]["name"] == "批次Z" and [i["status"] for i in data["items"]] == ["accepted"]
    assert list(OcflStore(home.store_root, create=False).list_codes()) == [truth.items[0].archival_code]
    assert (Path(done.final_path or "") / "批次Z.zip").read_bytes() == zipped.read_bytes()  # kept as delivered
    assert (refused.stage, refused.reason) == (Stage.REJECTED, "zip_bad_member")
    assert (Path(refused.final_path or "") / "delivered" / "evil.zip").is_file()
    assert "../../etc/cron.d/evil" in (Path(refused.final_path or "") / "reasons.json").read_text("utf-8")
    area = home.home / "processing" / "demo"
    assert not [p for p in area.rglob("*") if p.name != ".locks" and ".locks" not in p.parts]  # nothing left behind
