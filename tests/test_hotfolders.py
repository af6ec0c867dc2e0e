"""The watcher's parts, one at a time: mounts, layout safety, inbox names, readiness, and the
claim protocol's recovery from a crash between any two of its steps."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from guidang.config import Profile, Settings
from guidang.errors import ConfigError
from guidang.hotfolders import claim as claims
from guidang.hotfolders.mounts import mount_of, parse_mountinfo
from guidang.hotfolders.readiness import QuietTracker, marker_verdict, parse_marker
from guidang.hotfolders.retention import prune_processed
from guidang.hotfolders.safety import InboxEntry, check_layout, judge_entries, processing_area
from guidang.hotfolders.state import ClaimRow, Stage, move_stage, open_catalogue
from guidang.hotfolders.unit import run_claim
from guidang.models import BatchStatus, ItemStatus
from guidang.packaging.fixity import digest_file
from guidang.storage.catalogue import BatchRow, ItemRow, utcnow

MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /mnt/vendor\\040a rw,relatime shared:20 - cifs //nas/scans rw,vers=3.1.1
41 22 0:36 / /srv/nfs rw,relatime shared:21 - nfs4 nas:/export rw
42 41 0:37 / /srv/nfs/local rw - tmpfs tmpfs rw
"""


def make_settings(tmp_path: Path, **watch: object) -> Settings:
    home = tmp_path / "home"
    return Settings(home=home, profiles={"v": Profile(vendor="v")}, watch=watch)  # type: ignore[arg-type]


def test_mountinfo_network_detection() -> None:
    mounts = parse_mountinfo(MOUNTINFO)
    assert [m.fs_type for m in mounts] == ["ext4", "cifs", "nfs4", "tmpfs"]
    assert mounts[1].mount_point == "/mnt/vendor a"
    assert mount_of(Path("/mnt/vendor a/batch1"), MOUNTINFO).is_network  # type: ignore[union-attr]
    assert mount_of(Path("/srv/nfs/x"), MOUNTINFO).fs_type == "nfs4"  # type: ignore[union-attr]
    assert not mount_of(Path("/srv/nfs/local/x"), MOUNTINFO).is_network  # type: ignore[union-attr]
    assert mount_of(Path("/srv/nfsx"), MOUNTINFO).fs_type == "ext4"  # type: ignore[union-attr]


@pytest.mark.parametrize("where", ["store", "outbox", "processing/v", "work"])
def test_layout_refuses_inbox_overlapping_outputs(tmp_path: Path, where: str) -> None:
    s = make_settings(tmp_path)
    s.profiles["v"] = Profile(vendor="v", inbox=s.home / where / "in")
    with pytest.raises(ConfigError, match="overlaps"):
        check_layout(s)


def test_layout_refuses_inbox_holding_the_code_or_two_inboxes_nested(tmp_path: Path) -> None:
    s = make_settings(tmp_path)
    s.profiles["v"] = Profile(vendor="v", inbox=Path(__file__).resolve().parents[1])
    with pytest.raises(ConfigError, match=r"code|virtualenv"):
        check_layout(s)
    s = make_settings(tmp_path)
    s.profiles["w"] = Profile(vendor="w", inbox=s.inbox_of("v") / "sub")
    with pytest.raises(ConfigError, match="overlaps inbox"):
        check_layout(s)
    s = make_settings(tmp_path)
    check_layout(s)  # the default layout is fine


def test_inbox_names_are_judged_by_lstat_alone(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "good").mkdir()
    os.symlink("/etc", inbox / "linked")
    os.mkfifo(inbox / "pipe")
    (inbox / "bad\x07name").mkdir()
    gbk = "批次一".encode("gbk")
    os.mkdir(os.fsencode(inbox) + b"/" + gbk)
    (inbox / ".partial").mkdir()
    (inbox / "loose.zip").write_bytes(b"PK")
    got = {e.name: e for e in judge_entries(inbox, os.listdir(os.fsencode(inbox)))}
    assert ".partial" not in got
    assert got["good"].problem is None and got["good"].kind == "dir"
    assert got["linked"].problem == "symlink" and got["linked"].detail == "/etc"
    assert got["pipe"].problem == "fifo"
    assert got["bad\x07name"].problem == "bad_name"
    batch = got["批次一"]
    assert batch.problem is None and batch.decoded_from == "GB18030" and batch.raw == gbk
    assert got["loose.zip"].kind == "file" and got["loose.zip"].problem is None


