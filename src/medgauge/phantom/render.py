"""Draw a ``Case`` as an 8-bit grayscale "chest CT-like" axial slice (numpy only).

Shapes have a one-pixel anti-aliased edge; noise is additive Gaussian from the case's own seed,
so two cases that differ only in their nodules share every noise value (prior/current pairs,
confusion twins).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from medgauge.phantom.spec import Case, lung_centre


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    coords = np.arange(size, dtype=np.float32) + 0.5
    return coords[:, None], coords[None, :]  # yy (column vector), xx (row vector)


def _ellipse(yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, ry: float,
             rx: float) -> np.ndarray:
    """Soft mask in [0, 1]: about 1 inside, 0 outside, a one-pixel ramp at the edge."""
    d = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)
    return np.clip((1.0 - d) * min(rx, ry) + 0.5, 0.0, 1.0)


def _paint(img: np.ndarray, mask: np.ndarray, value: float) -> None:
    img += mask * (value - img)


def render_clean(case: Case, size: int) -> np.ndarray:
    """The noise-free image as float32 grey levels."""
    a = case.anatomy
    yy, xx = _grid(size)
    c = size / 2
    img = np.zeros((size, size), dtype=np.float32)
    _paint(img, _ellipse(yy, xx, c, c, a.body_ry * size, a.body_rx * size), a.tissue)
    _paint(img, _ellipse(yy, xx, a.lung_cy * size - 0.01 * size, c, a.med_ry * size,
                         a.med_rx * size), a.mediastinum)
    for side in ("right", "left"):
        cx, cy = lung_centre(a, side, size)
        _paint(img, _ellipse(yy, xx, cy, cx, a.lung_ry * size, a.lung_rx * size), a.lung)
    spine_r = a.spine_r * size
    _paint(img, _ellipse(yy, xx, a.spine_cy * size, c, spine_r, spine_r), a.bone)
    canal_r = 0.4 * spine_r
    canal_cy = a.spine_cy * size + spine_r + canal_r * 0.6
    _paint(img, _ellipse(yy, xx, canal_cy, c, canal_r, canal_r), a.tissue)
    for n in case.nodules:
        _paint(img, _ellipse(yy, xx, n.y, n.x, n.radius, n.radius), a.lung + case.contrast)
    return img


def render(case: Case, size: int) -> np.ndarray:
    """The final uint8 image: clean phantom plus Gaussian noise, rounded and clipped."""
    img = render_clean(case, size)
    if case.noise > 0:
        noise = np.random.default_rng(case.noise_seed).standard_normal((size, size))
        img += (noise * case.noise).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def save_png(pixels: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(pixels).save(path, format="PNG", optimize=False)
