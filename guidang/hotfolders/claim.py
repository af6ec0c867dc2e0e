"""Claim, settle and reconcile: the only code that moves inbox entries.

A claim is three steps, in this order, each durable before the next:
1. write the intent (a ``watch_claims`` row, stage ``intent``, with the destination);
2. rename the entry from the inbox into ``<processing area>/<claim id>/<name>`` (atomic,
   same filesystem; links and special files are moved as themselves, never followed);
3. mark the claim ``claimed``.
Settling a finished claim is the same pattern: the stage and destination are written
first, then the rename, then ``settled``. :func:`reconcile` finishes or undoes whatever a
crash interrupted, comparing the DB with the disk in both directions.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import update

from guidang.config import Settings
from guidang.filelock import try_lock
from guidang.fsutil import fsync_dir, replace_file
from guidang.hotfolders.safety import InboxEntry, processed_area, processing_area, safe_label
from guidang.hotfolders.state import ClaimRow, Stage, claims, move_stage
from guidang.hotfolders.zipbatch import made_from, remove_unpacked
from guidang.storage.catalogue import Catalogue, utcnow
from guidang.validators.registry import refusal

log = logging.getLogger(__name__)
AGENT = "guidang-watch"
LOCKS = ".locks"




def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def claim_lock(settings: Settings, profile: str, claim_id: int) -> Iterator[bool]:
    """An exclusive lock held by whoever runs a claim; released by the kernel if it dies."""
    folder = processing_area(settings, profile) / LOCKS
    folder.mkdir(parents=True, exist_ok=True)
    with try_lock(folder / f"{claim_id}.lock", create=True) as held:
        yield held


def reap_session(worker: str | None) -> None:
    """Kill the leftovers of a dead worker of this host (see pool.kill_session)."""
    from guidang.hotfolders.pool import kill_session

    host, _, pid = (worker or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        kill_session(int(pid))


def lock_is_free(settings: Settings, profile: str, claim_id: int) -> bool:
    with claim_lock(settings, profile, claim_id) as got:
        return got


def claim(
    cat: Catalogue, settings: Settings, profile: str, entry: InboxEntry, refusal: tuple[str, str] | None = None
) -> int | None:
    """Move one inbox entry into the processing area; its claim id, or None if it vanished.
    A ``refusal`` (reason, detail) is written with the intent, so that a claim taken only to be
    rejected is rejected even if a crash falls between the rename and the rejection."""
    area = processing_area(settings, profile)
    label = entry.name if entry.problem is None else safe_label(entry.name)
    with cat.session() as s:
        row = ClaimRow(
            profile=profile,
            name=entry.name,
            source_path=str(entry.path),
            kind=entry.kind,
            source_raw=entry.raw.hex() if entry.decoded_from else "",
            stage=Stage.INTENT,
            detail={
                **({"decoded_from": entry.decoded_from} if entry.decoded_from else {}),
                **({"detail": refusal[1]} if refusal else {}),
            },
            reason=refusal[0] if refusal else None,
        )
        s.add(row)
        s.flush()
        claim_id = row.id
        row.processing_path = str(area / str(claim_id) / label)
        cat.log(s, AGENT, "claim.intent", entry.name, claim=claim_id, profile=profile, source=str(entry.path))
    dest = area / str(claim_id) / label
    try:
        dest.parent.mkdir(parents=True)
        os.rename(entry.path, dest)
    except FileNotFoundError:
        with cat.session() as s:
            move_stage(s, claim_id, (Stage.INTENT,), Stage.ABANDONED, last_error="vanished before the claim")
        _rmdir_quietly(dest.parent)
        return None
    fsync_dir(entry.path.parent)
    fsync_dir(dest.parent)
    with cat.session() as s:
        move_stage(s, claim_id, (Stage.INTENT,), Stage.CLAIMED)
        cat.log(s, AGENT, "claim.claimed", entry.name, claim=claim_id, path=str(dest))
    log.info("claimed %s/%s as %d", profile, entry.name, claim_id)
    return claim_id


def _rmdir_quietly(path: Path) -> None:
    with suppress(OSError):
        path.rmdir()


def reject(
    cat: Catalogue,
    settings: Settings,
    claim_id: int,
    reason: str,
    detail: str = "",
    frm: tuple[Stage, ...] = (Stage.CLAIMED, Stage.RUNNING),
    **values: Any,
) -> bool:
    """Decide a claim as rejected (kept whole, with the reason) and move it to the rejected area."""
    with cat.session() as s:
        row = s.get(ClaimRow, claim_id)
        if row is None:
            return False
        result = refusal(reason, name=row.name, detail=detail, count=max(row.crashes, row.errors))
        zh, en = result.message_zh, result.message_en
        final = settings.rejected_root / row.profile / f"claim-{claim_id}"
        moved = move_stage(
            s,
            claim_id,
            frm,
            Stage.REJECTED,
            reason=reason,
            final_path=str(final),
            detail={**row.detail, "message_zh": zh, "message_en": en, "detail": detail},
            **values,
        )
        if moved:
            cat.log(s, AGENT, "claim.rejected", row.name, claim=claim_id, reason=reason, detail=detail)
            error = result.as_dict()
            cat.give_up_batches(s, str(Path(row.processing_path).parent), error, str(final / "delivered"))
    if moved:
        log.warning("rejected claim %d (%s): %s", claim_id, reason, en)
        settle(cat, claim_id)
    return moved


def finish(
    cat: Catalogue,
    settings: Settings,
    claim_id: int,
    batch_id: int | None,
    outcome: str,
    summary: dict[str, Any],
) -> None:
    """Record the unit of work's outcome and move the delivered folder out of processing."""
    with cat.session() as s:
        row = s.get(ClaimRow, claim_id)
        assert row is not None
        final = processed_area(settings, row.profile) / str(claim_id)
        move_stage(
            s,
            claim_id,
            (Stage.RUNNING,),
            Stage.DONE,
            batch_id=batch_id,
            outcome=outcome,
            summary=summary,
            final_path=str(final),
        )
        cat.log(s, AGENT, "claim.done", row.name, claim=claim_id, batch_id=batch_id, outcome=outcome)
    settle(cat, claim_id)