def test_nfc_collision_is_reported_for_the_second_name(tmp_path: Path) -> None:
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "caf\u00e9").mkdir()
    (inbox / "cafe\u0301").mkdir()
    entries = judge_entries(inbox, os.listdir(os.fsencode(inbox)))
    assert sorted(str(e.problem) for e in entries) == ["None", "nfc_collision"]


def test_marker_and_its_manifest_digest(tmp_path: Path) -> None:
    batch = tmp_path / "b"
    batch.mkdir()
    assert marker_verdict(batch).reason == "no_marker"
    (batch / "READY").write_text("")
    assert marker_verdict(batch).state == "ready"
    manifest = batch / "manifest-sha256.txt"
    manifest.write_text("abc  A/1.tif\n")
    good = hashlib.sha256(manifest.read_bytes()).hexdigest()
    (batch / "READY").write_text(f"{good}\n")
    assert marker_verdict(batch).state == "ready"
    (batch / "READY").write_text(f"sha256:{'0' * 64}\n")
    v = marker_verdict(batch)
    assert (v.state, v.reason) == ("wait", "manifest_mismatch")
    sm3 = batch / "manifest-sm3.txt"
    sm3.write_text("def  A/1.tif\n")
    (batch / "READY").write_text(f"{digest_file(sm3).sm3}  manifest-sm3.txt\n")
    assert marker_verdict(batch).state == "ready"
    (batch / "READY").write_text(f"sm3={'1' * 64}\n")
    sm3.unlink()
    assert marker_verdict(batch).reason == "manifest_missing"
    manifest.unlink()
    os.mkfifo(manifest)  # never opened for reading (that would block): refused
    (batch / "READY").write_text(f"{good}\n")
    assert (marker_verdict(batch).state, marker_verdict(batch).reason) == ("refuse", "manifest_not_regular")
    (batch / "READY").unlink()
    os.symlink("/etc/passwd", batch / "READY")
    assert (marker_verdict(batch).state, marker_verdict(batch).reason) == ("refuse", "marker_not_regular")


def test_parse_marker_forms() -> None:
    h = "a" * 64
    assert parse_marker("") is None
    assert parse_marker("vendor: acme\n") is None
    assert parse_marker(h).manifest == "manifest-sha256.txt"  # type: ignore[union-attr]
    assert parse_marker(f"SM3: {h}").algorithm == "sm3"  # type: ignore[union-attr]
    assert parse_marker(f"{h} *manifest-sm3.txt").algorithm == "sm3"  # type: ignore[union-attr]


def test_quiet_tracker_needs_stability_over_the_period(tmp_path: Path) -> None:
    batch = tmp_path / "b"
    (batch / "A").mkdir(parents=True)
    page = batch / "A" / "1.tif"
    page.write_bytes(b"x")
    q = QuietTracker()
    assert q.verdict(batch, 10, now=0).reason == "first_seen"
    assert q.verdict(batch, 10, now=5).reason == "quiet_pending"
    with page.open("ab") as fh:
        fh.write(b"y")
    assert q.verdict(batch, 10, now=11).reason == "changing"
    assert q.verdict(batch, 10, now=20).reason == "quiet_pending"
    assert q.verdict(batch, 10, now=21).state == "ready"
    os.symlink("/", batch / "A" / "root")  # a link is recorded as itself, never walked
    assert q.verdict(batch, 10, now=22).reason == "changing"


# --- the claim protocol: a crash between any two steps is recovered --------------------------


def _entry(s: Settings, name: str) -> InboxEntry:
    inbox = s.inbox_of("v")
    return next(e for e in judge_entries(inbox, os.listdir(os.fsencode(inbox))) if e.name == name)


def _setup(tmp_path: Path) -> tuple[Settings, Path]:
    s = make_settings(tmp_path, max_crashes=2, retry_seconds=0)
    check_layout(s)
    batch = s.inbox_of("v") / "b1"
    (batch / "A").mkdir(parents=True)
    (batch / "A" / "1.tif").write_bytes(b"page")
    return s, batch


