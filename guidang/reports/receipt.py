"""The vendor's receipt (回执) per batch: JSON for machines, HTML for people, Chinese first."""

from __future__ import annotations

import json
import os
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from guidang.pipeline.outcome import BatchOutcome

_ENV = Environment(loader=PackageLoader("guidang.reports", "templates"), autoescape=select_autoescape())

STATUS_ZH = {"accepted": "接收", "rejected": "退回", "done": "处理完毕", "failed": "无法处理", "duplicate": "重复提交"}


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    tmp.replace(path)


def receipt_dir(outbox_root: Path, vendor_folder: str, outcome: BatchOutcome) -> Path:
    suffix = f"-{outcome.delivery}" if outcome.delivery > 1 else ""
    return outbox_root / vendor_folder / f"{outcome.name}{suffix}"


def write_receipt(folder: Path, outcome: BatchOutcome) -> tuple[Path, Path]:
    """Write receipt.json and receipt.html into ``folder``; each file appears whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    data = outcome.as_dict()
    json_path, html_path = folder / "receipt.json", folder / "receipt.html"
    data["receipt"] = [str(json_path), str(html_path)]
    _atomic_write(json_path, json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8"))
    html = _ENV.get_template("receipt.html.j2").render(r=data, zh=STATUS_ZH)
    _atomic_write(html_path, html.encode("utf-8"))
    return json_path, html_path
