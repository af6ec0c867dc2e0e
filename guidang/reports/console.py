"""A short human summary of a batch outcome on the terminal (Chinese, with English)."""

from __future__ import annotations

import click

from guidang.pipeline.outcome import BatchOutcome
from guidang.reports.receipt import ITEM_STATUS_ZH, STATUS_ZH


def print_outcome(outcome: BatchOutcome) -> None:
    s = outcome.summary
    click.echo(
        f"批次 {outcome.name}：{STATUS_ZH.get(outcome.status, outcome.status)}，"
        f"{s['items']} 件（接收 {s['accepted']}，退回 {s['rejected']}，已归档未重复 {s['duplicate']}），{s['pages']} 页"
        f" / batch {outcome.name}: {outcome.status}, {s['items']} items"
        f" ({s['accepted']} accepted, {s['rejected']} rejected, {s['duplicate']} archived before), {s['pages']} pages"
    )
    for item in outcome.items:
        mark = "✔" if item.object_id else "✘"
        where = item.object_id or item.rejected_path or ""
        failed = f" [{', '.join(item.failed_checks)}]" if item.failed_checks else ""
        name = item.code or f"（第 {item.row} 行，无档号 / row {item.row}, no 档号）"
        click.echo(f"  {mark} {name} {ITEM_STATUS_ZH.get(str(item.status), item.status)}{failed} {where}")
    for path in outcome.receipt_paths:
        click.echo(f"  回执 receipt: {path}")
