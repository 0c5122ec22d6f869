"""Image bytes for requests: format sniffing, optional downscaling, data URLs.

Images are read only when a request is sent.  An unreadable or unrecognised image is a
``MedgaugeError`` naming the file, never a silent empty request.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from medgauge.types import ImageRef, MedgaugeError

#: PIL modes holding more than 8 bits per pixel (greyscale): rescaled, never clipped at 255.
_WIDE_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


def sniff_mime(data: bytes) -> str | None:
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_bytes(ref: ImageRef, max_side: int | None = None) -> tuple[bytes, str]:
    """(bytes, mime type); downscaled so the longer side is at most ``max_side``, keeping the
    original format where it is one servers accept (JPEG, PNG, WebP, GIF), PNG otherwise."""
    data = ref.read_bytes()
    mime = sniff_mime(data)
    if mime is None:
        raise MedgaugeError(f"corrupt or unsupported image: {ref.path}")
    if max_side is None:
        return data, mime
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            if max(img.size) <= max_side:
                return data, mime
            fmt = img.format if img.format in ("JPEG", "PNG", "WEBP", "GIF") else "PNG"
            scale = max_side / max(img.size)
            size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
            resized = img.convert("RGB" if fmt == "JPEG" else img.mode).resize(
                size, Image.Resampling.LANCZOS)
            buf = io.BytesIO()
            resized.save(buf, format=fmt)
    except (UnidentifiedImageError, OSError) as exc:
        raise MedgaugeError(f"corrupt image {ref.path}: {exc}") from None
    return buf.getvalue(), f"image/{fmt.lower()}"


def data_url(ref: ImageRef, max_side: int | None = None) -> str:
    data, mime = image_bytes(ref, max_side)
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def to_rgb(img: Any) -> Any:
    """A PIL image as 8-bit RGB, the one decoder every pixel consumer uses (``hf:`` inputs,
    the corruption probe, report thumbnails).

    - Transparency (RGBA, LA, PA, or a palette/greyscale image with a transparent colour) is
      composited over white, so a black figure on a transparent background stays visible
      (a bare ``convert("RGB")`` drops alpha and leaves black on black).
    - Greyscale deeper than 8 bits (``I;16`` radiographs, ``I``, ``F``) is windowed to the
      image's own range [min, max] and rescaled to 0..255, instead of being clipped at 255.
    """
    from PIL import Image

    if img.mode in _WIDE_MODES:
        import numpy as np

        arr = np.asarray(img, dtype=np.float64)
        finite = arr[np.isfinite(arr)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
        scaled = np.zeros(arr.shape) if hi <= lo else (np.nan_to_num(arr, nan=lo) - lo) / (hi - lo)
        grey = Image.fromarray(np.clip(scaled * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
        return grey.convert("RGB")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")
