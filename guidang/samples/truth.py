"""Ground truth of a generated batch: what every page shows and what was done to it.

Frozen dataclasses that round-trip through JSON (``BatchTruth.to_json`` / ``from_json``).
The truth is written outside the batch folder: it is the answer key, not part of the drop.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from guidang.samples.degrade import Degradation
from guidang.samples.texts import ServiceCase


@dataclass(frozen=True)
class PageTruth:
    file: str  # path relative to the batch folder, POSIX form
    sequence: int  # page number within the item, from 1
    lines: tuple[str, ...]  # text visible on the page in reading order; () for a blank page
    seal_text: str | None  # text of a seal on the page (not expected from OCR)
    mode: str  # Pillow mode written: "RGB", "L" or "1"
    image_format: str  # "tiff" or "jpeg"
    width: int
    height: int
    dpi: int
    degradation: Degradation
    # per line, (char, left, top, right, bottom) of every character with ink, in pixels of the page as
    # drawn, before degradation (a skew, a border or a turn moves them; an undegraded page keeps them)
    char_boxes: tuple[tuple[tuple[str, int, int, int, int], ...], ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def blank(self) -> bool:
        return self.degradation.blank


@dataclass(frozen=True)
class ItemTruth:
    archival_code: str  # 档号
    folder: str  # item folder relative to the batch folder
    title: str  # 题名
    doc_number: str  # 文号
    creator: str  # 责任者
    date: str  # 日期, YYYYMMDD
    retention: str  # 保管期限 as written in the catalogue (永久, 30年, 10年)
    script: str  # "hans" or "hant"
    kind: str  # notice, approval, minutes, service
    catalogue_row: dict[str, str]  # the catalogue row as written (Chinese header -> value)
    pages: tuple[PageTruth, ...]
    service: ServiceCase | None = None

    @property
    def text(self) -> str:
        return "\n".join(p.text for p in self.pages if p.lines)


@dataclass(frozen=True)
class BatchTruth:
    batch_id: str
    path: str  # absolute path of the batch folder
    catalogue: str  # catalogue file name inside the batch
    encoding: str  # catalogue encoding (CSV) or "xlsx"
    image_format: str  # "tiff", "jpeg" or "mixed"
    dpi: int
    profile: str  # degradation profile used to draw page parameters
    seed: int
    manifest: str | None  # manifest file name, if written
    ready: bool  # READY marker written
    items: tuple[ItemTruth, ...]

    @property
    def batch_dir(self) -> Path:
        return Path(self.path)

    @property
    def page_count(self) -> int:
        return sum(len(i.pages) for i in self.items)

    def pages(self) -> list[PageTruth]:
        return [p for i in self.items for p in i.pages]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1)

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchTruth:
        items = []
        for it in data["items"]:
            pages = tuple(
                PageTruth(
                    **{
                        **p,
                        "lines": tuple(p["lines"]),
                        "char_boxes": tuple(tuple((str(c[0]), int(c[1]), int(c[2]), int(c[3]), int(c[4])) for c in line)
                                            for line in p.get("char_boxes", ())),
                        "degradation": Degradation.from_dict(p["degradation"]),
                    }
                )
                for p in it["pages"]
            )
            service = ServiceCase(**it["service"]) if it.get("service") else None
            items.append(ItemTruth(**{**it, "pages": pages, "service": service}))
        return cls(**{**data, "items": tuple(items)})

    @classmethod
    def from_json(cls, text: str) -> BatchTruth:
        return cls.from_dict(json.loads(text))

    @classmethod
    def load(cls, path: Path) -> BatchTruth:
        return cls.from_json(path.read_text(encoding="utf-8"))