def _row(s: Settings, claim_id: int) -> ClaimRow:
    with open_catalogue(s.db_url).session() as ses:
        row = ses.get(ClaimRow, claim_id)
        assert row is not None
        return row


def test_claim_moves_and_records(tmp_path: Path) -> None:
    s, batch = _setup(tmp_path)
    cat = open_catalogue(s.db_url)
    claim_id = claims.claim(cat, s, "v", _entry(s, "b1"))
    assert claim_id is not None
    row = _row(s, claim_id)
    assert row.stage == Stage.CLAIMED and not batch.exists()
    assert (Path(row.processing_path) / "A" / "1.tif").read_bytes() == b"page"
    assert Path(row.processing_path).parent.parent == processing_area(s, "v")


def test_crash_after_intent_before_rename(tmp_path: Path) -> None:
    s, batch = _setup(tmp_path)
    cat = open_catalogue(s.db_url)
    with cat.session() as ses:
        row = ClaimRow(
            profile="v",
            name="b1",
            source_path=str(batch),
            stage=Stage.INTENT,
            processing_path=str(processing_area(s, "v") / "99" / "b1"),
        )
        ses.add(row)
        ses.flush()
        claim_id = row.id
    assert claims.reconcile(cat, s)["abandoned"] == 1
    assert _row(s, claim_id).stage == Stage.ABANDONED and batch.is_dir()  # still in the inbox: claimed anew


def test_crash_after_rename_before_mark(tmp_path: Path) -> None:
    s, batch = _setup(tmp_path)
    cat = open_catalogue(s.db_url)
    dest = processing_area(s, "v") / "7" / "b1"
    with cat.session() as ses:
        row = ClaimRow(profile="v", name="b1", source_path=str(batch), stage=Stage.INTENT, processing_path=str(dest))
        ses.add(row)
        ses.flush()
        claim_id = row.id
    dest.parent.mkdir(parents=True)
    os.rename(batch, dest)
    assert claims.reconcile(cat, s)["claimed"] == 1
    assert _row(s, claim_id).stage == Stage.CLAIMED


def test_running_claim_of_a_dead_worker_is_retried_then_rejected(tmp_path: Path) -> None:
    s, _batch = _setup(tmp_path)
    cat = open_catalogue(s.db_url)
    claim_id = claims.claim(cat, s, "v", _entry(s, "b1"))
    assert claim_id is not None
    with cat.session() as ses:  # the ingest had registered the batch when its worker died
        batch = BatchRow(profile="v", vendor="v", name="b1", content_digest="0" * 64, status=BatchStatus.PROCESSING,
                         source_path=_row(s, claim_id).processing_path)
        batch.items = [ItemRow(archival_code="Z109-WS·2024-Y-0001", status=ItemStatus.PROCESSING),
                       ItemRow(archival_code="Z109-WS·2024-Y-0002", status=ItemStatus.ACCEPTED, object_id="x")]
        ses.add(batch)
    for attempt in (1, 2):
        with cat.session() as ses:
            assert move_stage(ses, claim_id, (Stage.CLAIMED,), Stage.RUNNING, attempts=attempt)
        with claims.claim_lock(s, "v", claim_id) as held:  # a live worker holds the lock: left alone
            assert held
            claims.reconcile(cat, s)
            assert _row(s, claim_id).stage == Stage.RUNNING
        claims.reconcile(cat, s)  # the worker is gone
    row = _row(s, claim_id)
    assert row.stage == Stage.REJECTED and row.reason == "worker_crashed" and row.settled
    reasons = Path(row.final_path or "") / "reasons.json"
    assert "crashed 2 times" in reasons.read_text("utf-8")
    assert (Path(row.final_path or "") / "delivered" / "b1" / "A" / "1.tif").read_bytes() == b"page"
    with cat.session() as ses:  # nothing left 'processing': the batch failed, its undecided item rejected
        given_up = ses.scalars(select(BatchRow)).one()
        assert given_up.status == BatchStatus.FAILED and given_up.errors[-1]["check"] == "worker_crashed"
        assert "崩溃" in given_up.errors[-1]["message_zh"]
        states = {i.archival_code[-4:]: (i.status, i.rejected_path) for i in given_up.items}
        assert states == {"0001": (ItemStatus.REJECTED, str(Path(row.final_path or "") / "delivered")),
                          "0002": (ItemStatus.ACCEPTED, None)}


