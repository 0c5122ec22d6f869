"""Image bytes for requests: format sniffing, optional downscaling, data URLs.

Images are read only when a request is sent.  An unreadable or unrecognised image is a
``MedgaugeError`` naming the file, never a silent empty request.
"""

from __future__ import annotations

import base64
import io

from medgauge.types import ImageRef, MedgaugeError

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
