"""Evidence drawn on the page (the item viewer): where a check's finding has a place on the page image.

Shapes are in the rendering's pixels (the SVG drawn over it): a border as the band it covers, a skew as the
slanted line of the page's text, a blank page as a tint, a duplicate with the page it repeats.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from guidang.storage.catalogue import CheckResultRow

SIDE = {"左": "left", "上": "top", "右": "right", "下": "bottom"}
BORDER = re.compile(r"([左上右下])/\w+\s+([\d.]+)mm")
ANGLE = re.compile(r"(-?[\d.]+)°")
TWIN = re.compile(r"with (.+)$")


@dataclass(frozen=True)
class Shape:
    kind: str  # band | line | tint | note
    check_id: str
    status: str
    label: str
    x: float = 0.0
    y: float = 0.0
    w: float = 0.0
    h: float = 0.0
    x2: float = 0.0
    y2: float = 0.0


def _evidence_of(row: CheckResultRow, page: int) -> list[dict[str, Any]]:
    return [e for e in row.evidence if isinstance(e, dict) and e.get("page") == page]


def shapes(results: list[CheckResultRow], page: int, width: int, height: int, scale: float,
           dpi: float | None) -> list[Shape]:
    """What to draw on page ``page`` rendered at ``width`` × ``height`` (``scale`` rendering px per master
    px; ``dpi`` of the master, for millimetres)."""
    out: list[Shape] = []
    px_per_mm = (dpi / 25.4) * scale if dpi else None
    for r in results:
        if r.status not in ("fail", "warn"):
            continue
        for e in _evidence_of(r, page):
            found = str(e.get("found", ""))
            if r.check_id == "SCAN-BORDER" and px_per_mm:
                for side, mm in BORDER.findall(found):
                    band = float(mm) * px_per_mm
                    where = SIDE[side]
                    x, y, w, h = {"left": (0, 0, band, height), "right": (width - band, 0, band, height),
                                  "top": (0, 0, width, band), "bottom": (0, height - band, width, band)}[where]
                    out.append(Shape("band", r.check_id, r.status, f"{r.check_id} {side} {mm} mm", x, y, w, h))
            elif r.check_id == "SCAN-SKEW" and (m := ANGLE.search(found)):
                angle = math.radians(float(m.group(1)))
                cy, dy = height / 2, math.tan(angle) * width / 2
                out.append(Shape("line", r.check_id, r.status, f"{r.check_id} {m.group(1)}°", 0, cy + dy, 0, 0,
                                 width, cy - dy))
            elif r.check_id == "SCAN-BLANK":
                out.append(Shape("tint", r.check_id, r.status, f"{r.check_id} {found}", 0, 0, width, height))
            elif r.check_id == "SCAN-DUP":
                twin = TWIN.search(found)
                label = f"{r.check_id} = {twin.group(1) if twin else found}"
                out.append(Shape("note", r.check_id, r.status, label, 0, 0, width, height))
    return out


def twin_of(results: list[CheckResultRow], page: int, page_names: list[str]) -> int | None:
    """The page of this item that page ``page`` repeats (SCAN-DUP names the twin's file), if any."""
    for r in results:
        if r.check_id == "SCAN-DUP" and r.status in ("fail", "warn"):
            for e in _evidence_of(r, page):
                m = TWIN.search(str(e.get("found", "")))
                if m and m.group(1) in page_names:
                    return page_names.index(m.group(1)) + 1
    return None
