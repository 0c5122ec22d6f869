"""Image corruptions for the ``perturb`` probe (Pillow + numpy, deterministic bytes).

Severity tables follow ImageNet-C (Hendrycks & Dietterich 2019, "Benchmarking Neural Network
Robustness to Common Corruptions and Perturbations", ICLR), scaled to 0-255 pixels:

- ``gaussian_noise``: additive N(0, sigma), sigma = (0.08, 0.12, 0.18, 0.26, 0.38) x 255
- ``blur``: Gaussian blur, radius (1, 2, 3, 4, 6)
- ``jpeg``: JPEG re-encoding at quality (25, 18, 15, 10, 7); the JPEG bytes are what is sent
- ``downscale``: shrink by (0.6, 0.5, 0.4, 0.3, 0.25) with a box filter, enlarge back bilinearly
- ``contrast``: ``(x - mean) * c + mean`` with c = (0.4, 0.3, 0.2, 0.1, 0.05)
- ``region_noise``: MMedPO lesion-region noising (aiming-lab/MMedPO, PROTOCOLS.md section 14):
  pixels inside a box or mask are *replaced* by N(0, 10) noise clipped to [0, 255]; severity 5 is
  that recipe, severities 1-4 blend it in with weight severity/5 [I].

Noise comes from ``numpy.random.default_rng(seed)`` and images are written as PNG (or JPEG for
``jpeg``) with fixed settings, so the same seed gives the same bytes and the same cache key.
An RGB image whose channels agree (a grey radiograph saved as RGB) is corrupted as greyscale.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import numpy as np

from medgauge.types import ImageRef, MedgaugeError

CORRUPTIONS = ("gaussian_noise", "blur", "jpeg", "downscale", "contrast", "region_noise")
NOISE_SIGMA = (0.08, 0.12, 0.18, 0.26, 0.38)
BLUR_RADIUS = (1, 2, 3, 4, 6)
JPEG_QUALITY = (25, 18, 15, 10, 7)
DOWNSCALE = (0.6, 0.5, 0.4, 0.3, 0.25)
CONTRAST = (0.4, 0.3, 0.2, 0.1, 0.05)
REGION_NOISE_STD = 10.0  # MMedPO: N(0, 10)

GREY_TOLERANCE = 3  # JPEG chroma noise on a grey image stays within a few levels

Box = tuple[float, float, float, float]


def _open(ref: ImageRef, max_side: int | None) -> object:
    from PIL import Image, UnidentifiedImageError

    from medgauge.images import to_rgb

    try:
        img = Image.open(io.BytesIO(ref.read_bytes()))
        img.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise MedgaugeError(f"corrupt image {ref.path}: {exc}") from None
    if img.mode not in ("L", "RGB"):
        img = to_rgb(img)  # alpha over white, 16-bit windowed to its range
    if img.mode == "RGB":  # grey pictures stored as RGB (most radiology JPEGs) get grey noise
        a = np.asarray(img, dtype=np.int16)
        if int(np.abs(a - a[..., :1]).max()) <= GREY_TOLERANCE:
            img = img.convert("L")
    if max_side is not None and max(img.size) > max_side:
        scale = max_side / max(img.size)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                         Image.Resampling.LANCZOS)
    return img


def _png(img: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=6)  # type: ignore[attr-defined]
    return buf.getvalue()


def region_mask(shape: tuple[int, int], box: Box | None, mask: str | None) -> np.ndarray:
    """Boolean (h, w) mask from a box ``[x0, y0, x1, y1]`` (pixels, or fractions when all are
    <= 1) or from a mask image file (non-zero = region, resized to the image)."""
    h, w = shape
    if mask is not None:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(mask) as m:
                arr = np.asarray(m.convert("L").resize((w, h), Image.Resampling.NEAREST))
        except (FileNotFoundError, UnidentifiedImageError, OSError) as exc:
            raise MedgaugeError(f"cannot read mask {mask}: {exc}") from None
        return arr > 0
    if box is None:
        raise MedgaugeError("region_noise needs a box or a mask")
    x0, y0, x1, y1 = (float(v) for v in box)
    if max(abs(x0), abs(y0), abs(x1), abs(y1)) <= 1.0:
        x0, x1, y0, y1 = x0 * w, x1 * w, y0 * h, y1 * h
    out = np.zeros((h, w), dtype=bool)
    out[max(0, round(y0)):max(0, round(y1)), max(0, round(x0)):max(0, round(x1))] = True
    return out


def corrupt_bytes(ref: ImageRef, corruption: str, severity: int, seed: int, *,
                  max_side: int | None = None, box: Box | None = None,
                  mask: str | None = None) -> bytes:
    """The corrupted image as PNG (JPEG for ``jpeg``) bytes."""
    from PIL import Image, ImageFilter

    if corruption not in CORRUPTIONS:
        raise MedgaugeError(f"unknown corruption {corruption!r} (known: {', '.join(CORRUPTIONS)})")
    if not 1 <= severity <= 5:
        raise MedgaugeError(f"severity must be 1 to 5, got {severity}")
    s = severity - 1
    img = _open(ref, max_side)
    if corruption == "blur":
        return _png(img.filter(ImageFilter.GaussianBlur(BLUR_RADIUS[s])))  # type: ignore[attr-defined]
    if corruption == "jpeg":
        buf = io.BytesIO()
        img.save(buf, format="JPEG", quality=JPEG_QUALITY[s])  # type: ignore[attr-defined]
        return buf.getvalue()
    if corruption == "downscale":
        w, h = img.size  # type: ignore[attr-defined]
        small = img.resize((max(1, round(w * DOWNSCALE[s])), max(1, round(h * DOWNSCALE[s]))),  # type: ignore[attr-defined]
                           Image.Resampling.BOX)
        return _png(small.resize((w, h), Image.Resampling.BILINEAR))
    x = np.asarray(img, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if corruption == "gaussian_noise":
        x = x + rng.normal(0.0, NOISE_SIGMA[s] * 255.0, size=x.shape)
    elif corruption == "contrast":
        mean = x.mean(axis=(0, 1), keepdims=True)
        x = (x - mean) * CONTRAST[s] + mean
    else:  # region_noise
        region = region_mask(x.shape[:2], box, mask)
        noise = rng.normal(0.0, REGION_NOISE_STD, size=x.shape)
        weight = severity / 5.0
        x = np.where(region[..., None] if x.ndim == 3 else region,
                     (1 - weight) * x + weight * noise, x)
    out = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return _png(Image.fromarray(out))


def corrupted_ref(ref: ImageRef, corruption: str, severity: int, seed: int, **kw: object
                  ) -> ImageRef:
    """``ImageRef(path=f"{orig}#{corruption}@{severity}", b64=...)`` for a request."""
    data = corrupt_bytes(ref, corruption, severity, seed, **kw)  # type: ignore[arg-type]
    return ImageRef(path=f"{ref.path}#{corruption}@{severity}",
                    b64=base64.b64encode(data).decode("ascii"), role=ref.role)


def parse_box(value: object, where: str) -> Box | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, Sequence) or len(value) != 4:
        raise MedgaugeError(f"{where}: a box is [x0, y0, x1, y1], got {value!r}")
    try:
        x0, y0, x1, y1 = (float(v) for v in value)
    except (TypeError, ValueError):
        raise MedgaugeError(f"{where}: a box is four numbers, got {value!r}") from None
    if x1 <= x0 or y1 <= y0:
        raise MedgaugeError(f"{where}: box {value!r} is empty (need x0 < x1 and y0 < y1)")
    return (x0, y0, x1, y1)
