"""The vendor's receipt (回执) per batch: JSON for machines, HTML for people, text for the terminal; Chinese first."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from guidang import names
from guidang.fsutil import replace_file
from guidang.pipeline.outcome import BatchOutcome
from guidang.reports.registry import render, render_template, renderer
from guidang.storage.catalogue import Catalogue, ReceiptRow

KIND = "receipt"
STATUS_ZH = {"accepted": "接收", "rejected": "退回", "done": "处理完毕", "failed": "无法处理", "duplicate": "重复提交"}
# an item's "duplicate" is not a batch's: the item was archived before (same 档号, same content)
ITEM_STATUS_ZH = {**STATUS_ZH, "duplicate": "已归档，未重复归档"}


def receipt_dir(outbox_root: Path, vendor_folder: str, outcome: BatchOutcome) -> Path:
    """The batch's folder in the outbox; the batch name is outside input (see :mod:`guidang.names`)."""
    return names.child(outbox_root, vendor_folder, names.batch_folder(outcome.name, outcome.delivery))


@renderer(KIND, "json")
def receipt_json(outcome: BatchOutcome, /, version: ReceiptVersion | None = None, **_: object) -> str:
    data = outcome.as_dict()
    if version is not None:
        data["version"] = version.as_dict()
    return json.dumps(data, ensure_ascii=False, indent=2)


@renderer(KIND, "html")
def receipt_html(outcome: BatchOutcome, /, version: ReceiptVersion | None = None, **_: object) -> str:
    return render_template("receipt.html.j2", r=outcome.as_dict(), zh=STATUS_ZH, item_zh=ITEM_STATUS_ZH,
                           version=version.as_dict() if version else None)


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


VERSIONS = "versions"  # earlier and current versions, beside the receipt: receipt.v1.json, receipt.v1.html, …


@dataclass(frozen=True)
class ReceiptVersion:
    """Which version of a batch's receipt this is, what changed since the one before, and why."""

    version: int
    previous_sha256: str | None = None  # of the JSON of the version before
    changes: tuple[dict[str, object], ...] = ()
    reason: str = ""
    agent: str = "guidang"

    def as_dict(self) -> dict[str, object]:
        return {"version": self.version, "previous_sha256": self.previous_sha256, "changes": list(self.changes),
                "reason": self.reason, "agent": self.agent}


def _verdicts(receipt: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each item of a receipt by its 档号 (a row without one by its row number)."""
    items = receipt.get("items") or []
    return {str(i.get("id") or f"row {i.get('row')}"): i for i in items if isinstance(i, dict)}


def _changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, object], ...]:
    old, new = _verdicts(before), _verdicts(after)
    out: list[dict[str, object]] = []
    for key in [*new, *(k for k in old if k not in new)]:
        a, b = old.get(key, {}), new.get(key, {})
        if (a.get("status"), a.get("failed_checks")) != (b.get("status"), b.get("failed_checks")):
            out.append({"id": key, "from": a.get("status"), "to": b.get("status"),
                        "failed_before": a.get("failed_checks") or [], "failed_now": b.get("failed_checks") or []})
    return tuple(out)


def _last_version(folder: Path) -> int:
    found = [int(m.group(1)) for p in (folder / VERSIONS).glob("receipt.v*.json")
             if (m := re.fullmatch(r"receipt\.v(\d+)\.json", p.name))]
    return max(found, default=0)


def write_receipt(folder: Path, outcome: BatchOutcome, *, catalogue: Catalogue | None = None, reason: str = "",
                  agent: str = "guidang") -> tuple[Path, Path]:
    """Write receipt.json and receipt.html into ``folder``; each file appears whole or not at all.

    Every call is a new version when the receipt differs from the last: the earlier versions are kept in
    ``versions/`` (``receipt.vN.json``, ``receipt.vN.html``), the new one says what changed since the
    one before (items whose verdict or failed checks changed) and why (``reason``: an archivist's
    return or override), and with ``catalogue`` the SHA-256 of both files is recorded there (table
    ``receipts``). receipt.json and receipt.html are always the newest version."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / VERSIONS).mkdir(exist_ok=True)
    json_path, html_path = folder / "receipt.json", folder / "receipt.html"
    outcome = replace(outcome, receipt_paths=(str(json_path), str(html_path)))  # the receipt names itself
    last = _last_version(folder)
    previous: dict[str, Any] | None = None
    previous_bytes = b""
    if last:
        previous_bytes = (folder / VERSIONS / f"receipt.v{last}.json").read_bytes()
        previous = json.loads(previous_bytes)
    version = ReceiptVersion(last + 1, hashlib.sha256(previous_bytes).hexdigest() if previous else None,
                             _changes(previous, outcome.as_dict()) if previous else (), reason, agent)
    json_bytes = render(KIND, "json", outcome, version=version).encode("utf-8")
    if previous is not None and not version.changes and _same_but_version(previous, json.loads(json_bytes)):
        return json_path, html_path  # the same receipt again (a batch run twice): no new version
    html_bytes = render(KIND, "html", outcome, version=version).encode("utf-8")
    replace_file(folder / VERSIONS / f"receipt.v{version.version}.html", html_bytes)
    replace_file(folder / VERSIONS / f"receipt.v{version.version}.json", json_bytes)  # last: it marks the version
    replace_file(json_path, json_bytes)
    replace_file(html_path, html_bytes)
    if catalogue is not None:
        with catalogue.session() as s:
            s.add(ReceiptRow(batch_id=outcome.batch_id, version=version.version,
                             json_sha256=hashlib.sha256(json_bytes).hexdigest(),
                             html_sha256=hashlib.sha256(html_bytes).hexdigest(), json_path=str(json_path),
                             html_path=str(html_path), reason=reason, agent=agent, changes=list(version.changes)))
            catalogue.log(s, agent, "receipt.written", outcome.name, batch_id=outcome.batch_id,
                          version=version.version, sha256=hashlib.sha256(json_bytes).hexdigest())
    return json_path, html_path


def _same_but_version(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two receipts equal but for their version block and their times."""
    def strip(r: dict[str, Any]) -> dict[str, Any]:
        batch = {k: v for k, v in (r.get("batch") or {}).items() if k not in ("received_at", "finished_at")}
        return {**{k: v for k, v in r.items() if k != "version"}, "batch": batch}

    return strip(a) == strip(b)