def _move(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(src, dst)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        if os.path.lexists(dst):  # an earlier copy was interrupted: the source is still whole
            shutil.rmtree(dst) if dst.is_dir() and not dst.is_symlink() else dst.unlink()
        shutil.move(src, dst)
    fsync_dir(dst.parent)


def _write_reasons(row: ClaimRow, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "claim": row.id,
        "profile": row.profile,
        "name": row.name,
        "source": row.source_path,
        "kind": row.kind,
        "reason": row.reason,
        "message_zh": row.detail.get("message_zh"),
        "message_en": row.detail.get("message_en"),
        "detail": row.detail.get("detail"),
        "attempts": row.attempts,
        "last_error": row.last_error,
        "batch_id": row.batch_id,
        "at": utcnow().isoformat(),
    }
    replace_file(folder / "reasons.json", json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))


def settle(cat: Catalogue, claim_id: int) -> None:
    """Move a decided claim's folder to its final place; idempotent, so reconcile can redo it."""
    with cat.session() as s:
        row = s.get(ClaimRow, claim_id)
        assert row is not None and row.final_path is not None
        if row.settled:
            return
        src, final = Path(row.processing_path), Path(row.final_path)
        if row.stage == Stage.REJECTED:
            _write_reasons(row, final)
            target = final / "delivered" / src.name
        else:
            target = final / src.name
        remove_unpacked(src)  # a zipped batch's unpacked copy (nothing, for a folder)
        if os.path.lexists(src):
            _move(src, target)
        _rmdir_quietly(src.parent)
        row.settled = True
        (Path(src.parent.parent) / LOCKS / f"{claim_id}.lock").unlink(missing_ok=True)


def record_failure(
    cat: Catalogue,
    settings: Settings,
    claim_id: int,
    error: str,
    *,
    crashed: bool,
    counts: bool = True,
    delay: float | None = None,
) -> Stage | None:
    """A run ended without an outcome: retry later, or reject once its crashes (signals) reach
    ``max_crashes`` or its errors (exceptions) reach ``max_errors``. ``counts=False`` (stopped by
    us, disk full) puts it back as if it had not run."""
    with cat.session() as s:
        row = s.get(ClaimRow, claim_id)
        if row is None or row.stage != Stage.RUNNING:
            return None
        values: dict[str, Any] = {"last_error": error, "worker": None}
        if not counts:
            values["attempts"] = max(row.attempts - 1, 0)
        elif crashed:
            values["crashes"] = row.crashes + 1
        else:
            values["errors"] = row.errors + 1
        exhausted = counts and (
            values.get("crashes", 0) >= settings.watch.max_crashes
            or values.get("errors", 0) >= settings.watch.max_errors
        )
        if not exhausted:
            failures = row.crashes + row.errors
            wait = delay if delay is not None else settings.watch.retry_seconds * 2**failures if counts else 0.0
            values["not_before"] = utcnow() + dt.timedelta(seconds=wait)
            move_stage(s, claim_id, (Stage.RUNNING,), Stage.CLAIMED, **values)
            action = "claim.released" if not counts else "claim.retry"
            cat.log(s, AGENT, action, row.name, claim=claim_id, error=error, crashed=crashed)
        else:
            s.execute(update(ClaimRow).where(ClaimRow.id == claim_id).values(**values))
    if exhausted:
        reason = "worker_crashed" if crashed else "worker_error"
        reject(cat, settings, claim_id, reason, error, frm=(Stage.RUNNING,))
        return Stage.REJECTED
    return Stage.CLAIMED


