"""Scan degradations are deterministic by seed and do measurably what their parameters say."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from guidang.samples.degrade import Degradation, degrade, draw_degradation
from guidang.samples.render import RenderOptions, render_document
from guidang.samples.texts import compose_document

OPTS = RenderOptions(dpi=100, red_header=False, seal=False, colour=False, page_numbers=False)


@pytest.fixture(scope="module")
def page() -> Image.Image:
    doc = compose_document(np.random.default_rng(11), kind="notice", script="hans")
    return render_document(doc, 1, OPTS)[0].image


def estimate_skew(image: Image.Image) -> float:
    """Angle (degrees, counter-clockwise) that the text lines are turned by: the rotation
    that makes the row profile of the ink sharpest, undone (coarse search, then fine)."""
    ink = (np.asarray(image.convert("L")) < 128).astype(np.float32)
    h, w = ink.shape

    def score(angle: float) -> float:
        m = cv2.getRotationMatrix2D((w / 2, h / 2), -angle, 1.0)
        return float(np.var(cv2.warpAffine(ink, m, (w, h)).sum(axis=1)))

    coarse = max(np.arange(-4.0, 4.001, 0.25), key=lambda a: score(float(a)))
    return float(max(np.arange(coarse - 0.25, coarse + 0.251, 0.05), key=lambda a: score(float(a))))


def _arr(image: Image.Image) -> NDArray[np.float64]:
    return np.asarray(image).astype(np.float64)


def test_defaults_change_nothing(page: Image.Image) -> None:
    assert Degradation().is_clean
    assert np.array_equal(np.asarray(degrade(page, Degradation(), 1)), np.asarray(page))


def test_same_seed_same_pixels_other_seed_other_noise(page: Image.Image) -> None:
    d = draw_degradation("harsh", np.random.default_rng(2), dpi=100)
    a, b, c = degrade(page, d, 7), degrade(page, d, 7), degrade(page, d, 8)
    assert np.array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(c))
    assert draw_degradation("scan", np.random.default_rng(3)) == draw_degradation("scan", np.random.default_rng(3))


@pytest.mark.parametrize("angle", [2.0, -1.2, 0.6])
def test_skew_turns_the_content_by_the_angle(page: Image.Image, angle: float) -> None:
    assert abs(estimate_skew(page)) < 0.1
    skewed = degrade(page, Degradation(skew_deg=angle), 0)
    assert estimate_skew(skewed) == pytest.approx(angle, abs=0.15)
    assert skewed.size == page.size


def test_skew_fill_grey_shows_in_the_corners(page: Image.Image) -> None:
    grey = _arr(degrade(page, Degradation(skew_deg=3.0, skew_fill="grey"), 0))
    white = _arr(degrade(page, Degradation(skew_deg=3.0), 0))
    assert grey[0, 0] == pytest.approx(128, abs=2) and white[0, 0] == 255


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_is_a_quarter_turn_of_the_same_scan(page: Image.Image, rotation: int) -> None:
    base = Degradation(noise_sigma=4.0, skew_deg=0.7)
    turned = degrade(page, Degradation(noise_sigma=4.0, skew_deg=0.7, rotate=rotation), 3)  # type: ignore[arg-type]
    expected = np.rot90(np.asarray(degrade(page, base, 3)), rotation // 90)
    assert np.array_equal(np.asarray(turned), expected)


def test_noise_and_paper_tone_have_the_asked_size() -> None:
    flat = Image.new("RGB", (400, 400), (200, 200, 200))
    out = _arr(degrade(flat, Degradation(noise_sigma=6.0), 1))
    assert out.std() == pytest.approx(6.0, rel=0.1) and out.mean() == pytest.approx(200, abs=0.5)
    white = Image.new("RGB", (100, 100), (255, 255, 255))
    toned = _arr(degrade(white, Degradation(paper=(240, 229, 196)), 1))
    assert tuple(toned.reshape(-1, 3).mean(axis=0).round()) == (240, 229, 196)
    grey = _arr(degrade(white.convert("L"), Degradation(paper=(234, 233, 229)), 1))
    assert grey.mean() == pytest.approx(233, abs=1)


def test_blur_softens_edges(page: Image.Image) -> None:
    def sharpness(im: Image.Image) -> float:
        return float(cv2.Laplacian(np.asarray(im), cv2.CV_64F).var())

    assert sharpness(degrade(page, Degradation(blur_sigma=1.5), 0)) < 0.5 * sharpness(page)


def test_border_is_black_on_the_named_edges_only(page: Image.Image) -> None:
    out = _arr(degrade(page, Degradation(border_px=25, border_edges="lt"), 0))
    assert out[:, :25].max() <= 30 and out[:25, :].max() <= 30
    assert out[100:-100, -25:].mean() > 240 and out[-25:, 100:-100].mean() > 240


def test_jpeg_artefacts_change_pixels_a_little(page: Image.Image) -> None:
    out = _arr(degrade(page, Degradation(jpeg_quality=40), 0))
    diff = np.abs(out - _arr(page))
    assert diff.max() > 20 and diff.mean() < 5


def test_blank_page_with_specks_and_bleed_through(page: Image.Image) -> None:
    blank = _arr(degrade(page, Degradation(blank=True, paper=(236, 236, 232)), 0))
    assert blank.std() < 0.5
    specks = _arr(degrade(page, Degradation(blank=True, specks=12), 0))
    dark = specks < 128
    assert 0 < dark.mean() < 0.001
    bleed = degrade(page, Degradation(blank=True, bleed_through=0.1), 0)
    values = _arr(bleed)
    assert values.min() > 200 and values.std() > 1.0  # faint, but there
    mirrored = np.asarray(page)[:, ::-1] < 128
    assert values[mirrored].mean() < values[~mirrored].mean() - 5  # it is the back side, mirrored


def test_wrong_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="L or RGB"):
        degrade(Image.new("1", (10, 10)), Degradation(), 0)
    with pytest.raises(ValueError, match="profile"):
        draw_degradation("weird", np.random.default_rng(0))  # type: ignore[arg-type]
