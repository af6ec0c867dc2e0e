"""``guidang watch`` and ``guidang status``: the hot-folder service and what it is doing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from sqlalchemy import desc, func, or_, select
from sqlalchemy.orm import Session

from guidang.cli.app import settings
from guidang.cli.errors import handle_errors
from guidang.models import BatchStatus
from guidang.storage.catalogue import BatchRow, ItemRow, read_from


@click.command("watch")
@click.option("--once", is_flag=True, help="处理当前就绪的批次后退出 / take what is ready now, process it, exit")
@click.option("--workers", type=click.IntRange(min=1), help="并行批次数 / batches at once (default: cores)")
@handle_errors
def watch_command(once: bool, workers: int | None) -> None:
    """监视收件箱并处理就绪批次 / watch every inbox and process the batches that are ready."""
    from guidang.hotfolders.service import Watcher

    s = settings()
    if workers is not None:
        s = s.model_copy(update={"watch": s.watch.model_copy(update={"workers": workers})})
    Watcher(s, once=once).run()


def _progress(ses: Session, claim_folder: str) -> dict[str, int] | None:
    """Items of the batch a running claim is ingesting, by status (None before intake is done)."""
    batch = ses.scalars(select(BatchRow).where(read_from(claim_folder)).order_by(desc(BatchRow.id))).first()
    if batch is None:
        return None
    by_status = select(ItemRow.status, func.count()).where(ItemRow.batch_id == batch.id).group_by(ItemRow.status)
    counts = {status: n for status, n in ses.execute(by_status)}
    return {"batch": batch.id, "items": sum(counts.values()), **counts}


def status_data(limit: int = 20) -> dict[str, Any]:
    """Inboxes, claims in flight with their stage, and recent failures, from the catalogue DB."""
    from guidang.hotfolders.service import inboxes
    from guidang.hotfolders.state import IN_FLIGHT, ClaimRow, Stage, claims, open_catalogue

    s = settings()
    cat = open_catalogue(s.db_url)
    with cat.session() as ses:
        flight = claims(ses, *IN_FLIGHT)
        running = [c for c in flight if c.stage == Stage.RUNNING]
        progress = {c.id: _progress(ses, str(Path(c.processing_path).parent)) for c in running}
        failed_claims = list(
            ses.scalars(
                select(ClaimRow)
                .where(or_(ClaimRow.stage == str(Stage.REJECTED), ClaimRow.last_error.is_not(None)))
                .order_by(desc(ClaimRow.updated_at))
                .limit(limit)
            )
        )
        failed_batches = list(
            ses.scalars(
                select(BatchRow)
                .where(
                    or_(
                        BatchRow.status == str(BatchStatus.FAILED),
                        BatchRow.summary["rejected"].as_integer() > 0,
                    )
                )
                .order_by(desc(BatchRow.id))
                .limit(limit)
            )
        )
    return {
        "inboxes": [
            {
                "profile": i.profile,
                "path": str(i.path),
                "mode": i.mode,
                "fs_type": i.fs_type,
                "observer": "polling" if i.polling else "native",
                "waiting_entries": sum(1 for p in i.path.iterdir() if not p.name.startswith("."))
                if i.path.is_dir()
                else 0,
            }
            for i in inboxes(s)
        ],
        "in_flight": [
            {
                "claim": c.id,
                "profile": c.profile,
                "name": c.name,
                "stage": c.stage,
                "attempts": c.attempts,
                "worker": c.worker,
                "since": c.updated_at.isoformat(),
                "last_error": c.last_error,
                "progress": progress.get(c.id),
            }
            for c in flight
        ],
        "recent_failures": [
            {
                "claim": c.id,
                "profile": c.profile,
                "name": c.name,
                "stage": c.stage,
                "reason": c.reason,
                "message_zh": c.detail.get("message_zh"),
                "message_en": c.detail.get("message_en"),
                "last_error": c.last_error,
                "at": c.updated_at.isoformat(),
                "where": c.final_path,
            }
            for c in failed_claims
        ],
        "recent_batch_failures": [
            {
                "batch": b.id,
                "profile": b.profile,
                "name": b.name,
                "delivery": b.delivery,
                "status": b.status,
                "summary": b.summary,
                "receipt": b.receipt_path,
            }
            for b in failed_batches
        ],
    }


def _items(progress: dict[str, int] | None) -> str:
    if not progress:
        return ""
    decided = progress.get("accepted", 0) + progress.get("rejected", 0)
    return f"  件 items {decided}/{progress['items']} decided"


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON / print one JSON object")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@handle_errors
def status_command(as_json: bool, limit: int) -> None:
    """收件箱、处理中的批次与近期失败 / inboxes, batches in flight and recent failures."""
    data = status_data(limit)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo("收件箱 inboxes:")
    for i in data["inboxes"]:
        click.echo(
            f"  {i['profile']:<12} {i['path']}  [{i['mode']}, {i['observer']}, {i['fs_type']}]"
            f"  待取 waiting: {i['waiting_entries']}"
        )
    click.echo("处理中 in flight:" + ("" if data["in_flight"] else " —"))
    for c in data["in_flight"]:
        err = f"  ({c['last_error']})" if c["last_error"] else ""
        click.echo(
            f"  #{c['claim']:<5} {c['profile']}/{c['name']}  {c['stage']}  attempt {c['attempts']}"
            f"  {c['worker'] or ''}  since {c['since']}{_items(c['progress'])}{err}"
        )
    click.echo("近期失败 recent failures:" + ("" if data["recent_failures"] or data["recent_batch_failures"] else " —"))
    for c in data["recent_failures"]:
        msg = c["message_zh"] or c["last_error"] or ""
        click.echo(f"  #{c['claim']:<5} {c['profile']}/{c['name']}  {c['stage']}  {c['reason'] or ''}  {msg}")
    for b in data["recent_batch_failures"]:
        click.echo(
            f"  batch {b['batch']} {b['profile']}/{b['name']} (delivery {b['delivery']})  {b['status']}"
            f"  {b['summary']}  {b['receipt'] or ''}"
        )