def test_decided_but_unsettled_claim_is_settled_and_orphans_adopted(tmp_path: Path) -> None:
    s, _batch = _setup(tmp_path)
    cat = open_catalogue(s.db_url)
    claim_id = claims.claim(cat, s, "v", _entry(s, "b1"))
    assert claim_id is not None
    with cat.session() as ses:
        move_stage(
            ses,
            claim_id,
            (Stage.CLAIMED,),
            Stage.DONE,
            final_path=str(s.path("processed") / "v" / str(claim_id)),
        )
    orphan = processing_area(s, "v") / "555" / "lost-batch"
    (orphan / "A").mkdir(parents=True)
    done = claims.reconcile(cat, s)
    assert done["settled"] == 1 and done["adopted"] == 1
    assert (s.path("processed") / "v" / str(claim_id) / "b1" / "A" / "1.tif").is_file()
    with cat.session() as ses:
        adopted = [r for r in ses.query(ClaimRow).filter(ClaimRow.name == "lost-batch")]
    assert [(r.stage, r.processing_path) for r in adopted] == [(Stage.CLAIMED, str(orphan))]
    assert claims.reconcile(cat, s)["adopted"] == 0  # idempotent


def test_claimed_entry_missing_from_disk_is_recorded(tmp_path: Path) -> None:
    s, _batch = _setup(tmp_path)
    cat = open_catalogue(s.db_url)
    claim_id = claims.claim(cat, s, "v", _entry(s, "b1"))
    assert claim_id is not None
    import shutil

    shutil.rmtree(_row(s, claim_id).processing_path)
    assert claims.reconcile(cat, s)["missing"] == 1
    assert _row(s, claim_id).last_error == "missing from the processing area"


def test_entry_taken_to_be_rejected_is_rejected_even_after_a_crash(tmp_path: Path) -> None:
    s, _batch = _setup(tmp_path)
    os.symlink("/etc", s.inbox_of("v") / "linked")
    cat = open_catalogue(s.db_url)
    claim_id = claims.claim(cat, s, "v", _entry(s, "linked"), ("symlink", "/etc"))
    assert claim_id is not None  # ... and the watcher died before it could reject it
    assert run_claim(s, claim_id) == Stage.REJECTED  # whoever runs it next rejects it, never ingests it
    row = _row(s, claim_id)
    assert (row.reason, row.settled) == ("symlink", True)
    moved = Path(row.final_path or "") / "delivered" / "linked"
    assert moved.is_symlink() and os.readlink(moved) == "/etc"
    assert "symbolic link (to /etc)" in (Path(row.final_path or "") / "reasons.json").read_text("utf-8")


def test_a_running_claim_of_a_dead_earlier_watcher_is_swept_without_a_restart(tmp_path: Path) -> None:
    from guidang.hotfolders.service import Watcher

    s, _batch = _setup(tmp_path)
    cat = open_catalogue(s.db_url)
    claim_id = claims.claim(cat, s, "v", _entry(s, "b1"))
    assert claim_id is not None
    with cat.session() as ses:
        move_stage(ses, claim_id, (Stage.CLAIMED,), Stage.RUNNING, attempts=1)
    w = Watcher(s)
    with claims.claim_lock(s, "v", claim_id):  # its worker is still dying: left alone
        w._sweep()
        assert _row(s, claim_id).stage == Stage.RUNNING
    w._sweep()
    row = _row(s, claim_id)
    assert (row.stage, row.crashes) == (Stage.CLAIMED, 1)


@pytest.mark.parametrize("status", ["done", "duplicate"])
def test_a_run_that_finished_before_its_claim_was_marked_is_recorded_not_rerun(tmp_path: Path, status: str) -> None:
    s, _batch = _setup(tmp_path)
    s = s.model_copy(update={"watch": s.watch.model_copy(update={"processor": "no.such.module:never_called"})})
    cat = open_catalogue(s.db_url)
    claim_id = claims.claim(cat, s, "v", _entry(s, "b1"))
    assert claim_id is not None
    path = _row(s, claim_id).processing_path
    with cat.session() as ses:  # the pipeline finished the batch; the worker died before marking the claim
        ses.add(
            BatchRow(
                profile="v",
                vendor="v",
                name="b1",
                content_digest="d",
                status=status,
                source_path=path,
                summary={"items": 1, "accepted": 1},
            )
        )
    assert run_claim(s, claim_id) == Stage.DONE
    row = _row(s, claim_id)
    assert (row.outcome, row.summary, row.settled) == (status, {"items": 1, "accepted": 1}, True)