def reconcile(cat: Catalogue, settings: Settings, *, retry_now: bool = False) -> dict[str, int]:
    """Bring the DB and the disk into agreement after any crash; returns counts of what was done.

    ``retry_now``: claims a death interrupted are due at once (``watch --once``), not after a back-off."""
    done = {"claimed": 0, "abandoned": 0, "running": 0, "settled": 0, "adopted": 0, "missing": 0}
    with cat.session() as s:
        intents = claims(s, Stage.INTENT)
        running = claims(s, Stage.RUNNING)
        waiting = claims(s, Stage.CLAIMED)
        unsettled = [r.id for r in claims(s, Stage.DONE, Stage.REJECTED) if not r.settled]
    for row in intents:
        dest = Path(row.processing_path)
        with cat.session() as s:
            if os.path.lexists(dest):
                move_stage(s, row.id, (Stage.INTENT,), Stage.CLAIMED)
                cat.log(s, AGENT, "claim.recovered", row.name, claim=row.id, stage="claimed")
                done["claimed"] += 1
            else:
                move_stage(s, row.id, (Stage.INTENT,), Stage.ABANDONED, last_error="rename not done before a stop")
                _rmdir_quietly(dest.parent)
                done["abandoned"] += 1
    for row in running:
        if lock_is_free(settings, row.profile, row.id):
            reap_session(row.worker)
            record_failure(cat, settings, row.id, "interrupted: the worker or the watcher died", crashed=True,
                           delay=0.0 if retry_now else None)
            done["running"] += 1
    for row in waiting:
        if not os.path.lexists(row.processing_path):
            with cat.session() as s:
                move_stage(
                    s,
                    row.id,
                    (Stage.CLAIMED,),
                    Stage.ABANDONED,
                    last_error="missing from the processing area",
                )
                cat.log(s, AGENT, "claim.missing", row.name, claim=row.id, path=row.processing_path)
            done["missing"] += 1
    for claim_id in unsettled:
        settle(cat, claim_id)
        done["settled"] += 1
    done["adopted"] = _adopt_orphans(cat, settings)
    return done


def _adopt_orphans(cat: Catalogue, settings: Settings) -> int:
    """Folders in a processing area that no live claim accounts for become claims again."""
    adopted = 0
    for profile in settings.profiles:
        area = processing_area(settings, profile)
        if not area.is_dir():
            continue
        with cat.session() as s:
            known = {
                r.processing_path
                for r in claims(s, *Stage, profile=profile)
                if r.stage in (Stage.INTENT, Stage.CLAIMED, Stage.RUNNING)
                or (r.stage in (Stage.DONE, Stage.REJECTED) and not r.settled)
            }
        derived = {str(d) for k in known for d in made_from(Path(k))}  # a zipped batch's unpacked copy
        for holder in sorted(area.iterdir()):
            if holder.name == LOCKS or holder.is_symlink() or not holder.is_dir():
                continue
            for entry in sorted(holder.iterdir()):
                if str(entry) in known or str(entry) in derived:
                    continue
                with cat.session() as s:
                    row = ClaimRow(
                        profile=profile,
                        name=entry.name,
                        source_path=str(entry),
                        stage=Stage.CLAIMED,
                        processing_path=str(entry),
                        kind="dir" if entry.is_dir() else "file",
                        detail={"adopted": True},
                    )
                    s.add(row)
                    s.flush()
                    cat.log(s, AGENT, "claim.adopted", entry.name, claim=row.id, path=str(entry))
                adopted += 1
            if not any(holder.iterdir()):
                _rmdir_quietly(holder)
    return adopted
