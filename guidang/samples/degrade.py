"""Make a clean rendered page look scanned: skew, noise, blur, paper tone, borders, JPEG.

Every effect is a field of :class:`Degradation`, so what was done to a page is recorded
exactly (``asdict``) in the batch truth, and the same parameters with the same seed give
the same pixels. Work is done with numpy/OpenCV on whole arrays: a 300 dpi A4 page takes
a fraction of a second.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal, cast

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

Profile = Literal["clean", "scan", "harsh"]
PROFILES: tuple[Profile, ...] = ("clean", "scan", "harsh")
Rotation = Literal[0, 90, 180, 270]

GREY_PAPER = (234, 233, 229)
YELLOW_PAPER = (240, 229, 196)


@dataclass(frozen=True)
class Degradation:
    """Parameters of one simulated scan. The defaults change nothing."""

    skew_deg: float = 0.0  # content turned counter-clockwise (as seen) by this angle, about the centre
    skew_fill: Literal["white", "grey"] = "white"  # what shows in the corners uncovered by the skew
    rotate: Rotation = 0  # sheet placed turned counter-clockwise by 90/180/270 (180 = upside down)
    noise_sigma: float = 0.0  # gaussian sensor noise, grey levels
    blur_sigma: float = 0.0  # gaussian optical blur, pixels
    paper: tuple[int, int, int] | None = None  # paper tone (RGB) multiplied into the page
    border_px: int = 0  # black scanner border width
    border_edges: str = ""  # edges that carry it: any of "t", "b", "l", "r" (after rotation)
    jpeg_quality: int | None = None  # JPEG round trip at this quality (artefacts), none if None
    bleed_through: float = 0.0  # opacity of the mirrored back side showing through (0..1)
    blank: bool = False  # the sheet is blank: page content is dropped before the other effects
    specks: int = 0  # dust specks (small dark dots)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Degradation:
        fields = dict(data)
        if fields.get("paper") is not None:
            fields["paper"] = tuple(fields["paper"])
        return cls(**fields)

    @property
    def is_clean(self) -> bool:
        return self == Degradation()


def degrade(
    image: Image.Image,
    d: Degradation,
    rng: np.random.Generator | int = 0,
    *,
    back: Image.Image | None = None,
) -> Image.Image:
    """Apply ``d`` to ``image`` ("L" or "RGB"); returns a new image of the same mode.

    ``back`` is the back side of the sheet for bleed-through (mirrored); without it the page
    itself is used, which is what a blank back page of a printed sheet shows.
    """
    if image.mode not in ("L", "RGB"):
        raise ValueError(f"degrade expects an L or RGB image, got {image.mode}")
    rng = np.random.default_rng(rng) if isinstance(rng, int) else rng
    src = np.asarray(image)
    out: NDArray[np.uint8] = np.full_like(src, 255) if d.blank else src.copy()
    colour = out.ndim == 3
    if d.bleed_through > 0:
        out = _bleed(out, back if back is not None else image, d.bleed_through)
    if d.paper is not None:
        tone = np.array(d.paper, np.float64) / 255.0
        scalar = (*tone, 0.0) if colour else float(tone @ np.array([0.299, 0.587, 0.114]))
        out = _u8(cv2.multiply(out, cast(Any, scalar)))  # a Scalar; the stubs only know arrays
    if d.specks:
        _specks(out, d.specks, rng)
    if d.skew_deg:
        h, w = out.shape[:2]
        m = cv2.getRotationMatrix2D((w / 2, h / 2), d.skew_deg, 1.0)
        fill = 255 if d.skew_fill == "white" else 128
        border = (fill, fill, fill) if colour else fill
        out = _u8(cv2.warpAffine(out, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=border))
    if d.blur_sigma > 0:
        out = _u8(cv2.GaussianBlur(out, (0, 0), d.blur_sigma))
    if d.noise_sigma > 0:
        # Sensor noise in luminance (the same in R, G and B). OpenCV's generator is ~4x faster
        # than numpy's here; it is seeded from ours each time, so the result depends only on rng.
        cv2.setRNGSeed(int(rng.integers(0, 2**31 - 1)))
        noise = np.empty(out.shape[:2], np.int16)
        cv2.randn(noise, np.zeros(1), np.full(1, float(d.noise_sigma)))
        out = _u8(cv2.add(out, cv2.merge([noise] * 3) if colour else noise, dtype=cv2.CV_8U))
    if d.rotate:
        code = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}
        out = _u8(cv2.rotate(out, code[d.rotate]))
    if d.border_px > 0 and d.border_edges:
        _border(out, d.border_px, d.border_edges, rng)
    if d.jpeg_quality is not None:
        out = _jpeg_round_trip(out, d.jpeg_quality)
    return Image.fromarray(out, mode=image.mode)


def _u8(arr: Any) -> NDArray[np.uint8]:
    return np.asarray(arr, dtype=np.uint8)


def _bleed(out: NDArray[np.uint8], back: Image.Image, opacity: float) -> NDArray[np.uint8]:
    """Multiply in the mirrored, softened back side at ``opacity`` (ink seen through paper)."""
    mirrored = np.asarray(back.convert("RGB" if out.ndim == 3 else "L"))[:, ::-1].astype(np.float32)
    if mirrored.shape != out.shape:
        size = (out.shape[1], out.shape[0])
        mirrored = np.asarray(cv2.resize(mirrored, size, interpolation=cv2.INTER_AREA), np.float32)
    mirrored = np.asarray(cv2.GaussianBlur(mirrored, (0, 0), 2.0), np.float32)
    mixed = out.astype(np.float32) * (1.0 - opacity * (1.0 - mirrored / 255.0))
    return np.clip(mixed, 0, 255).astype(np.uint8)


def _specks(out: NDArray[np.uint8], count: int, rng: np.random.Generator) -> None:
    h, w = out.shape[:2]
    for _ in range(count):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        radius = int(rng.integers(1, max(2, w // 600)))
        level = int(rng.uniform(20, 90))
        colour = (level, level, level) if out.ndim == 3 else level
        cv2.circle(out, (x, y), radius, colour, thickness=-1)


def _border(out: NDArray[np.uint8], px: int, edges: str, rng: np.random.Generator) -> None:
    """A dark scanner-lid border on the given edges, slightly uneven like a real one."""
    level = int(rng.uniform(8, 30))
    h, w = out.shape[:2]
    px = min(px, h // 4, w // 4)
    if "t" in edges:
        out[:px] = level
    if "b" in edges:
        out[h - px :] = level
    if "l" in edges:
        out[:, :px] = level
    if "r" in edges:
        out[:, w - px :] = level


def _jpeg_round_trip(arr: NDArray[np.uint8], quality: int) -> NDArray[np.uint8]:
    bgr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR) if arr.ndim == 3 else arr
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("OpenCV could not encode JPEG")
    flag = cv2.IMREAD_COLOR if arr.ndim == 3 else cv2.IMREAD_GRAYSCALE
    back = cv2.imdecode(buf, flag)
    if back is None:
        raise RuntimeError("OpenCV could not decode its own JPEG")
    result = cv2.cvtColor(back, cv2.COLOR_BGR2RGB) if arr.ndim == 3 else back
    return np.asarray(result, dtype=np.uint8)


def draw_degradation(profile: Profile, rng: np.random.Generator, *, dpi: int = 300) -> Degradation:
    """Random parameters for one page under a profile.

    "clean": nothing. "scan": what a decent vendor delivers (skew up to 1.5°, light noise and
    blur, grey paper, now and then a black border): Tesseract reads it. "harsh": skew 1.5–3°,
    heavy noise and blur, yellowed paper, borders, JPEG artefacts, some bleed-through.
    """
    scale = dpi / 300.0
    if profile == "clean":
        return Degradation()
    sign = 1.0 if rng.random() < 0.5 else -1.0
    edges = "".join(e for e in "tblr" if rng.random() < 0.5) or "r"
    if profile == "scan":
        grey = int(rng.integers(226, 242))
        border = rng.random() < 0.3
        return Degradation(
            skew_deg=round(sign * float(rng.uniform(0.2, 1.5)), 2),
            noise_sigma=round(float(rng.uniform(2.0, 5.0)), 2),
            blur_sigma=round(float(rng.uniform(0.5, 0.9)) * scale, 2),
            paper=(grey, grey, max(grey - 4, 0)),
            border_px=round(float(rng.uniform(20, 60)) * scale) if border else 0,
            border_edges=edges if border else "",
            specks=int(rng.integers(0, 6)),
        )
    if profile == "harsh":
        border = rng.random() < 0.7
        return Degradation(
            skew_deg=round(sign * float(rng.uniform(1.5, 3.0)), 2),
            skew_fill="grey" if rng.random() < 0.5 else "white",
            noise_sigma=round(float(rng.uniform(6.0, 12.0)), 2),
            blur_sigma=round(float(rng.uniform(1.0, 1.6)) * scale, 2),
            paper=YELLOW_PAPER,
            border_px=round(float(rng.uniform(40, 120)) * scale) if border else 0,
            border_edges=edges if border else "",
            jpeg_quality=int(rng.integers(35, 60)),
            bleed_through=round(float(rng.uniform(0.08, 0.18)), 3) if rng.random() < 0.3 else 0.0,
            specks=int(rng.integers(5, 30)),
        )
    raise ValueError(f"unknown degradation profile {profile!r} (choose from {', '.join(PROFILES)})")