def test_done_deliveries_are_pruned_after_the_retention_and_rejected_ones_never(tmp_path: Path) -> None:
    s, _batch = _setup(tmp_path)
    (s.inbox_of("v") / "b2" / "A").mkdir(parents=True)
    (s.inbox_of("v") / "b2" / "A" / "1.tif").write_bytes(b"page")
    cat = open_catalogue(s.db_url)
    done, refused = claims.claim(cat, s, "v", _entry(s, "b1")), claims.claim(cat, s, "v", _entry(s, "b2"))
    assert done is not None and refused is not None
    with cat.session() as ses:
        move_stage(ses, done, (Stage.CLAIMED,), Stage.RUNNING)
    claims.finish(cat, s, done, None, "done", {})
    claims.reject(cat, s, refused, "worker_error", "boom")
    kept = Path(_row(s, done).final_path or "")
    assert (kept / "b1" / "A" / "1.tif").is_file()
    assert prune_processed(cat, s) == 0  # within the retention
    later = utcnow() + dt.timedelta(days=31)
    assert prune_processed(cat, s.model_copy(update={"watch": s.watch.model_copy(update={"keep_processed_days": 0})}),
                           later) == 0  # 0: kept for ever
    assert prune_processed(cat, s, later) == 1
    row = _row(s, done)
    assert not kept.exists() and row.final_path is None and row.detail["pruned_path"] == str(kept)
    assert Path(_row(s, refused).final_path or "").is_dir()  # rejected: waits for an archivist
    assert prune_processed(cat, s, later) == 0  # nothing twice


def test_the_unpacked_copy_of_a_zipped_batch_is_not_adopted_as_a_batch_of_its_own(tmp_path: Path) -> None:
    s, _batch = _setup(tmp_path)
    (s.inbox_of("v") / "b2.zip").write_bytes(b"PK")
    cat = open_catalogue(s.db_url)
    claim_id = claims.claim(cat, s, "v", _entry(s, "b2.zip"))
    assert claim_id is not None
    zipped = Path(_row(s, claim_id).processing_path)
    (zipped.parent / "b2" / "A").mkdir(parents=True)  # a worker unpacked it, then died
    (zipped.parent / ".unpacking-b2.zip").mkdir()
    with cat.session() as ses:  # the ingest of the unpacked copy had begun
        ses.add(BatchRow(profile="v", vendor="v", name="b2", content_digest="0" * 64, status=BatchStatus.PROCESSING,
                         source_path=str(zipped.parent / "b2")))
    assert claims.reconcile(cat, s)["adopted"] == 0
    claims.reject(cat, s, claim_id, "worker_crashed", "SIGKILL")  # settling removes the copies, keeps the zip
    with cat.session() as ses:  # the batch read from the unpacked copy is given up with the zip
        assert ses.scalars(select(BatchRow.status)).one() == BatchStatus.FAILED
    assert not zipped.parent.exists()
    assert (Path(_row(s, claim_id).final_path or "") / "delivered" / "b2.zip").read_bytes() == b"PK"


def test_status_progress_finds_the_batch_read_from_a_zipped_claims_unpacked_copy(tmp_path: Path) -> None:
    from guidang.cli.watch import _progress

    s, _batch = _setup(tmp_path)
    cat = open_catalogue(s.db_url)
    folder = processing_area(s, "v") / "7"
    with cat.session() as ses:
        batch = BatchRow(profile="v", vendor="v", name="b2", content_digest="0" * 64, status=BatchStatus.PROCESSING,
                         source_path=str(folder / "b2" / "b2"))  # b2.zip holding its folder
        batch.items = [ItemRow(archival_code="A", status=ItemStatus.ACCEPTED),
                       ItemRow(archival_code="B", status=ItemStatus.PROCESSING)]
        ses.add(batch)
    with cat.session() as ses:
        assert _progress(ses, str(folder)) == {"batch": 1, "items": 2, "accepted": 1, "processing": 1}
        assert _progress(ses, str(processing_area(s, "v") / "77")) is None  # another claim's folder
