"""What one phantom image holds: anatomy, nodules, contrast and noise (no pixels here).

Geometry is in pixels on a ``size`` x ``size`` grid whose pixel centres sit at ``i + 0.5``, so the
image is exactly symmetric about ``size / 2``.  Radiological convention: the patient's right lung
is drawn on the viewer's LEFT (x < size / 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

Side = Literal["right", "left"]

#: Nodule radius range in pixels at the reference size of 256 (scaled with the image size).
RADIUS_RANGE = (3.0, 20.0)
#: Nodule contrast above the lung background, in grey levels (0-255).
CONTRAST_RANGE = (20.0, 100.0)
#: Standard deviation of the additive Gaussian noise, in grey levels.
NOISE_RANGE = (3.0, 20.0)
REFERENCE_SIZE = 256


@dataclass(frozen=True)
class Anatomy:
    """Fractions of the image size for shapes, grey levels for intensities."""

    body_rx: float
    body_ry: float
    lung_dx: float  # horizontal offset of each lung centre from the midline
    lung_cy: float
    lung_rx: float
    lung_ry: float
    med_rx: float
    med_ry: float
    spine_cy: float
    spine_r: float
    tissue: float
    lung: float
    mediastinum: float
    bone: float


@dataclass(frozen=True)
class Nodule:
    side: Side
    x: float
    y: float
    radius: float


@dataclass(frozen=True)
class Case:
    """One image: anatomy, nodules, one contrast for all nodules, noise level and noise seed."""

    anatomy: Anatomy
    nodules: tuple[Nodule, ...]
    contrast: float
    noise: float
    noise_seed: int

    def with_nodules(self, nodules: tuple[Nodule, ...]) -> Case:
        return replace(self, nodules=nodules)


def scale(size: int) -> float:
    return size / REFERENCE_SIZE


def sample_anatomy(rng: np.random.Generator) -> Anatomy:
    def jitter(value: float, rel: float) -> float:
        return value * (1.0 + rng.uniform(-rel, rel))

    return Anatomy(
        body_rx=jitter(0.45, 0.03),
        body_ry=jitter(0.34, 0.05),
        lung_dx=jitter(0.21, 0.03),
        lung_cy=jitter(0.46, 0.02),
        lung_rx=jitter(0.14, 0.04),
        lung_ry=jitter(0.23, 0.05),
        med_rx=jitter(0.065, 0.08),
        med_ry=jitter(0.15, 0.08),
        spine_cy=jitter(0.72, 0.01),
        spine_r=jitter(0.045, 0.08),
        tissue=110.0 + rng.uniform(-6, 6),
        lung=30.0 + rng.uniform(-5, 5),
        mediastinum=135.0 + rng.uniform(-6, 6),
        bone=225.0 + rng.uniform(-8, 8),
    )


def lung_centre(anatomy: Anatomy, side: Side, size: int) -> tuple[float, float]:
    offset = -anatomy.lung_dx if side == "right" else anatomy.lung_dx
    return size * (0.5 + offset), size * anatomy.lung_cy


def side_of(x: float, size: int) -> Side:
    """Which lung an x position belongs to (radiological convention)."""
    return "right" if x < size / 2 else "left"


def fits_in_lung(anatomy: Anatomy, side: Side, x: float, y: float, r: float, size: int,
                 margin: float = 1.5) -> bool:
    """Whether a disc of radius ``r + margin`` at (x, y) lies inside the lung ellipse."""
    cx, cy = lung_centre(anatomy, side, size)
    rx, ry = anatomy.lung_rx * size, anatomy.lung_ry * size
    for k in range(24):
        t = 2 * math.pi * k / 24
        px = x + (r + margin) * math.cos(t)
        py = y + (r + margin) * math.sin(t)
        if ((px - cx) / rx) ** 2 + ((py - cy) / ry) ** 2 > 1.0:
            return False
    return True


def place_nodule(rng: np.random.Generator, anatomy: Anatomy, side: Side, radius: float,
                 others: tuple[Nodule, ...], size: int) -> Nodule:
    """A nodule fully inside the lung and apart from ``others``; shrinks it if it cannot fit."""
    cx, cy = lung_centre(anatomy, side, size)
    r = radius
    for _attempt in range(8):
        ax = max(anatomy.lung_rx * size - r - 1.5, 0.5)
        ay = max(anatomy.lung_ry * size - r - 1.5, 0.5)
        for _ in range(60):
            t = rng.uniform(0, 2 * math.pi)
            rho = math.sqrt(rng.uniform(0, 1))
            x, y = cx + ax * rho * math.cos(t), cy + ay * rho * math.sin(t)
            if not fits_in_lung(anatomy, side, x, y, r, size):
                continue
            if all(math.hypot(x - o.x, y - o.y) > r + o.radius + 4 for o in others):
                return Nodule(side, round(x, 2), round(y, 2), round(r, 2))
        r *= 0.8
    raise RuntimeError("cannot place a nodule; the image size is too small")  # pragma: no cover


def separate_largest(radii: list[float], size: int) -> list[float]:
    """Sort radii descending and make the largest clearly larger than the runner-up (no ties)."""
    radii = sorted(radii, reverse=True)
    if len(radii) < 2:
        return radii
    lo, hi = (v * scale(size) for v in RADIUS_RANGE)
    gap = max(2.0 * scale(size), 0.25 * radii[1])
    if radii[0] - radii[1] < gap:
        if radii[1] + gap <= hi:
            radii[0] = radii[1] + gap
        else:
            radii[1] = max(lo, radii[0] - gap)
            radii[0] = max(radii[0], radii[1] + gap)
    for i in range(2, len(radii)):
        radii[i] = min(radii[i], radii[1])
    return radii


def sample_radius(rng: np.random.Generator, size: int, lo: float | None = None,
                  hi: float | None = None) -> float:
    s = scale(size)
    lo = RADIUS_RANGE[0] * s if lo is None else lo
    hi = RADIUS_RANGE[1] * s if hi is None else hi
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))  # log-uniform: many small


def sample_case(rng: np.random.Generator, sides: list[Side], size: int,
                radii: list[float] | None = None) -> Case:
    """A case with one nodule per entry of ``sides`` (the first is the largest) and random
    anatomy, contrast and noise.  ``radii`` overrides the random radii (same order as sides)."""
    anatomy = sample_anatomy(rng)
    if radii is None:
        radii = separate_largest([sample_radius(rng, size) for _ in sides], size)
    nodules: tuple[Nodule, ...] = ()
    for side, r in zip(sides, radii, strict=True):
        nodules += (place_nodule(rng, anatomy, side, r, nodules, size),)
    return Case(
        anatomy=anatomy,
        nodules=nodules,
        contrast=round(float(rng.uniform(*CONTRAST_RANGE)), 1),
        noise=round(float(rng.uniform(*NOISE_RANGE)), 1),
        noise_seed=int(rng.integers(0, 2**31 - 1)),
    )
