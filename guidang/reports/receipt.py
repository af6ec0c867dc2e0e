"""The vendor's receipt (回执) per batch: JSON for machines, HTML for people, text for the terminal; Chinese first."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from guidang import names
from guidang.fsutil import replace_file
from guidang.pipeline.outcome import BatchOutcome
from guidang.reports.registry import render, render_template, renderer

KIND = "receipt"
STATUS_ZH = {"accepted": "接收", "rejected": "退回", "done": "处理完毕", "failed": "无法处理", "duplicate": "重复提交"}
# an item's "duplicate" is not a batch's: the item was archived before (same 档号, same content)
ITEM_STATUS_ZH = {**STATUS_ZH, "duplicate": "已归档，未重复归档"}


def receipt_dir(outbox_root: Path, vendor_folder: str, outcome: BatchOutcome) -> Path:
    """The batch's folder in the outbox; the batch name is outside input (see :mod:`guidang.names`)."""
    return names.child(outbox_root, vendor_folder, names.batch_folder(outcome.name, outcome.delivery))


@renderer(KIND, "json")
def receipt_json(outcome: BatchOutcome, /, **_: object) -> str:
    return json.dumps(outcome.as_dict(), ensure_ascii=False, indent=2)


@renderer(KIND, "html")
def receipt_html(outcome: BatchOutcome, /, **_: object) -> str:
    return render_template("receipt.html.j2", r=outcome.as_dict(), zh=STATUS_ZH, item_zh=ITEM_STATUS_ZH)


@renderer(KIND, "text")
def receipt_text(outcome: BatchOutcome, /, **_: object) -> str:
    """A short summary of the batch for the terminal (``guidang run``)."""
    s = outcome.summary
    lines = [
        f"批次 {outcome.name}：{STATUS_ZH.get(outcome.status, outcome.status)}，"
        f"{s['items']} 件（接收 {s['accepted']}，退回 {s['rejected']}，已归档未重复 {s['duplicate']}），{s['pages']} 页"
        f" / batch {outcome.name}: {outcome.status}, {s['items']} items"
        f" ({s['accepted']} accepted, {s['rejected']} rejected, {s['duplicate']} archived before), {s['pages']} pages"
    ]
    for item in outcome.items:
        mark = "✔" if item.object_id else "✘"
        where = item.object_id or item.rejected_path or ""
        failed = f" [{', '.join(item.failed_checks)}]" if item.failed_checks else ""
        name = item.code or f"（第 {item.row} 行，无档号 / row {item.row}, no 档号）"
        lines.append(f"  {mark} {name} {ITEM_STATUS_ZH.get(str(item.status), item.status)}{failed} {where}")
    lines += [f"  回执 receipt: {path}" for path in outcome.receipt_paths]
    return "\n".join(lines) + "\n"


def write_receipt(folder: Path, outcome: BatchOutcome) -> tuple[Path, Path]:
    """Write receipt.json and receipt.html into ``folder``; each file appears whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    json_path, html_path = folder / "receipt.json", folder / "receipt.html"
    outcome = replace(outcome, receipt_paths=(str(json_path), str(html_path)))  # the receipt names itself
    replace_file(json_path, render(KIND, "json", outcome).encode("utf-8"))
    replace_file(html_path, render(KIND, "html", outcome).encode("utf-8"))
    return json_path, html_path
