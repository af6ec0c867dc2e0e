"""The vendor's receipt (回执) per batch: JSON for machines, HTML for people, Chinese first."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, PackageLoader

from guidang import names
from guidang.fsutil import replace_file
from guidang.pipeline.outcome import BatchOutcome

# every template here is HTML: escape always (select_autoescape() does not know the .html.j2 ending)
_ENV = Environment(loader=PackageLoader("guidang.reports", "templates"), autoescape=True)

STATUS_ZH = {"accepted": "接收", "rejected": "退回", "done": "处理完毕", "failed": "无法处理", "duplicate": "重复提交"}
# an item's "duplicate" is not a batch's: the item was archived before (same 档号, same content)
ITEM_STATUS_ZH = {**STATUS_ZH, "duplicate": "已归档，未重复归档"}




def receipt_dir(outbox_root: Path, vendor_folder: str, outcome: BatchOutcome) -> Path:
    """The batch's folder in the outbox; the batch name is outside input (see :mod:`guidang.names`)."""
    return names.child(outbox_root, vendor_folder, names.batch_folder(outcome.name, outcome.delivery))


def write_receipt(folder: Path, outcome: BatchOutcome) -> tuple[Path, Path]:
    """Write receipt.json and receipt.html into ``folder``; each file appears whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    data = outcome.as_dict()
    json_path, html_path = folder / "receipt.json", folder / "receipt.html"
    data["receipt"] = [str(json_path), str(html_path)]
    replace_file(json_path, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))
    html = _ENV.get_template("receipt.html.j2").render(r=data, zh=STATUS_ZH, item_zh=ITEM_STATUS_ZH)
    replace_file(html_path, html.encode("utf-8"))
    return json_path, html_path
