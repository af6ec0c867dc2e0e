"""The S3 back end with Object Lock, against moto's standalone server on loopback (a stand-in for a real
S3-compatible store: none is packaged for Debian). It stores, locks by 保管期限, audits, refuses a delete
under lock, keeps corrections as new object versions, and holds records under a legal hold."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from preservation_support import CODES, make_home

from guidang.config import Settings
from guidang.errors import InputError, StorageError
from guidang.packaging import aip
from guidang.packaging.metadata_xml import from_xml
from guidang.pipeline.audit import StoreAudit
from guidang.pipeline.copies import replicate
from guidang.pipeline.corrections import correct_metadata
from guidang.pipeline.destruction import destroy
from guidang.pipeline.worm import lock_for, open_s3, set_legal_hold
from guidang.storage.ocfl_store import OcflStore
from guidang.storage.s3_store import COMPLIANCE
from guidang.validators.result import Status

TEN_YEARS = "Z109-WS·2020-D10-BGS-0001"  # kept until 2031-01-01
ENDED = "Z109-WS·2011-D10-BGS-0002"  # its term ended on 2022-01-01


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """moto's standalone S3 server on a free loopback port, for this module only."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    assert server, "moto[server] is a dev dependency (pyproject.toml)"
    proc = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture()
def settings(tmp_path: Path, moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "guidang-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "guidang-test")
    base = make_home(tmp_path, codes=(CODES[0], TEN_YEARS, ENDED))
    bucket = f"guidang-{tmp_path.name.lower().replace('_', '-')[-40:]}"
    text = (base.home / "guidang.toml").read_text("utf-8")
    text += f'[preservation.s3]\nendpoint_url = "{moto_url}"\nbucket = "{bucket}"\n'
    (base.home / "guidang.toml").write_text(text, "utf-8")
    s = Settings(home=base.home)
    for code in (CODES[0], TEN_YEARS, ENDED):
        replicate(s, code)
    return s


def test_retention_follows_the_retention_period() -> None:
    now = dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    permanent = lock_for("永久", 2011, 100, now)
    assert permanent.mode == COMPLIANCE and permanent.until is not None and permanent.until.year == 2126
    assert lock_for("定期30年", 2020, 100, now).until == dt.datetime(2051, 1, 1, tzinfo=dt.UTC)
    assert lock_for("D10", 2020, 100, now).until == dt.datetime(2031, 1, 1, tzinfo=dt.UTC)
    assert lock_for("定期10年", 2011, 100, now).mode is None  # ended: appraisal is due, no retention
    with pytest.raises(InputError):
        lock_for("长期", 2011, 100, now)


def test_stores_locks_audits_and_refuses_a_delete_under_lock(settings: Settings) -> None:
    s3 = open_s3(settings)
    assert s3 is not None
    store = OcflStore(settings.store_root)
    keys = sorted(s3.keys(store, CODES[0]))
    assert any(k.endswith(".pdf") for k in keys) and any(k.endswith("/inventory.json") for k in keys)
    state = s3.state(next(k for k in keys if k.endswith(".pdf")))
    assert state is not None and state.mode == COMPLIANCE and state.until is not None and state.until.year >= 2125
    audit = StoreAudit(settings)
    subjects = {s.path.rsplit("#", 1)[1]: s for s in audit.run()}
    assert audit.totals.damaged == 0
    locked = [r for r in subjects[CODES[0]].report.results if r.check_id == "STORE-LOCK"]
    assert [r.status for r in locked] == [Status.PASS] and "COMPLIANCE" in locked[0].message_en
    # the server refuses to delete a locked version, and destruction refuses before touching anything
    pdf = next(k for k in keys if k.endswith(".pdf"))
    with pytest.raises(Exception, match="AccessDenied"):
        s3.client.delete_object(Bucket=s3.bucket, Key=pdf, VersionId=state.version_id)
    with pytest.raises(InputError, match="still locked"):
        destroy(settings, TEN_YEARS, decision="鉴定〔2026〕2号", agent="a")
    assert store.exists(TEN_YEARS)
    with pytest.raises(StorageError, match="refused"):
        s3.delete_object(store, CODES[0])


def test_the_audit_finds_a_changed_or_unlocked_s3_copy(settings: Settings) -> None:
    s3 = open_s3(settings)
    assert s3 is not None
    store = OcflStore(settings.store_root)
    keys = sorted(s3.keys(store, ENDED))
    txt = next(k for k in keys if k.endswith(".txt"))
    s3.client.put_object(Bucket=s3.bucket, Key=txt, Body=b"changed in the bucket")  # a new version, unlocked
    audit = StoreAudit(settings)
    damaged = {s.path.rsplit("#", 1)[1]: s for s in audit.run() if s.failed}
    assert set(damaged) == {ENDED}
    [bad] = [r for r in damaged[ENDED].report.results if r.status is Status.FAIL]
    assert bad.check_id == "STORE-FIXITY" and bad.evidence[0].file == f"s3://{s3.bucket}/{txt}"


def test_corrections_are_new_versions_and_a_legal_hold_blocks_destruction(settings: Settings) -> None:
    s3 = open_s3(settings)
    assert s3 is not None
    store = OcflStore(settings.store_root)
    meta = from_xml(store.read_file(ENDED, aip.METADATA_XML))
    fixed = meta.model_copy(update={"record": meta.record.model_copy(
        update={"content": meta.record.content.model_copy(update={"title": "更正后的题名"})})})
    correct_metadata(store, ENDED, fixed, agent="档案员", reason="题名错字")
    replicate(settings, ENDED)
    inventory_key = s3.key(store, ENDED, "inventory.json")
    versions = s3.client.list_object_versions(Bucket=s3.bucket, Prefix=inventory_key)["Versions"]
    assert len([v for v in versions if v["Key"] == inventory_key]) == 2  # the first inventory is kept, not overwritten
    assert [s for s in StoreAudit(settings).run() if s.failed] == []
    assert set_legal_hold(settings, ENDED, True) > 0
    with pytest.raises(InputError, match="legal hold"):
        destroy(settings, ENDED, decision="鉴定〔2026〕3号", agent="a")
    set_legal_hold(settings, ENDED, False)
    row = destroy(settings, ENDED, decision="鉴定〔2026〕3号", agent="a")  # term ended, no hold: destroyed
    assert row.archival_code == ENDED and not store.exists(ENDED)
    assert list(s3.keys(store, ENDED)) == []
