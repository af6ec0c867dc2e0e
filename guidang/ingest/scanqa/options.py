"""Per-profile thresholds of the scan QA (DA/T 31-2017), as one pydantic model.

Defaults follow DA/T 31-2017 where it gives a number (>= 200 dpi, one storage format per
batch, TIFF/JPEG/JPEG 2000), common local acceptance rules where it does not (skew <= 3°),
and measurements where neither does (docs/scanqa.md lists each default with its source).
A defect guidang corrects without loss on the derivative (skew within the limit, a wrong
orientation, a black border over the margin) is a warning by default; ``strict`` applies
DA/T 31's letter and refuses it. Every threshold a check compares against lives here, so a
profile can tighten or relax it in ``guidang.toml`` under ``[profiles.<name>.scan_qa]``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

#: Paper sizes in millimetres (portrait); 数字化对象形态 is the name of the best match.
DEFAULT_PAPER_SIZES: dict[str, tuple[float, float]] = {
    "A3": (297.0, 420.0),
    "A4": (210.0, 297.0),
    "A5": (148.0, 210.0),
    "B4": (250.0, 353.0),
    "B5": (176.0, 250.0),
    "16开": (184.0, 260.0),
    "8开": (260.0, 368.0),
    "Letter": (215.9, 279.4),
    "Legal": (215.9, 355.6),
}

Verdict = Literal["warn", "fail"]


class ScanQAOptions(BaseModel):
    """Thresholds of the scan checks (SCAN-*) and of image preparation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # resolution (DA/T 31 9.4) and its plausibility against the page size
    min_dpi: int = Field(default=200, ge=1, description="below this: SCAN-DPI fails")
    recommended_dpi: int = Field(default=300, ge=1, description="small text (see small_text_mm) below this: warn")
    small_text_mm: float = Field(default=2.5, gt=0, description="median character height under which text is 'small'")
    paper_sizes: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_PAPER_SIZES))
    paper_tolerance: float = Field(
        default=0.08, gt=0, lt=1, description="relative size difference still matching a paper"
    )
    # colour mode (DA/T 31 9.3)
    colour_policy: Literal["any", "colour_preferred", "colour_required"] = "any"
    colour_min_fraction: float = Field(default=0.0005, ge=0, description="colour pixels below this share: grey content")
    colour_min_chroma: float = Field(
        default=28.0, gt=0, description="Lab chroma distance from the paper tint that is colour"
    )
    red_min_fraction: float = Field(default=0.0003, ge=0, description="red pixels above this share: red header/seal")
    strict: bool = Field(
        default=False,
        description="DA/T 31's letter: the vendor deskews, turns, crops and delivers one format per batch; "
        "what guidang would correct fails instead of warning",
    )
    # geometry
    max_skew_deg: float = Field(
        default=3.0, ge=0, description="larger measured skew: SCAN-SKEW fails (beyond what deskewing should mend)"
    )
    warn_skew_deg: float = Field(
        default=1.0, ge=0, description="larger measured skew: SCAN-SKEW warns that it was deskewed (strict: fails)"
    )
    skew_search_deg: float = Field(default=15.0, gt=0, le=45, description="skew angles searched: +- this")
    osd: Literal["never", "uncertain", "always"] = Field(
        default="uncertain",
        description="when Tesseract OSD decides the rotation: never, when heuristics are unsure, always",
    )
    osd_characters: int = Field(
        default=20, ge=5, le=250, description="characters Tesseract OSD classifies (its cost grows with it)"
    )
    osd_min_confidence: float = Field(
        default=2.0, ge=0, description="OSD orientation confidence needed to report rotation"
    )
    max_border_mm: float = Field(
        default=3.0, ge=0, description="wider black scanner border: SCAN-BORDER warns it was cropped (strict: fails)"
    )
    border_content_max: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="share of the lines across a border with ink next to it above which the border covers "
        "content: SCAN-BORDER fails",
    )
    border_threshold: int = Field(
        default=70, ge=0, le=255, description="grey level under which an edge band is 'black'"
    )
    # blank pages, with bleed-through tolerance
    blank_max_ink: float = Field(default=0.0002, ge=0, description="ink share of the page below which it is blank")
    ink_contrast: float = Field(
        default=0.4,
        gt=0,
        lt=1,
        description="ink is darker than the paper by at least this share (bleed-through is not)",
    )
    blank_status: Verdict = "warn"
    # duplicates (重扫)
    duplicate_max_distance: int = Field(default=8, ge=0, le=64, description="perceptual hash bits that may differ")
    duplicate_min_correlation: float = Field(default=0.9, gt=0, le=1, description="thumbnail correlation of duplicates")
    cross_item_duplicate_status: Verdict = "warn"
    # files
    allowed_formats: tuple[str, ...] = ("TIFF", "JPEG", "JPEG2000")
    allowed_pixel_modes: tuple[str, ...] = ("1", "L", "RGB")
    allowed_compressions: tuple[str, ...] = (
        "无压缩",
        "LZW",
        "Deflate",
        "PackBits",
        "CCITT Group 4",
        "CCITT Group 3",
        "JPEG",
        "JPEG 2000",
    )
    min_jpeg_quality: int = Field(
        default=75, ge=1, le=100, description="estimated JPEG quality below this: SCAN-DEPTH fails"
    )
    page_name_pattern: str = Field(
        default=r"^(?P<code>.+?)[-_](?P<seq>\d{3,5})$",
        description="regex on the file stem with groups 'code' (档号) and 'seq' (page sequence)",
    )
    count_blank_pages: bool = Field(
        default=False,
        description="页数 counts blank pages too; if False a count matching the non-blank pages passes",
    )
    # decoding
    max_pixels: int = Field(
        default=150_000_000,
        ge=1,
        le=178_956_970,  # Pillow refuses more than 2 x Image.MAX_IMAGE_PIXELS itself
        description="decompression-bomb guard, checked on the header before decoding (600 dpi A2 fits)",
    )
    max_file_bytes: int = Field(default=2_000_000_000, ge=1)
    max_pages_per_file: int = Field(
        default=1000,
        ge=1,
        description="pages of one multi-page file beyond which SCAN-READ fails and none is measured",
    )
    work_long_side: int = Field(default=1700, ge=400, description="long side in pixels of the working image")
