"""DA/T 46 数字化属性 (M52-M56) of an item, filled from what was measured.

The values come from the pixels and the verified header, not from the vendor's claims:
the resolution is the header's only where it fits the pixel size of a known paper (else
the one the pixel size implies), and the colour mode is the one the pixels use (an RGB file
whose three channels are identical was a grey scan: 灰度).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from guidang.ingest.scanqa.inspect import PageMeasurement

COLOUR_MODE_ZH = {"bitonal": "黑白二值", "grey": "灰度", "colour": "彩色"}
UNKNOWN = "不详"


@dataclass(frozen=True)
class DigitisationMetadata:
    """M53 数字化对象形态, M54 扫描分辨率, M55 扫描色彩模式, M56 图像压缩方案."""

    form: str  # M53, e.g. "A4" (several: "A4、A3", most pages first)
    resolution: str  # M54, e.g. "300dpi"
    colour_mode: str  # M55: 黑白二值 / 灰度 / 彩色 (several joined with "、")
    compression: str  # M56, e.g. "LZW", "JPEG", "CCITT Group 4"

    def as_elements(self) -> dict[str, str]:
        """Keyed by the DA/T 46 element names."""
        return {
            "数字化对象形态": self.form,
            "扫描分辨率": self.resolution,
            "扫描色彩模式": self.colour_mode,
            "图像压缩方案": self.compression,
        }


def _join(values: Iterable[str]) -> str:
    counts = Counter(values)
    return "、".join(v for v, _ in counts.most_common()) or UNKNOWN


def digitisation_metadata(pages: Sequence[PageMeasurement]) -> DigitisationMetadata:
    """M52 数字化属性 of an item from its page measurements (unreadable pages are skipped)."""
    good = [p for p in pages if p.readable and p.header is not None]
    forms = [p.paper.paper or p.paper.inferred_paper for p in good if p.paper]
    dpis = [f"{p.dpi:g}dpi" for p in good if p.dpi]
    modes = [COLOUR_MODE_ZH[p.effective_mode or "grey"] for p in good]
    compressions = [p.header.compression for p in good if p.header]
    return DigitisationMetadata(
        form=_join(f for f in forms if f),
        resolution=_join(dpis),
        colour_mode=_join(modes),
        compression=_join(compressions),
    )
