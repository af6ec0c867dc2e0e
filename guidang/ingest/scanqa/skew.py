"""Skew angle by projection profiles of the ink, searched coarse then fine.

The ink pixels are projected on a line at each candidate angle; text lines give the
sharpest profile (largest sum of squared bin counts) when the angle matches their slant.
Points are rotated instead of the image, so each angle costs one ``bincount``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

MAX_POINTS = 25_000


@dataclass(frozen=True)
class Skew:
    angle: float  # degrees, positive = content turned counter-clockwise as displayed
    sharpness: float  # profile score at the angle / mean over the searched angles (1 = no text lines)
    row_score: float  # normalised sharpness of the line profile at the angle
    column_score: float  # the same, perpendicular to it (lines running the other way score higher)


def ink_points(ink: NDArray[np.bool_], max_points: int = MAX_POINTS) -> NDArray[np.float64]:
    """(N, 2) array of (x, y) ink coordinates, deterministically thinned to ``max_points``."""
    found = cv2.findNonZero(ink.view(np.uint8))
    if found is None:
        return np.empty((0, 2), np.float64)
    xy = np.asarray(found).reshape(-1, 2)
    xs, ys = xy[:, 0], xy[:, 1]
    if xs.size > max_points:
        step = xs.size / max_points
        idx = (np.arange(max_points) * step).astype(np.int64)
        xs, ys = xs[idx], ys[idx]
    return np.column_stack((xs, ys)).astype(np.float64)


def profile_score(points: NDArray[np.float64], degrees: float) -> float:
    """Sum of squared counts of the projection at ``degrees`` divided by the uniform value."""
    if len(points) == 0:
        return 0.0
    t = np.deg2rad(degrees)
    r = points[:, 1] * np.cos(t) + points[:, 0] * np.sin(t)
    r = np.floor(r - r.min()).astype(np.int64)
    counts = np.bincount(r)
    n = float(len(points))
    return float(np.dot(counts, counts)) * len(counts) / (n * n)


def measure_skew(points: NDArray[np.float64], search: float) -> Skew:
    if len(points) < 50:
        return Skew(angle=0.0, sharpness=1.0, row_score=0.0, column_score=0.0)
    # text lines run either way (a page may lie sideways): search around 0 and around 90 degrees
    near = np.arange(-search, search + 1e-9, 1.0)
    coarse = np.concatenate((near, near + 90.0))
    scores = np.array([profile_score(points, a) for a in coarse])
    best = float(coarse[int(np.argmax(scores))])
    for step, span in ((0.25, 1.0), (0.05, 0.25)):  # refine around the best angle
        around = np.arange(best - span, best + span + 1e-9, step)
        fscores = np.array([profile_score(points, a) for a in around])
        i = int(np.argmax(fscores))
        best = float(around[i])
    angle = best
    if 0 < i < len(around) - 1:  # parabolic refinement between the neighbours
        a, b, c = fscores[i - 1], fscores[i], fscores[i + 1]
        denom = a - 2 * b + c
        if denom < 0:
            angle += 0.05 * 0.5 * (a - c) / denom
    if angle >= 45.0:  # lines run vertically: the skew is the deviation from 90 degrees
        angle -= 90.0
    at_edge = abs(angle) > search - 0.5  # the sharpest profile lies outside the search: no text lines
    row = profile_score(points, angle)
    column = profile_score(points, angle + 90.0)
    return Skew(
        angle=round(float(angle), 3),
        sharpness=1.0 if at_edge else float(fscores[i] / max(float(scores.mean()), 1e-9)),
        row_score=row,
        column_score=column,
    )
