"""Turn medgauge chat messages into what a Hugging Face chat template and processor take.

Image parts ``{"type": "image", "image": ImageRef}`` become ``{"type": "image"}`` markers in the
template's messages (the processor expands each marker into the model's image tokens) and the
decoded PIL images are returned in the same order.  For a text-only model, content becomes a
plain string; any image part is an error there.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from medgauge.types import ImageRef, MedgaugeError, Message

if TYPE_CHECKING:
    from PIL.Image import Image


@dataclass
class ChatInput:
    messages: list[dict[str, Any]]
    images: list[ImageRef]


def to_chat(messages: list[Message], *, multimodal: bool, model: str) -> ChatInput:
    out: list[dict[str, Any]] = []
    images: list[ImageRef] = []
    for i, m in enumerate(messages):
        role = m.get("role")
        if not isinstance(role, str):
            raise MedgaugeError(f"hf: message {i} has no role")
        content = m.get("content")
        if content is None:
            content = ""
        if isinstance(content, str):
            parts: list[dict[str, Any]] = [{"type": "text", "text": content}]
        elif isinstance(content, list):
            parts = []
            for j, p in enumerate(content):
                kind = p.get("type")
                if kind == "text":
                    parts.append({"type": "text", "text": str(p.get("text", ""))})
                elif kind == "image":
                    ref = p.get("image")
                    if not isinstance(ref, ImageRef):
                        raise MedgaugeError(f"hf: message {i} part {j} image is not an ImageRef")
                    images.append(ref)
                    parts.append({"type": "image"})
                else:
                    raise MedgaugeError(f"hf: message {i} part {j} has unknown type {kind!r}")
        else:
            raise MedgaugeError(f"hf: message {i} content must be a string or a list of parts")
        if multimodal:
            out.append({"role": role, "content": parts})
        else:
            if any(p["type"] == "image" for p in parts):
                raise MedgaugeError(
                    f"hf model {model} is text-only (no image processor) but the request has "
                    f"{sum(p['type'] == 'image' for p in parts)} image(s) in message {i}; "
                    "use a vision-language checkpoint or a text benchmark"
                )
            out.append({"role": role, "content": "\n".join(p["text"] for p in parts)})
    return ChatInput(out, images)


def load_image(ref: ImageRef, max_side: int | None = None, min_side: int | None = None) -> Image:
    """Decode to RGB; shrink (keeping the aspect ratio) so the longer side is <= ``max_side``.

    ``min_side``: the processor's input size.  A JPEG is then decoded at the smallest power-of-two
    reduction that stays at least that large on both sides (PIL's draft mode), which is much
    cheaper than decoding a large radiograph and resizing it down afterwards."""
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    from medgauge.images import to_rgb

    data = ref.read_bytes()
    try:
        with PILImage.open(io.BytesIO(data)) as im:
            if min_side and im.format == "JPEG":
                im.draft("RGB", (min_side, min_side))
            im.load()
            img = to_rgb(im)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise MedgaugeError(f"hf: cannot decode image {ref.path}: {reason}") from None
    if max_side and max(img.size) > max_side:
        scale = max_side / max(img.size)
        size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(size, PILImage.Resampling.BICUBIC)
    return img
